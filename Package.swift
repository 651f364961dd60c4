// swift-tools-version:6.1
import PackageDescription

let strictSwift6: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]
// Above the store, imports are internal unless a file says `public import`, and a member is seen only
// where its module is imported: the compiler keeps the arrows of docs/architecture.md.
let sealed: [SwiftSetting] =
    strictSwift6 + [
        .enableUpcomingFeature("InternalImportsByDefault"),
        .enableUpcomingFeature("MemberImportVisibility"),
    ]

let package = Package(
    name: "orderly",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "orderly", targets: ["orderly"]),
        .library(name: "Orderly", targets: ["Orderly"]),
        .library(name: "LibPQ", targets: ["LibPQ"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.25.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.10.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
    ],
    targets: [
        // The C library, found through pkg-config; Debian's libpq-dev provides it.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // Safe Swift over libpq. Knows nothing of orders; no C type leaks from its public API.
        .target(
            name: "LibPQ",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: sealed
        ),
        // A private PostgreSQL cluster under .orderly/ (initdb + pg_ctl), for `orderly dev` and the tests.
        .target(
            name: "OrderlyDevCluster",
            dependencies: ["LibPQ", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSwift6
        ),
        // The domain, pure: no I/O, no SQL, no clock it was not handed.
        .target(name: "OrderlyCore", swiftSettings: strictSwift6),
        // The platforms' order documents (Shopify, Magento, SFCC, Amazon, eBay) mapped to Orderly's
        // capture. Pure, like Core: its own JSON reader keeps numbers as text, so money stays exact.
        .target(name: "OrderlyChannels", dependencies: ["OrderlyCore"], swiftSettings: strictSwift6),
        // One file per routing strategy, and the name -> strategy registry. Pure, like Core.
        .target(name: "OrderlyRouting", dependencies: ["OrderlyCore"], swiftSettings: strictSwift6),
        // All SQL: migrations (embedded from sql/ at build time) and repositories.
        .target(
            name: "OrderlyStore",
            dependencies: [
                "LibPQ",
                "OrderlyCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: sealed,
            plugins: ["EmbedMigrationsPlugin"]
        ),
        // The admin protocol: grammar, replies, the command table. Pure and fuzzable.
        .target(name: "OrderlyAdminProtocol", swiftSettings: strictSwift6),
        // Replays a fuzz corpus or a crash file through the fuzz target's function. The libFuzzer build of
        // the same source is the package in Fuzz/ (so this manifest never reads the environment).
        .executableTarget(
            name: "OrderlyAdminFuzz",
            dependencies: ["OrderlyAdminProtocol"],
            swiftSettings: strictSwift6
        ),
        // The admin server: SwiftNIO, a swift-service-lifecycle Service.
        .target(
            name: "OrderlyAdminServer",
            dependencies: [
                "Orderly",
                "OrderlyAdminProtocol",
                "OrderlyCore",
                "OrderlyRouting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: sealed
        ),
        // The HTTP side door of `serve` and `worker` (Hummingbird): /healthz, /readyz, /metrics.
        .target(
            name: "OrderlyHTTP",
            dependencies: [
                "Orderly",
                "OrderlyChannels",
                "OrderlyCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: sealed
        ),
        // A blocking line-oriented TCP client (the admin client, the SMTP notifier), TLS through swift-nio-ssl.
        .target(
            name: "LineSocket",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        // The job runner (a swift-service-lifecycle Service), the fulfillment handlers, the notifiers.
        .target(
            name: "OrderlyWorker",
            dependencies: [
                "LineSocket", "Orderly", "OrderlyCore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: sealed
        ),
        // Application services: the library a backend team embeds.
        .target(
            name: "Orderly",
            dependencies: [
                "LibPQ",
                "OrderlyChannels",
                "OrderlyCore",
                "OrderlyRouting",
                "OrderlyStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: sealed
        ),
        // The command-line interface, as a library so tests can run the commands.
        .target(
            name: "OrderlyCommands",
            dependencies: [
                "LineSocket",
                "Orderly",
                "OrderlyAdminProtocol",
                "OrderlyAdminServer",
                "OrderlyCore",
                "OrderlyHTTP",
                "OrderlyWorker",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                "OrderlyDevCluster",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: sealed
        ),
        // `orderly bench`: figures beside pgbench on the same cluster. Its SQL (seeding, pgbench scripts,
        // the peer queue's) is its own; nothing else outside the store writes any.
        .target(
            name: "OrderlyBenchmarks",
            dependencies: [
                "LibPQ", "Orderly", "OrderlyAdminServer", "OrderlyCommands", "OrderlyCore", "OrderlyDevCluster",
                "OrderlyStore", "OrderlyWorker", "LineSocket",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        .executableTarget(
            name: "orderly",
            dependencies: [
                "OrderlyBenchmarks", "OrderlyCommands",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSwift6
        ),
        // Build-time tool: turns sql/migrations/*.sql into Swift source, so a deployed binary needs no source tree.
        .executableTarget(name: "EmbedMigrations", swiftSettings: strictSwift6),
        .plugin(
            name: "EmbedMigrationsPlugin",
            capability: .buildTool(),
            dependencies: ["EmbedMigrations"]
        ),
        // Test helpers: the throwaway-database fixture.
        .target(
            name: "OrderlyTestSupport",
            dependencies: [
                "LibPQ",
                "OrderlyCore",
                "OrderlyDevCluster",
                "OrderlyStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "LibPQTests",
            dependencies: ["LibPQ", "OrderlyTestSupport"],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "OrderlyStoreTests",
            dependencies: ["LibPQ", "OrderlyCore", "OrderlyStore", "OrderlyTestSupport"],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "OrderlyAdminProtocolTests",
            dependencies: [
                "OrderlyAdminProtocol",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "OrderlyAdminServerTests",
            dependencies: [
                "LibPQ", "LineSocket", "Orderly", "OrderlyAdminProtocol", "OrderlyAdminServer", "OrderlyCommands",
                "OrderlyCore",
                "OrderlyDevCluster", "OrderlyHTTP", "OrderlyStore", "OrderlyTestSupport", "OrderlyWorker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                // The connection handler on an EmbeddedChannel, whose clock the test moves.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        // `orderly worker` with test hooks (a probe job kind, pauses in jobs' transactions), which the
        // worker process tests run; `orderly` itself has none.
        .executableTarget(
            name: "orderly-test-worker",
            dependencies: ["LibPQ", "Orderly", "OrderlyCommands", "OrderlyCore", "OrderlyWorker"],
            path: "Tests/OrderlyTestWorker",
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "OrderlyWorkerTests",
            dependencies: [
                "LibPQ", "LineSocket", "Orderly", "OrderlyCore", "OrderlyStore", "OrderlyTestSupport", "OrderlyWorker",
                "orderly-test-worker",
                // A local webhook receiver.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "OrderlyCoreTests",
            dependencies: ["OrderlyCore"],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "OrderlyChannelsTests",
            dependencies: [
                "OrderlyChannels", "OrderlyCore", .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "OrderlyTests",
            dependencies: ["LibPQ", "Orderly", "OrderlyCore", "OrderlyRouting", "OrderlyStore", "OrderlyTestSupport"],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "OrderlyRoutingTests",
            dependencies: [
                "OrderlyCore",
                "OrderlyRouting",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "OrderlyCommandsTests",
            dependencies: ["OrderlyCommands", "OrderlyDevCluster", "OrderlyTestSupport", "LibPQ", "OrderlyWorker"],
            swiftSettings: strictSwift6
        ),
    ]
)
