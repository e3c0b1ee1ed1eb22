import Synchronization

/// Whether the gateway should receive traffic: true once every listener is
/// bound, false again as soon as draining starts (so a load balancer stops
/// sending before connections close).
final class Readiness: Sendable {
    private let ready = Atomic<Bool>(false)

    var isReady: Bool { self.ready.load(ordering: .relaxed) }

    func set(_ value: Bool) { self.ready.store(value, ordering: .relaxed) }
}
