import NIOConcurrencyHelpers
import NIOCore

/// The client connections a listener has open, so that draining can close the
/// ones still open when its deadline passes (NIO's quiescing helper only asks
/// them to finish). Touched once when a connection opens and once when it
/// closes, never per request.
final class OpenConnections: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        self.channels.withLockedValue { $0[key] = channel }
        channel.closeFuture.whenComplete { _ in
            self.channels.withLockedValue { _ = $0.removeValue(forKey: key) }
        }
    }

    var count: Int { self.channels.withLockedValue { $0.count } }

    /// Closes every connection still open.
    func closeAll() {
        let open = self.channels.withLockedValue { Array($0.values) }
        for channel in open {
            channel.close(promise: nil)
        }
    }
}
