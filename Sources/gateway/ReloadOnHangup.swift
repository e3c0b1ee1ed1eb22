import GatewayCore
import ServiceLifecycle
import UnixSignals

/// SIGHUP reloads the configuration, as nginx, HAProxy and Prometheus do. The
/// outcome is logged by the reload itself.
struct ReloadOnHangup: Service {
    let server: GatewayServer
    /// Created before anything else in `run`, so a SIGHUP during start is kept, not fatal.
    let hangups: UnixSignalsSequence

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in self.hangups {
                _ = await self.server.reload(trigger: .signal)
            }
        }
    }
}
