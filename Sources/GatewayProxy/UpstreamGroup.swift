public import GatewayConfig
public import GatewayTLS
public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import Foundation
import Synchronization

/// One configured upstream, compiled: its targets and settings, and one
/// `UpstreamPool` per event loop that has proxied to it.
///
/// Built once per configuration, off the event loops. A reload builds a new
/// `GatewayState`; `UpstreamGroups.compile(_:reusing:)` hands it the groups of
/// the previous state whose configuration did not change, so their warm
/// connections carry over. An upstream whose configuration changed gets a new
/// group that refers to the old one until `activate`: each of its pools, made on
/// a loop where the old group has one, adopts that pool's idle connections to
/// targets it keeps (`UpstreamPool.adoptIdle(from:)`). A group nobody uses any
/// more retires its pools: idle connections close, busy ones close when their
/// request is done.
public final class UpstreamGroup: Sendable {
    public let configuration: UpstreamConfiguration
    public var name: String { self.configuration.name }
    let targets: [UpstreamTarget]
    /// The TLS client context of an `https` upstream, built once with the group.
    let tlsContext: TLSClientContext?
    /// A hash of the bytes of `tls.ca_file` when the context was built: a reload with the
    /// same configuration but a rewritten CA file builds a new group (and context).
    let trustRootsFingerprint: Int?
    private let pools = NIOLockedValueBox<[ObjectIdentifier: NIOLoopBound<UpstreamPool>]>([:])
    /// Connections open over all loops, so `deinit` only asks loops to retire
    /// pools that hold some (after shutdown the loops are gone and none are open).
    private let openConnections = OpenConnectionCount()
    /// Which targets are in rotation, shared by the pools and the health checker.
    let health: UpstreamHealth
    /// The active checker while the group serves (`activate`), if it has `health_check`.
    private let checker = Mutex<HealthChecker?>(nil)
    private let active = Atomic<Bool>(false)
    /// The group this one replaces (same name, changed configuration, same
    /// scheme), until `activate` has had this group's pools adopt its idle connections.
    private let predecessor: Mutex<UpstreamGroup?>

    /// `previous` is the group of the same upstream in the configuration being
    /// replaced, when its configuration differs: its warm connections to targets
    /// kept are adopted.
    public init(
        configuration: UpstreamConfiguration, replacing previous: UpstreamGroup? = nil,
        tlsContext: TLSClientContext? = nil, trustRootsFingerprint: Int? = nil
    ) {
        self.configuration = configuration
        self.tlsContext = tlsContext
        self.trustRootsFingerprint = trustRootsFingerprint
        // Idle connections carry over only with the same scheme, TLS settings and CA file
        // bytes: a connection verified against a CA no longer trusted is not kept.
        if let previous, previous.configuration.scheme == configuration.scheme,
            previous.configuration.tls == configuration.tls, previous.trustRootsFingerprint == trustRootsFingerprint
        {
            // One generation only: what `previous` had not adopted yet stays with it.
            previous.predecessor.withLock { $0 = nil }
            self.predecessor = Mutex(previous)
        } else {
            self.predecessor = Mutex(nil)
        }
        self.targets = configuration.targets.map(UpstreamTarget.init)
        self.health = UpstreamHealth(
            targetCount: configuration.targets.count, outlierDetection: configuration.outlierDetection)
    }

    /// The group starts serving: its `target_healthy` series follow its targets,
    /// and its health checker (one per group, on one loop of `eventLoopGroup`)
    /// starts. Idempotent: a group kept by a reload is already active.
    public func activate(eventLoopGroup: any EventLoopGroup, metrics: any UpstreamMetricsSource, logger: Logger) {
        guard self.active.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        self.adoptPredecessorConnections(metrics: metrics)
        self.health.attach(
            gauges: self.targets.map { metrics.upstreamTargetHealthy(upstream: self.name, target: $0.label) })
        guard let healthCheck = self.configuration.healthCheck else { return }
        let checker = HealthChecker(
            upstream: self.name, configuration: healthCheck, connectTimeout: self.configuration.connectTimeout, targets: self.targets,
            health: self.health, eventLoop: eventLoopGroup.next(), logger: logger, tlsContext: self.tlsContext,
            tlsServerName: self.configuration.tls?.serverName)
        self.checker.withLock { $0 = checker }
        checker.start()
    }

    /// The group stopped serving (a reload replaced it, or shutdown): its checker
    /// stops and it no longer writes its series, which a new group may own now.
    /// Requests still running on it keep their pools.
    public func deactivate() {
        guard self.active.compareExchange(expected: true, desired: false, ordering: .relaxed).exchanged else { return }
        self.health.detach()
        self.checker.withLock { checker in
            checker?.stop()
            checker = nil
        }
    }

    /// Makes this group's pool on every loop where the group it replaces has one
    /// (each adopts there), then lets the old group go, so it retires as before.
    private func adoptPredecessorConnections(metrics: any UpstreamMetricsSource) {
        guard let previous = self.predecessor.withLock({ $0 }) else { return }
        let loops = previous.pools.withLockedValue { $0.values.map(\.eventLoop) }
        guard let first = loops.first else {
            self.predecessor.withLock { $0 = nil }
            return
        }
        let adopted = loops.map { loop in
            loop.submit { _ = self.pool(on: loop, metrics: metrics) }
        }
        EventLoopFuture.andAllComplete(adopted, on: first).whenComplete { _ in
            self.predecessor.withLock { $0 = nil }
        }
    }

