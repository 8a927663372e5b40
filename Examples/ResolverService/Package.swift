// swift-tools-version:6.1
// An HTTP service that resolves through the evquery engine: /resolve?name=…&type=… answers JSON,
// /metrics serves the engine's and the reactor's swift-metrics through swift-prometheus, and the
// whole runs under swift-service-lifecycle (SIGTERM: a graceful shutdown, then the audit).
import PackageDescription

let package = Package(
    name: "ResolverService",
    dependencies: [
        // evquery itself, by path; the name lets the products below say `package: "evquery"` whatever
        // the checkout folder is called.
        .package(name: "evquery", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(
            name: "ResolverService",
            dependencies: [
                .product(name: "DNSQuery", package: "evquery"),
                .product(name: "EventReactor", package: "evquery"),
                .product(name: "DNSMessage", package: "evquery"),
                .product(name: "EvqueryLifecycle", package: "evquery"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
