import Foundation

/// Turns a training CSV into a model and its in-sample evaluation, as Train Model + Evaluate Model
/// would in the classic experiment.
public enum Trainer {
    /// Result of one training run.
    public struct Output: Sendable {
        public var model: LinearModel
        public var rmse: Double
        public var mae: Double
        public var r2: Double

        /// The evaluation CSV (`Metric,Value` rows) written to `output2`.
        public var evaluationCSV: String {
            "Metric,Value\nRMSE,\(rmse)\nMAE,\(mae)\nR2,\(r2)\nRows,\(model.rows)\n"
        }
    }

    /// Trains on CSV bytes; the label is `labelColumn` when given, else the last column.
    public static func train(csv data: Data, labelColumn: String?, trainedAt: Date) throws(TrainingError) -> Output {
        guard let text = String(data: data, encoding: .utf8) else {
            throw TrainingError("The input blob is not UTF-8 text.")
        }
        let table = try CSVTable(parsing: text)
        guard table.header.count >= 2 else {
            throw TrainingError("The input CSV needs at least one feature column and one label column.")
        }
        if Set(table.header).count != table.header.count {
            throw TrainingError("The input CSV header has duplicate column names.")
        }
        let label: String
        if let labelColumn, !labelColumn.isEmpty {
            guard table.header.contains(labelColumn) else {
                throw TrainingError("The label column '\(labelColumn)' (global parameter labelColumn) is not in the input CSV header.")
            }
            label = labelColumn
        } else {
            label = table.header[table.header.count - 1]
        }
        let featureNames = table.header.filter { $0 != label }
        let y = try table.numericColumn(label)
        var columns: [[Double]] = []
        for name in featureNames { columns.append(try table.numericColumn(name)) }
        let beta = try LeastSquares.fit(features: columns, labels: y)
        var coefficients: [String: Double] = [:]
        for (j, name) in featureNames.enumerated() { coefficients[name] = beta[j + 1] }
        let model = LinearModel(labelColumn: label, features: featureNames, intercept: beta[0],
                                coefficients: coefficients, trainedAt: trainedAt, rows: y.count)
        var squared = 0.0, absolute = 0.0, total = 0.0
        let mean = y.reduce(0, +) / Double(y.count)
        for i in y.indices {
            var prediction = beta[0]
            for j in featureNames.indices { prediction += beta[j + 1] * columns[j][i] }
            let residual = y[i] - prediction
            squared += residual * residual
            absolute += abs(residual)
            total += (y[i] - mean) * (y[i] - mean)
        }
        let n = Double(y.count)
        let r2 = total > 0 ? 1 - squared / total : 1
        return Output(model: model, rmse: (squared / n).squareRoot(), mae: absolute / n, r2: r2)
    }
}