    /// This loop's pool, made on first use. Takes a lock, so callers keep the
    /// result (per connection, see `GatewayHTTPHandler`) instead of asking per request.
    ///
    /// Must be called on `eventLoop`.
    public func pool(on eventLoop: any EventLoop, metrics: any UpstreamMetricsSource) -> UpstreamPool {
        eventLoop.preconditionInEventLoop()
        let key = ObjectIdentifier(eventLoop)
        let (pool, made) = self.pools.withLockedValue { pools in
            if let existing = pools[key] { return (existing.value, false) }
            let pool = UpstreamPool(
                configuration: self.configuration, targets: self.targets, eventLoop: eventLoop, metrics: metrics,
                openConnections: self.openConnections, health: self.health, tlsContext: self.tlsContext)
            pools[key] = NIOLoopBound(pool, eventLoop: eventLoop)
            return (pool, true)
        }
        // Outside the lock: only this loop can use the pool, and it is busy here.
        if made, let previous = self.predecessor.withLock({ $0 }), let old = previous.existingPool(on: eventLoop) {
            pool.adoptIdle(from: old)
        }
        return pool
    }

    /// The group whose idle connections this one's pools still adopt, if any.
    var replacedGroup: UpstreamGroup? { self.predecessor.withLock { $0 } }

    /// This loop's pool if one was made. Must be called on `eventLoop`.
    func existingPool(on eventLoop: any EventLoop) -> UpstreamPool? {
        self.pools.withLockedValue { $0[ObjectIdentifier(eventLoop)]?.value }
    }

    deinit {
        self.checker.withLock { $0?.stop() }
        guard self.openConnections.value.load(ordering: .relaxed) > 0 else { return }
        for bound in self.pools.withLockedValue({ Array($0.values) }) {
            bound.eventLoop.execute { bound.value.retire() }
        }
    }
}

/// The upstream groups of one configuration, by name.
public struct UpstreamGroups: Sendable {
    public let byName: [String: UpstreamGroup]

    /// Compiles `configurations`; an upstream whose configuration equals one in
    /// `previous` keeps that group (and its pools and connections); one whose
    /// configuration changed gets a new group that adopts the old group's idle
    /// connections to targets it keeps.
    ///
    /// An `https` upstream's TLS client context is built here (it reads the CA
    /// file); one that cannot be built fails the whole compilation.
    public static func compile(_ configurations: [UpstreamConfiguration], reusing previous: UpstreamGroups? = nil)
        throws(UpstreamCompileError) -> UpstreamGroups
    {
        var byName: [String: UpstreamGroup] = [:]
        var problems: [UpstreamCompileError.Problem] = []
        for configuration in configurations {
            let fingerprint = Self.fingerprint(ofCAFile: configuration)
            if let old = previous?.byName[configuration.name], old.configuration == configuration,
                old.trustRootsFingerprint == fingerprint
            {
                byName[configuration.name] = old
                continue
            }
            var tlsContext: TLSClientContext?
            if configuration.scheme == .https {
                let tls = configuration.tls ?? UpstreamTLSConfiguration()
                do {
                    tlsContext = try TLSClientContext(
                        trustRootsPath: tls.caFile, verifyPeer: tls.verify, applicationProtocols: ["http/1.1"],
                        handshakeTimeout: TimeAmount(configuration.connectTimeout))
                } catch {
                    problems.append(.init(upstream: configuration.name, message: "\(error)"))
                    continue
                }
            }
            byName[configuration.name] = UpstreamGroup(
                configuration: configuration, replacing: previous?.byName[configuration.name], tlsContext: tlsContext,
                trustRootsFingerprint: fingerprint)
        }
        guard problems.isEmpty else { throw UpstreamCompileError(problems: problems) }
        return UpstreamGroups(byName: byName)
    }

    /// A hash of every byte of an `https` upstream's `tls.ca_file` (nil without one; a
    /// file that cannot be read hashes as such, and building the context reports it).
    private static func fingerprint(ofCAFile configuration: UpstreamConfiguration) -> Int? {
        guard configuration.scheme == .https, let path = configuration.tls?.caFile else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { return -1 }
        var hasher = Hasher()
        data.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }

    /// JSON paths of CA files whose bytes changed while their upstream's configuration did
    /// not (`previous` is the state being replaced): a reload's report.
    public func changedCAFiles(since previous: UpstreamGroups) -> [String] {
        self.byName.keys.sorted().compactMap { name in
            guard let group = self.byName[name], let old = previous.byName[name], old !== group,
                old.configuration == group.configuration, group.trustRootsFingerprint != nil
            else { return nil }
            return "upstreams.\(name).tls.ca_file"
        }
    }

    public init(byName: [String: UpstreamGroup] = [:]) {
        self.byName = byName
    }
}

/// Upstreams whose TLS client context could not be built (an unreadable `ca_file`, …).
public struct UpstreamCompileError: Error, Sendable {
    public struct Problem: Sendable {
        public let upstream: String
        public let message: String
    }

    public let problems: [Problem]
}

/// One target of an upstream: where to connect, and its metric label.
struct UpstreamTarget: Sendable {
    let host: String
    let port: Int
    /// `host:port`, the `target` label.
    let label: String
    /// Resolved once when the host is an IP literal; host names resolve per connection.
    let address: SocketAddress?
    let weight: Int

    init(_ configuration: UpstreamTargetConfiguration) {
        self.host = configuration.address.host
        self.port = configuration.address.port
        self.label = configuration.address.description
        self.address = try? SocketAddress(ipAddress: configuration.address.host, port: configuration.address.port)
        self.weight = configuration.weight
    }
}

/// Open connections of one upstream over all its pools.
final class OpenConnectionCount: Sendable {
    let value = Atomic<Int>(0)
}
