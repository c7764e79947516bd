import ArgumentParser
import Foundation
import Logging
import RefitCore

/// `--log-format text|json` for the worker commands.
enum LogFormat: String, CaseIterable, ExpressibleByArgument {
    case text, json
}

/// One JSON object per line on stderr, for log shippers: `at` (ISO 8601 with milliseconds),
/// `level`, `logger`, `message` (exactly once), then the metadata (pipeline, activity, window,
/// runId …) with typed values.
///
/// swift-log metadata values are strings, so values are rendered by what they hold: integers
/// and decimals as JSON numbers, `true`/`false` as booleans, and `"-"` — the worker's
/// placeholder for an absent value — as `null`. A metadata key that collides with one of the
/// fixed keys is renamed (`message` → `detail`), so no key appears twice.
struct JSONLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let label: String

    /// The keys every line has; metadata never overrides them.
    static let reservedKeys: Set<String> = ["at", "level", "logger", "message"]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        Self.write(level: event.level.rawValue, label: label, message: event.message.description,
                   fields: merged.keys.sorted().map { ($0, Self.value(merged[$0]!)) })
    }

    /// Writes one line; `fields` follow the fixed keys, renamed where they collide.
    static func write(level: String, label: String, message: String, fields: [(String, JSONOutput)] = []) {
        var object: [(String, JSONOutput)] = [
            ("at", .string(SystemClockText.now())), ("level", .string(level)), ("logger", .string(label)),
            ("message", .string(message)),
        ]
        var used = reservedKeys
        for (key, value) in fields {
            var name = key
            if used.contains(name) { name = key == "message" ? "detail" : key + "Field" }
            while used.contains(name) { name += "_" }
            used.insert(name)
            object.append((name, value))
        }
        FileHandle.standardError.write(Data((JSONOutput.object(object).renderCompact() + "\n").utf8))
    }

    /// A metadata value as typed JSON (see the type's documentation).
    static func value(_ value: Logger.Metadata.Value) -> JSONOutput {
        switch value {
        case .string(let text): return scalar(text)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as any BinaryInteger: return Int64(exactly: number).map(JSONOutput.int) ?? .string("\(number)")
            case let number as Double: return .double(number)
            case let flag as Bool: return .bool(flag)
            default: return scalar(convertible.description)
            }
        case .array(let items): return .array(items.map(Self.value))
        case .dictionary(let entries): return .object(entries.keys.sorted().map { ($0, Self.value(entries[$0]!)) })
        }
    }

    /// A string value as the JSON scalar it spells, else as a string.
    static func scalar(_ text: String) -> JSONOutput {
        switch text {
        case "-": return .null
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: break
        }
        switch JSONString.numberShape(text) {
        case .integer: if let integer = Int64(text) { return .int(integer) }
        case .decimal: if let number = Double(text), number.isFinite { return .double(number) }
        case nil: break
        }
        return .string(text)
    }
}

enum SystemClockText {
    static func now() -> String { SystemWallClock().now.iso8601Milliseconds }
}
