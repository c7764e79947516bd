// swift-tools-version:6.2
// `make fuzz`: libFuzzer over the definitions reader. A package of its own, so the fuzz
// executable (built with -sanitize=fuzzer, its main running libFuzzer's driver) never enters
// the normal build.
import PackageDescription

let package = Package(
    name: "refit-fuzz",
    dependencies: [.package(name: "refit", path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(name: "refit-fuzz",
                          dependencies: ["FuzzDriver",
                                         .product(name: "RefitDefinitions", package: "refit"),
                                         .product(name: "RefitCore", package: "refit")],
                          swiftSettings: [.unsafeFlags(["-sanitize=fuzzer"])],
                          linkerSettings: [.unsafeFlags(["-sanitize=fuzzer"])]),
    ]
)
