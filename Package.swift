// swift-tools-version:6.2
// Refit: time-sliced model retraining in the style of Azure Data Factory v1.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "refit",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "refit", targets: ["refit"]),
        .library(name: "RefitCore", targets: ["RefitCore"]),
        .library(name: "RefitStore", targets: ["RefitStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    ],
    targets: [
        // System libraries, linked from Debian's -dev packages.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]),
        // Typed, non-variadic wrappers for curl_easy_setopt/getinfo (Swift cannot call variadics).
        .target(name: "CCurlShim", dependencies: ["CCurl"]),

        // Pure domain: definitions model, ADF time semantics, expressions. Foundation only, no I/O.
        .target(name: "RefitCore", swiftSettings: swiftSettings),
        // Reads the schedules folder (JSON and YAML) into RefitCore's model with positions.
        .target(name: "RefitDefinitions",
                dependencies: ["RefitCore", .product(name: "Yams", package: "Yams")],
                swiftSettings: swiftSettings),
        // SQLite persistence: migrations, run history, leases. The only code that speaks SQL.
        .target(name: "RefitStore", dependencies: ["CSQLite", "RefitCore"], swiftSettings: swiftSettings),

        // The local Azure ML (classic) emulator's services; the only code using Hummingbird and Crypto.
        .target(name: "RefitMLSim",
                dependencies: [.product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: swiftSettings),

        .executableTarget(name: "refit",
                          dependencies: ["RefitCore", "RefitDefinitions", "RefitStore",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: swiftSettings),

        .testTarget(name: "RefitCoreTests", dependencies: ["RefitCore"], swiftSettings: swiftSettings),
        .testTarget(name: "RefitDefinitionsTests", dependencies: ["RefitDefinitions", "RefitCore"],
                    resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(name: "RefitStoreTests", dependencies: ["RefitStore"], swiftSettings: swiftSettings),
        .testTarget(name: "RefitMLSimTests",
                    dependencies: ["RefitMLSim", .product(name: "Hummingbird", package: "hummingbird")],
                    exclude: ["Support"], swiftSettings: swiftSettings),
        .testTarget(name: "RefitCLITests", dependencies: ["RefitCore"], swiftSettings: swiftSettings),
    ]
)
