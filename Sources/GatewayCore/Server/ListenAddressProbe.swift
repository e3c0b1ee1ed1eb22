import Foundation
import GatewayConfig
import NIOCore

/// Whether another socket already listens on an address, asked by binding a
/// plain socket there for a moment.
///
/// Traffic listeners bind one `SO_REUSEPORT` socket per event loop, and Linux lets
/// any process of the same user join such a group: a second gateway started by
/// mistake on the same port would quietly take half the connections. The probe has
/// no `SO_REUSEPORT`, so it fails while anyone listens there, and the second gateway
/// is refused with "address already in use", as it would be without reuse.
enum ListenAddressProbe {
    /// Throws when the address is taken; port 0 (any free port) is never taken.
    static func ensureFree(_ address: SocketAddressConfiguration) throws {
        guard address.port != 0 else { return }
        let resolved = try SocketAddress.makeAddressResolvingHost(address.host, port: address.port)
        let family: Int32
        switch resolved {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        default: return
        }
        let probe = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard probe >= 0 else { return }
        defer { close(probe) }
        // A port held only by connections in TIME_WAIT is free.
        var one: Int32 = 1
        _ = setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let result = resolved.withSockAddr { pointer, length in bind(probe, pointer, socklen_t(length)) }
        if result != 0 && errno == EADDRINUSE {
            throw ListenAddressTaken()
        }
    }

    struct ListenAddressTaken: Error, CustomStringConvertible {
        var description: String { "address already in use" }
    }
}
