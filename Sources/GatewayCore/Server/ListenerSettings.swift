import GatewayConfig
import GatewayTLS
import NIOCore
import NIOHTTP1
import Synchronization

/// What a traffic listener gives each new connection: the TLS context (nil for
/// plain HTTP), the HTTP decoder limits and the connection clock. A reload swaps
/// it in the listener's `ListenerSettingsBox`; established connections keep what
/// they were made with.
struct ListenerSettings: Sendable {
    var tlsContext: TLSServerContext?
    /// What `tlsContext` was built from, to keep it when a reload changes nothing of it.
    var tlsSource: TLSContextSource?
    var decoderLimits: NIOHTTPDecoderLimitConfiguration
    var clock: ConnectionClock

    init(http: HTTPConfiguration, tlsContext: TLSServerContext?, tlsSource: TLSContextSource?) {
        self.tlsContext = tlsContext
        self.tlsSource = tlsSource
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = http.maxHeaderBytes
        limits.maxHeaderFieldSize = http.maxHeaderBytes
        self.decoderLimits = limits
        self.clock = ConnectionClock(
            idleTimeout: TimeAmount(http.idleTimeout), requestHeadTimeout: TimeAmount(http.requestHeadTimeout),
            bodyTimeout: TimeAmount(http.bodyTimeout))
    }
}

/// The current `ListenerSettings` of one listener. Read once per accepted
/// connection by the child channel initializer (a lock per connection, not per
/// request); written by the control plane on reload.
final class ListenerSettingsBox: Sendable {
    private let settings: Mutex<ListenerSettings>

    init(_ settings: ListenerSettings) {
        self.settings = Mutex(settings)
    }

    var current: ListenerSettings {
        get { self.settings.withLock { $0 } }
        set { self.settings.withLock { $0 = newValue } }
    }
}
