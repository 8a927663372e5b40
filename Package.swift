// swift-tools-version:6.1
// evquery: an event-loop engine on libevent (epoll) for many thousands of cancellable
// asynchronous operations (DNS queries, log-scan jobs), and the `evq` load generator.
// Layers (arrows point down only; see docs/design.md):
//   evq → LoadGenerator → DNSQuery / LogQuery / DNSResponder / EvdnsBaseline
//       → DNSMessage / EventReactor (→ CLibevent) → LinuxSystem → CSystemShims; LogQuery also → CZlib, CPCRE2
// LinuxSystem is the one Swift module over CSystemShims (syscalls, sockets, datagram batches, epoll,
// the mapped-file guard, inotify, process usage): the modules above it call the kernel through it.
import PackageDescription

let package = Package(
    name: "evquery",
    // Linux only (epoll, recvmmsg/sendmmsg, UDP GSO, inotify): no other platform is claimed.
    // The products are the libraries a program embeds, and the evq tool.
    products: [
        .library(name: "EventReactor", targets: ["EventReactor"]),
        .library(name: "DNSMessage", targets: ["DNSMessage"]),
        .library(name: "DNSQuery", targets: ["DNSQuery"]),
        .library(name: "LogQuery", targets: ["LogQuery"]),
        .library(name: "DNSResponder", targets: ["DNSResponder"]),
        .library(name: "EvqueryLifecycle", targets: ["EvqueryLifecycle"]),
        .executable(name: "evq", targets: ["evq"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        // Observability for embedders: a Logger and metrics in each engine's configuration, and
        // ServiceLifecycle conformances in a module of their own (EvqueryLifecycle).
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Prometheus text for swift-metrics: `evq load --metrics-listen`, `EVQ_OBSERVE=1 evq load`.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // `swift package generate-documentation` (tools/docs.sh builds every library's catalog).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // C, wrapped once at the bottom. No logic.
        .systemLibrary(
            name: "CLibevent",
            path: "Sources/CLibevent",
            pkgConfig: "libevent_pthreads",
            providers: [.apt(["libevent-dev"])]
        ),
        .target(name: "CSystemShims", path: "Sources/CSystemShims", linkerSettings: [.linkedLibrary("z")]),

        // The system layer: one error type, one syscall wrapper, sockets, datagram batches, epoll,
        // process usage. The only Swift module that imports CSystemShims.
        .target(name: "LinuxSystem", dependencies: ["CSystemShims"]),

        // The reactor: one event_base per thread, operations with the exactly-once gate.
        .target(
            name: "EventReactor",
            dependencies: [
                "CLibevent", "COpenSSL", "LinuxSystem", .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // Pure Swift DNS wire format. Imports nothing of ours.
        .target(name: "DNSMessage"),
        .target(
            name: "DNSQuery",
            dependencies: [
                "EventReactor", "DNSMessage", "LinuxSystem", "CNghttp2",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // zlib, to read rotated .gz logs in place.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // PCRE2 with its JIT, behind the log filter's `~`.
        .systemLibrary(
            name: "CPCRE2", path: "Sources/CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]
        ),
        .target(name: "LogQuery", dependencies: ["LinuxSystem", "CZlib", "CPCRE2", "EventReactor",
                                               .product(name: "Logging", package: "swift-log"),
                                               .product(name: "CoreMetrics", package: "swift-metrics")]),
        // ServiceLifecycle's `Service` for the reactor group and the engines, kept apart so that
        // an embedder who does not run under ServiceLifecycle does not build it.
        .target(
            name: "EvqueryLifecycle",
            dependencies: [
                "EventReactor", "DNSQuery", "LogQuery",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // OpenSSL and libnghttp2 from Debian, for the stream transports (DNS over TLS and HTTPS).
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CNghttp2", path: "Sources/CNghttp2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .target(
            name: "DNSResponder",
            dependencies: ["DNSMessage", "EventReactor", "LinuxSystem", "COpenSSL", "CNghttp2"]
        ),
        // The one module above EventReactor allowed to call libevent: evdns, the in-run peer.
        .target(name: "EvdnsBaseline", dependencies: ["CLibevent", "EventReactor"]),
        .target(
            name: "LoadGenerator",
            dependencies: [
                "EventReactor", "EvdnsBaseline", "LinuxSystem", "DNSQuery", "DNSMessage", "LogQuery", "DNSResponder",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "evq",
            dependencies: [
                // Each subcommand's module is added here with the command (serve: DNSResponder, …).
                "LoadGenerator", "EventReactor", "LinuxSystem", "LogQuery", "DNSResponder", "DNSMessage", "DNSQuery",
                "EvdnsBaseline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(
            name: "EventReactorTests",
            dependencies: [
                "EventReactor", "LinuxSystem", .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(name: "LinuxSystemTests", dependencies: ["LinuxSystem"]),
        .testTarget(name: "DNSMessageTests", dependencies: ["DNSMessage"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DNSResponderTests", dependencies: ["DNSResponder", "DNSMessage", "EventReactor", "LinuxSystem"]),
        .testTarget(
            name: "DNSQueryTests",
            dependencies: [
                "DNSQuery", "DNSResponder", "DNSMessage", "EventReactor", "COpenSSL", "CNghttp2",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "LogQueryTests",
            dependencies: [
                "LogQuery", "EventReactor", "LinuxSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "EvqueryLifecycleTests",
            dependencies: [
                "EvqueryLifecycle", "DNSQuery", "DNSResponder", "EventReactor",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Runs the built `evq` as a subprocess: its messages and exit codes under each failure.
        .testTarget(name: "EvqTests"),
        .testTarget(
            name: "LoadGeneratorTests",
            dependencies: [
                "LoadGenerator", "EventReactor", "LinuxSystem", "DNSResponder", .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),

        // package-benchmark suites: `swift package benchmark` (see docs/performance.md).
        .executableTarget(
            name: "ReactorBenchmarks",
            dependencies: [
                "EventReactor", "LoadGenerator", "LinuxSystem",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            path: "Benchmarks/ReactorBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "DNSMessageBenchmarks",
            dependencies: ["DNSMessage", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/DNSMessageBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "DNSQueryBenchmarks",
            dependencies: ["DNSQuery", "DNSResponder", "DNSMessage", "EventReactor",
                           .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/DNSQueryBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
