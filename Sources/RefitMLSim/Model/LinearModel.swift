import Foundation

/// The emulator's `.ilearner` content: a linear regression model serialized as JSON.
///
/// Real `.ilearner` files are an undocumented binary; clients treat them as opaque, so the
/// emulator is free to use a readable format that tests can inspect.
public struct LinearModel: Codable, Sendable, Equatable {
    /// Format tag that identifies an emulator model blob.
    public static let formatTag = "refit-mlsim-linear/1"

    public var format: String
    public var labelColumn: String
    public var features: [String]
    public var intercept: Double
    public var coefficients: [String: Double]
    public var trainedAt: Date
    public var rows: Int

    public init(labelColumn: String, features: [String], intercept: Double, coefficients: [String: Double],
                trainedAt: Date, rows: Int) {
        self.format = Self.formatTag
        self.labelColumn = labelColumn
        self.features = features
        self.intercept = intercept
        self.coefficients = coefficients
        self.trainedAt = trainedAt
        self.rows = rows
    }

    /// The fixed model every predictive endpoint serves until it is patched: y = x1 + x2.
    public static let initial = LinearModel(
        labelColumn: "y", features: ["x1", "x2"], intercept: 0, coefficients: ["x1": 1, "x2": 1],
        trainedAt: Date(timeIntervalSince1970: 1_420_070_400), rows: 0)

    /// Prediction for one row given by feature name.
    public func predict(_ values: [String: Double]) -> Double? {
        var sum = intercept
        for feature in features {
            guard let value = values[feature] else { return nil }
            sum += (coefficients[feature] ?? 0) * value
        }
        return sum
    }

    /// Serialized `.ilearner` bytes.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    /// Reads `.ilearner` bytes; nil when they are not an emulator model.
    public static func decode(_ data: Data) -> LinearModel? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let model = try? decoder.decode(LinearModel.self, from: data), model.format == formatTag,
              model.features.allSatisfy({ model.coefficients[$0] != nil }) else { return nil }
        return model
    }
}
