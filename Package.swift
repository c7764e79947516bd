// swift-tools-version:6.2
// Refit: time-sliced model retraining in the style of Azure Data Factory v1.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// swift-metrics' API only: the instrumented libraries never see the backend (Prometheus, in `refit`).
let coreMetrics: Target.Dependency = .product(name: "CoreMetrics", package: "swift-metrics")

let package = Package(
    name: "refit",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "refit", targets: ["refit"]),
        .library(name: "RefitCore", targets: ["RefitCore"]),
        .library(name: "RefitDefinitions", targets: ["RefitDefinitions"]),
        .library(name: "RefitStore", targets: ["RefitStore"]),
        .library(name: "RefitReport", targets: ["RefitReport"]),
        .library(name: "RefitWorker", targets: ["RefitWorker"]),
        .library(name: "RefitPostgres", targets: ["RefitPostgres"]),
        .library(name: "RefitHTTP", targets: ["RefitHTTP"]),
        .library(name: "RefitMLSim", targets: ["RefitMLSim"]),
        .executable(name: "refit-mlsim", targets: ["refit-mlsim"]),
        .executable(name: "refit-bench", targets: ["refit-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.70.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-algorithms", from: "1.2.0"),
    ],
    targets: [
        // System libraries, linked from Debian's -dev packages.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]),
        // libpq's and libcurl's headers only (Debian's libpq-dev, libcurl4-openssl-dev): neither
        // library is linked. CLazyLibraries opens each with dlopen on first use, so commands that
        // make no HTTP request and open no PostgreSQL store do not load their thirty-odd shared
        // libraries at start (decision record 31).
        .systemLibrary(name: "CLibPQ"),
        // glibc's mallopt, for `refit`'s limit on malloc arenas (decision record 33). Header only.
        .systemLibrary(name: "CMalloc"),
        .systemLibrary(name: "CCurl"),
        // Their functions, reached through pointers resolved at first use; also typed, non-variadic
        // wrappers for curl_easy_setopt/getinfo (Swift cannot call variadics).
        .target(name: "CLazyLibraries", dependencies: ["CCurl", "CLibPQ"]),

        // Pure domain: definitions model, ADF time semantics, expressions. No I/O, no parsing of
        // definition files (RefitDefinitions does that); digests and
        // HMAC come from swift-crypto behind RefitCore's own `SHA256`/`HMACSHA256` facade.
        .target(name: "RefitCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: swiftSettings),
        // The parsing layer: reads the schedules folder (JSON and YAML) into RefitCore's model with
        // positions, then decodes and validates it. YAML is read through libyaml's events (module
        // CYaml, built by the Yams package).
        .target(name: "RefitDefinitions",
                dependencies: ["RefitCore", .product(name: "Yams", package: "Yams")],
                swiftSettings: swiftSettings),
        // SQLite persistence: migrations, run history, leases. The only code that speaks SQL.
        .target(name: "RefitStore", dependencies: ["CSQLite", "RefitCore"], swiftSettings: swiftSettings),

        // `refit report`'s page: run history (RefitCore's HistorySnapshot) → one self-contained HTML
        // file with inline SVG plots. Pure: no I/O, no SQL, no clock.
        .target(name: "RefitReport", dependencies: ["RefitCore"], swiftSettings: swiftSettings),
        // PostgreSQL persistence for several hosts: the same SchedulingStore over libpq (decision 18).
        .target(name: "RefitPostgres", dependencies: ["CLibPQ", "CLazyLibraries", "RefitCore", "RefitStore"], swiftSettings: swiftSettings),

        // Async HTTP/1.1 client over libcurl's multi interface: timeouts, TLS on, redaction, SigV4.
        .target(name: "RefitHTTP",
                dependencies: ["CCurl", "CLazyLibraries", "RefitCore", .product(name: "Logging", package: "swift-log"), coreMetrics],
                swiftSettings: swiftSettings),

        // Storage clients: Azure Blob (Shared Key, SAS), signed with RefitCore's HMACSHA256; listings
        // read with libxml2 through CLazyLibraries.
        .target(name: "RefitStorage", dependencies: ["CLazyLibraries", "RefitCore", "RefitHTTP", "RefitDefinitions"], swiftSettings: swiftSettings),
        // Activity kinds: AzureMLBatchExecution, AzureMLUpdateResource, Command; journaled steps.
        .target(name: "RefitActivities", dependencies: ["RefitCore", "RefitDefinitions", "RefitHTTP", "RefitStorage", coreMetrics],
                swiftSettings: swiftSettings),
        // The engine: tick loop, dispatch, retries, timeouts, leases, recovery (activities via ActivityRunner).
        .target(name: "RefitWorker",
                dependencies: ["RefitCore", .product(name: "Logging", package: "swift-log"), coreMetrics,
                               .product(name: "Algorithms", package: "swift-algorithms")],
                exclude: ["Decisions.md"], swiftSettings: swiftSettings),
        // `refit run --metrics-address`: /metrics, /status and /healthz over HTTP/1.1 (Hummingbird),
        // run as a swift-service-lifecycle Service beside the worker. Only `refit` links it (D16).
        .target(name: "RefitMetricsServer",
                dependencies: [.product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: swiftSettings),

        // The composition root of the worker commands, out of the executable so it can be tested:
        // the activities runner, the worker's database (SQLite or PostgreSQL), the worker setup,
        // the FileShare watchers and `refit run`'s services.
        .target(name: "RefitRuntime",
                dependencies: ["RefitCore", "RefitDefinitions", "RefitStore", "RefitPostgres", "RefitWorker", "RefitActivities",
                               "RefitStorage", "RefitHTTP", "RefitMetricsServer",
                               .product(name: "Logging", package: "swift-log"),
                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                               .product(name: "UnixSignals", package: "swift-service-lifecycle")],
                swiftSettings: swiftSettings),

        .executableTarget(name: "refit",
                          dependencies: ["CMalloc", "RefitCore", "RefitDefinitions", "RefitStore", "RefitPostgres", "RefitWorker", "RefitReport", "RefitRuntime",
                                         "RefitActivities", "RefitStorage", "RefitHTTP", "RefitMetricsServer",
                                         .product(name: "Logging", package: "swift-log"), coreMetrics,
                                         .product(name: "Prometheus", package: "swift-prometheus"),
                                         .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                         .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: swiftSettings),

        // `make bench`: speed and memory figures of the core (ticks, store, slicing); never in tests.
        .executableTarget(name: "refit-bench",
                          dependencies: ["RefitCore", "RefitDefinitions", "RefitStore", "RefitPostgres", "RefitWorker",
                                         .product(name: "Logging", package: "swift-log")],
                          swiftSettings: swiftSettings),

        // Helpers for tests (ours and users' own pipeline tests): process runner, in-memory scheduling
        // store, scripted runner, in-memory storage location, manual sleeper.
        .target(name: "RefitTestKit", dependencies: ["RefitCore", "RefitHTTP", "RefitWorker"], swiftSettings: swiftSettings),
        // Azure ML Studio (classic) emulator: BES jobs, endpoint management, RRS scoring, blob stand-in.
        .target(name: "RefitMLSim",
                dependencies: [.product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "Crypto", package: "swift-crypto"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "HTTPTypes", package: "swift-http-types"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: swiftSettings),
        .executableTarget(name: "refit-mlsim",
                          dependencies: ["RefitMLSim",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: swiftSettings),
        .testTarget(name: "RefitMLSimTests",
                    dependencies: ["RefitMLSim", "RefitTestKit",
                                   .product(name: "Hummingbird", package: "hummingbird"),
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                    exclude: ["Support"], swiftSettings: swiftSettings),

        .testTarget(name: "RefitCoreTests", dependencies: ["RefitCore", "RefitTestKit"], swiftSettings: swiftSettings),
        .testTarget(name: "RefitDefinitionsTests", dependencies: ["RefitDefinitions", "RefitCore"],
                    resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(name: "RefitReportTests", dependencies: ["RefitReport", "RefitCore"], swiftSettings: swiftSettings),
        .testTarget(name: "RefitStoreTests", dependencies: ["RefitStore"], swiftSettings: swiftSettings),
        .testTarget(name: "RefitHTTPTests",
                    dependencies: ["RefitHTTP", "RefitTestKit", .product(name: "Logging", package: "swift-log")],
                    exclude: ["Support"], swiftSettings: swiftSettings),
        .testTarget(name: "RefitStorageTests", dependencies: ["RefitStorage", "RefitCore", "RefitHTTP", "RefitTestKit"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "RefitActivitiesTests",
                    dependencies: ["RefitActivities", "RefitStorage", "RefitCore", "RefitHTTP", "RefitStore", "RefitTestKit"],
                    exclude: ["Support"], swiftSettings: swiftSettings),
        .testTarget(name: "RefitRuntimeTests",
                    dependencies: ["RefitRuntime", "RefitCore", "RefitDefinitions", "RefitStore", "RefitWorker"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "RefitWorkerTests",
                    dependencies: ["RefitWorker", "RefitCore", "RefitStore", "RefitTestKit",
                                   .product(name: "Logging", package: "swift-log")],
                    swiftSettings: swiftSettings),
        // One suite of the SchedulingStore contract, run against every implementation.
        .testTarget(name: "RefitStoreConformanceTests", dependencies: ["RefitCore", "RefitStore", "RefitPostgres", "RefitTestKit", "RefitWorker"],
                    swiftSettings: swiftSettings),
        // The instrumentation, recorded into swift-metrics' TestMetrics (worker, HTTP client), and the metrics server.
        .testTarget(name: "RefitMetricsTests",
                    dependencies: ["RefitCore", "RefitWorker", "RefitHTTP", "RefitMetricsServer", "RefitTestKit",
                                   .product(name: "Logging", package: "swift-log"),
                                   .product(name: "MetricsTestKit", package: "swift-metrics")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "RefitCLITests", dependencies: ["RefitCore", "RefitTestKit", "RefitStorage", "RefitHTTP", "RefitPostgres"], swiftSettings: swiftSettings),
    ]
)
