import Foundation
import RefitCore

/// What `refit report` reads, on any store: the SQLite `ReportRepository` or PostgreSQL's
/// reader return the same `HistorySnapshot`, so the page renders both alike. Read-only.
public protocol ReportReading: Sendable {
    /// Every pipeline with a window recorded, by name (compared byte by byte).
    func pipelines() throws -> [String]
    /// The history of `pipeline` (nil: every pipeline) whose windows and slices overlap
    /// `[from, to)` (nil: unbounded), read in one consistent snapshot. `datasets` restricts the
    /// external slices (nil: every dataset with slices recorded).
    func snapshot(pipeline: String?, datasets: [String]?, from: Instant?, to: Instant?) throws -> HistorySnapshot
}

extension ReportRepository: ReportReading {}

extension HistorySnapshot.Evaluation {
    /// The finite numbers of a stored evaluation document (a JSON object), sorted by name; nil
    /// when it is not an object or holds no number. Strings, booleans and nested values are left out.
    public static func metrics(evaluationJSON text: String) -> [Metric]? {
        guard let object = try? JSONDecoder().decode([String: NumericValue].self, from: Data(text.utf8)) else { return nil }
        let metrics = object.compactMap { name, value in value.number.map { Metric(name: name, value: $0) } }.sorted { $0.name < $1.name }
        return metrics.isEmpty ? nil : metrics
    }

    /// Keeps one evaluation per window: the last one given for it (callers pass them oldest run
    /// first), in the order each window first appeared.
    public static func newestPerWindow(_ evaluations: [Self]) -> [Self] {
        var newest: [String: Self] = [:]
        var order: [String] = []
        for evaluation in evaluations {
            let key = "\(evaluation.pipeline)\u{0}\(evaluation.activity)\u{0}\(evaluation.windowStart.iso8601)"
            if newest[key] == nil { order.append(key) }
            newest[key] = evaluation
        }
        return order.compactMap { newest[$0] }
    }
}

/// A JSON value that is a finite number, or nil for anything else (strings, booleans, objects).
private struct NumericValue: Decodable {
    var number: Double?

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if (try? container.decode(Bool.self)) != nil { number = nil; return }
        number = (try? container.decode(Double.self)).flatMap { $0.isFinite ? $0 : nil }
    }
}
