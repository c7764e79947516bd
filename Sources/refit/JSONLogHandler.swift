import ArgumentParser
import Foundation
import Logging

/// `--log-format text|json` for the worker commands.
enum LogFormat: String, CaseIterable, ExpressibleByArgument {
    case text, json
}

/// One JSON object per line on stderr: `at` (ISO 8601 with milliseconds), `level`, `message`, then the metadata
/// (pipeline, activity, window, runId …) as string fields — for log shippers.
struct JSONLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level, message = event.message
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        var fields: [(String, JSONOutput)] = [
            ("at", .string(SystemClockText.now())), ("level", .string(level.rawValue)), ("logger", .string(label)),
            ("message", .string(message.description)),
        ]
        for key in merged.keys.sorted() { fields.append((key, .string(merged[key].map { "\($0)" } ?? ""))) }
        let text = JSONOutput.object(fields).render().split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: " ")
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

enum SystemClockText {
    static func now() -> String { Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)) }
}
