// swift-tools-version: 6.1
import PackageDescription

/// One set of settings for every target: Swift 6 language mode (strict concurrency)
/// plus the upcoming features the server-Swift ecosystem builds with.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// `tokend`'s release build links the Swift runtime and Foundation statically: each worker then maps
/// only the runtime code it runs: its file-backed resident memory drops from 36 to 34 MiB (100 or
/// 10,000 apps), for a larger binary. The compiler gets the flag too, so the main module imports the
/// static Foundation and links the libraries it needs (CoreFoundation, ICU). Debug builds and tests
/// keep the shared libraries.
let staticStdlibInRelease = ["-static-stdlib"]

/// How release `tokend` is linked, with lld (shipped with the Swift toolchain). The default link of a
/// position-independent static binary costs every worker 5 MiB of memory at startup: 126,000 relative
/// relocations (3 MiB, applied page by page) become a 24 KB packed table (`DT_RELR`, glibc 2.36+), and
/// without `--export-dynamic`'s 35,000-symbol dynamic table (nothing looks up our symbols by name) the
/// loader no longer reads and hashes 2 MiB of symbol names. A 10,000-app worker: 49 to 44 MiB resident.
let releaseTokendLink = staticStdlibInRelease + [
    "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic",
]

let package = Package(
    name: "TokenCentral",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RedisClient", targets: ["RedisClient"]),
        .library(name: "TokenCentralContract", targets: ["TokenCentralContract"]),
        .library(name: "TokenCentral", targets: ["TokenCentral"]),
        .library(name: "TokenCentralClient", targets: ["TokenCentralClient"]),
        .executable(name: "tokend", targets: ["tokend"]),
        .executable(name: "tokenctl", targets: ["tokenctl"]),
        .executable(name: "wechat-mock", targets: ["wechat-mock"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: ["YAML"]),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    ],
    targets: [
        // C shim over Debian's libhiredis-dev (0.14). Only `RedisConnection` imports it.
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"]), .brew(["hiredis"])]
        ),
        // C shim over Debian's libssl-dev (OpenSSL 3): TLS for `rediss://`. Only `TLSTransport` imports it.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
        ),
        .target(
            name: "RedisClient",
            dependencies: ["CHiredis", "COpenSSL"],
            swiftSettings: swiftSettings
        ),
        // The Redis contract (docs/redis-contract.md): key names and channel messages, shared by the
        // server and the client library so that the two spell it once.
        .target(
            name: "TokenCentralContract",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WeChatMock",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TokenCentral",
            dependencies: [
                "RedisClient",
                "TokenCentralContract",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TokenCentralClient",
            dependencies: [
                "RedisClient",
                "TokenCentralContract",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tokend",
            dependencies: [
                "TokenCentral",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings + [.unsafeFlags(staticStdlibInRelease, .when(configuration: .release))],
            linkerSettings: [.unsafeFlags(releaseTokendLink, .when(configuration: .release))]
        ),
        .executableTarget(
            name: "tokenctl",
            dependencies: [
                "TokenCentral",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "wechat-mock",
            dependencies: [
                "WeChatMock",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tokencentral-bench",
            dependencies: [
                "RedisClient",
                "TokenCentral",
                "TokenCentralClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // Shared by the test targets: private redis-server processes, deadlines, unique key prefixes.
        .target(
            name: "TestSupport",
            dependencies: ["RedisClient"],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RedisClientTests",
            dependencies: ["RedisClient", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WeChatMockTests",
            dependencies: [
                "WeChatMock",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TokenCentralTests",
            dependencies: [
                "TokenCentral",
                "TokenCentralClient",
                "TokenCentralContract",
                "TestSupport",
                "WeChatMock",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
