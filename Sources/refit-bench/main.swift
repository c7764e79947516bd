// refit-bench: speed and memory figures for Refit's core (worker ticks, store, slicing,
// definitions). Run it through `make bench` (release build). Each scenario runs in a child
// process of its own, so the peak RSS reported is that scenario's alone. `refit-bench throughput`
// measures claims and finishes per second with several worker processes on SQLite or PostgreSQL.
import Foundation

let usage = """
    usage: refit-bench [--format table|json] [--only SCENARIO] [--sizes N,N,...] [--schedules DIR] [--list]
           refit-bench throughput [--db FILE_OR_URL] [--workers 1,2,4] [--windows N] ...   (--help for its options)
      --format     table (default) or json
      --only       run one scenario in this process (repeatable names: see --list)
      --sizes      waiting-window counts for the tick-waiting scenarios (default 1000,10000,100000)
      --schedules  the definitions folder to load (default schedules)
    """

// `throughput` runs K worker processes against one store (Throughput.swift); `throughput-worker`
// is one of those processes, started by it.
if let command = CommandLine.arguments.dropFirst().first, command == "throughput" || command == "throughput-worker" {
    let rest = Array(CommandLine.arguments.dropFirst(2))
    exit(command == "throughput" ? await ThroughputBench.main(rest) : await ThroughputBench.workerMain(rest))
}

enum Format: String { case table, json }

var options = BenchOptions()
var format = Format.table
var only: String?
var list = false
var arguments = Array(CommandLine.arguments.dropFirst())
while !arguments.isEmpty {
    let flag = arguments.removeFirst()
    func value() -> String {
        guard !arguments.isEmpty else {
            FileHandle.standardError.write(Data("refit-bench: \(flag) needs a value.\n\(usage)\n".utf8))
            exit(2)
        }
        return arguments.removeFirst()
    }
    switch flag {
    case "--format":
        let text = value()
        guard let parsed = Format(rawValue: text) else {
            FileHandle.standardError.write(Data("refit-bench: unknown format '\(text)'; use table or json.\n".utf8))
            exit(2)
        }
        format = parsed
    case "--only": only = value()
    case "--schedules": options.schedules = value()
    case "--sizes":
        let text = value()
        let sizes = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else {
            FileHandle.standardError.write(Data("refit-bench: --sizes takes positive counts separated by commas, got '\(text)'.\n".utf8))
            exit(2)
        }
        options.waitingSizes = sizes
    case "--list": list = true
    case "-h", "--help":
        print(usage)
        exit(0)
    default:
        FileHandle.standardError.write(Data("refit-bench: unknown argument '\(flag)'.\n\(usage)\n".utf8))
        exit(2)
    }
}

let scenarios = Scenarios.all(options)
if list {
    for scenario in scenarios { print("\(scenario.name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(scenario.summary)") }
    exit(0)
}

/// Runs one scenario here and returns its figures with this process's peak RSS.
@MainActor
func runHere(_ scenario: Scenario) async throws -> [Figure] {
    let figures = try await scenario.run(options)
    let rss = peakRSSMiB()
    return figures.map { Figure(scenario: scenario.name, measure: $0.measure, value: $0.value, unit: $0.unit, peakRSSMiB: rss) }
}

/// Runs one scenario in a child process of this executable and decodes its JSON figures.
@MainActor
func runChild(_ scenario: Scenario) throws -> [Figure] {
    let process = Process()
    process.executableURL = try ownExecutableURL()
    process.arguments = ["--only", scenario.name, "--format", "json", "--schedules", options.schedules,
                         "--sizes", options.waitingSizes.map(String.init).joined(separator: ",")]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw BenchError("scenario \(scenario.name) failed (exit status \(process.terminationStatus))")
    }
    return try JSONDecoder().decode([Figure].self, from: data)
}

@MainActor
func render(_ figures: [Figure], elapsed: Double?) -> String {
    var lines: [String] = []
    let measureWidth = max(40, figures.map(\.measure.count).max() ?? 0)
    var current: String?
    for figure in figures {
        if figure.scenario != current {
            current = figure.scenario
            let summary = scenarios.first { $0.name == figure.scenario }?.summary ?? ""
            let rss = figure.peakRSSMiB.map { String(format: "peak RSS %.1f MiB", $0) } ?? ""
            lines.append("")
            lines.append("\(figure.scenario) — \(summary)  [\(rss)]")
        }
        let value = figure.value >= 100 ? String(format: "%.0f", figure.value)
            : figure.value >= 10 ? String(format: "%.1f", figure.value) : String(format: "%.2f", figure.value)
        lines.append("  \(figure.measure.padding(toLength: measureWidth, withPad: " ", startingAt: 0))  \(String(repeating: " ", count: max(0, 10 - value.count)))\(value) \(figure.unit)")
    }
    if let elapsed {
        lines.append("")
        lines.append(String(format: "total %.1f s", elapsed))
    }
    return lines.joined(separator: "\n")
}

do {
    if let only {
        guard let scenario = scenarios.first(where: { $0.name == only }) else {
            throw BenchError("unknown scenario '\(only)'; --list shows them")
        }
        let figures = try await runHere(scenario)
        if format == .json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(figures), as: UTF8.self))
        } else {
            print(render(figures, elapsed: nil))
        }
    } else {
        let start = ContinuousClock.now
        var figures: [Figure] = []
        for scenario in scenarios {
            progress("\(scenario.name): \(scenario.summary)")
            figures += try runChild(scenario)
        }
        let elapsed = seconds(ContinuousClock.now - start)
        if format == .json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(figures), as: UTF8.self))
        } else {
            print(render(figures, elapsed: elapsed))
        }
    }
} catch {
    FileHandle.standardError.write(Data("refit-bench: \(error)\n".utf8))
    exit(1)
}
