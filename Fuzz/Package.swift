// swift-tools-version:6.1
import PackageDescription

// The admin protocol's libFuzzer build, a package of its own so the main manifest never depends on
// the environment (a manifest that reads it is re-evaluated, and the tree rebuilt, whenever it
// changes). `--sanitize fuzzer` applies to every executable a build makes, build tools included, and
// libFuzzer brings its own main: this package holds only the protocol and its fuzz target, whose
// sources are the main package's (Sources/ here links to them). `Fuzz/run` builds and runs it.
let package = Package(
    name: "orderly-fuzz",
    targets: [
        .target(
            name: "OrderlyAdminProtocol",
            swiftSettings: [.swiftLanguageMode(.v6), .enableUpcomingFeature("ExistentialAny")]
        ),
        .executableTarget(
            name: "OrderlyAdminFuzz",
            dependencies: ["OrderlyAdminProtocol"],
            swiftSettings: [.swiftLanguageMode(.v6), .enableUpcomingFeature("ExistentialAny"), .define("FUZZING")]
        ),
    ]
)
