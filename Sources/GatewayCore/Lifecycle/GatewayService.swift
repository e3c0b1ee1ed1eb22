public import ServiceLifecycle

/// The gateway as a swift-service-lifecycle `Service`: starts the listeners,
/// serves until a graceful shutdown is requested (SIGTERM/SIGINT through the
/// `ServiceGroup`), then drains and stops.
public struct GatewayService: Service {
    public let server: GatewayServer

    public init(server: GatewayServer) {
        self.server = server
    }

    public func run() async throws {
        try await self.server.start()
        // Returns when the service group asks for a graceful shutdown, or throws on cancellation.
        try? await gracefulShutdown()
        await self.server.shutdown()
    }
}
