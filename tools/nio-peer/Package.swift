// swift-tools-version:6.0
// The SwiftNIO peer of tools/compare-reactor.sh: the same probes as `evq reactor-probe`, on NIO's
// EventLoop (scheduleTask/cancel, execute). A separate package so the main build never pulls NIO.
import PackageDescription

let package = Package(
    name: "nio-peer",
    dependencies: [.package(url: "https://github.com/apple/swift-nio", from: "2.80.0")],
    targets: [
        .executableTarget(name: "NIOPeer", dependencies: [
            .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOCore", package: "swift-nio"),
        ]),
    ]
)
