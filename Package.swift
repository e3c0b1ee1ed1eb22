// swift-tools-version:6.1
import PackageDescription

// One settings array for every target: Swift 6 language mode everywhere, and
// C modules kept out of the public API.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

let package = Package(
    name: "swift-api-gateway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gateway", targets: ["gateway"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
    ],
    targets: [
        // MARK: TLS on system OpenSSL
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "CGatewayOpenSSL",
            dependencies: ["COpenSSL"]
        ),
        .target(
            name: "GatewayTLS",
            dependencies: [
                "COpenSSL",
                "CGatewayOpenSSL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Authentication: API keys and JWT bearer tokens on system OpenSSL
        .target(
            name: "GatewayAuth",
            dependencies: ["COpenSSL", "CGatewayOpenSSL"],
            swiftSettings: swiftSettings
        ),

        // MARK: Request validation engine (FastAPI-compatible 422s)
        .target(
            name: "GatewayValidation",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio")
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Configuration (gateway.json); compiles route validation schemas at load time
        .target(
            name: "GatewayConfig",
            dependencies: ["GatewayValidation"],
            swiftSettings: swiftSettings
        ),

        // MARK: Rate limiting (GCRA; local and Redis stores)
        .target(
            name: "GatewayRateLimit",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Built-in handlers (items API)
        .target(
            name: "GatewayHandlers",
            dependencies: [
                "GatewayValidation",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Upstream proxying: pools, load balancing, proxy headers
        .target(
            name: "GatewayProxy",
            dependencies: [
                "GatewayConfig",
                "GatewayTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Server, router, policies, admin, metrics
        .target(
            name: "GatewayCore",
            dependencies: [
                "GatewayTLS",
                "GatewayAuth",
                "GatewayConfig",
                "GatewayValidation",
                "GatewayHandlers",
                "GatewayProxy",
                "GatewayRateLimit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Executable
        .executableTarget(
            name: "gateway",
            dependencies: [
                "GatewayCore",
                "GatewayConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Benchmarks (run by hand: Benchmarks/TLSRoundTrip/measure.sh)
        .executableTarget(
            name: "TLSRoundTrip",
            dependencies: [
                "GatewayTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/TLSRoundTrip",
            exclude: ["measure.sh"],
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        // Real servers the test targets share (redis-server on a free port).
        .target(
            name: "GatewayTestSupport",
            path: "Tests/GatewayTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayTLSTests",
            dependencies: [
                "GatewayTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayAuthTests",
            dependencies: ["GatewayAuth", "COpenSSL"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayConfigTests",
            dependencies: ["GatewayConfig", "GatewayValidation"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayValidationTests",
            dependencies: ["GatewayValidation"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayRateLimitTests",
            dependencies: [
                "GatewayRateLimit",
                "GatewayTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayHandlersTests",
            dependencies: [
                "GatewayHandlers",
                "GatewayValidation",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayCoreTests",
            dependencies: [
                "GatewayCore",
                "GatewayConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayProxyTests",
            dependencies: [
                "GatewayProxy",
                "GatewayConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "GatewayTestSupport",
                "GatewayCore",
                "GatewayConfig",
                "GatewayTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
