import Foundation

/// The rows of an RRS request (`Inputs.input1` as `ColumnNames` + `Values`, or as row objects).
struct ScoringTable {
    var columns: [String]
    var rows: [[String]]

    init(parsing body: Data) throws(MLServiceError) {
        guard !body.isEmpty, let root = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw .badArgument("RequestBodyInvalid", "The request body is not a JSON object.")
        }
        guard let inputs = root["Inputs"] as? [String: Any], !inputs.isEmpty else {
            throw .badArgument("RequestBodyInvalid", "The request body has no Inputs.")
        }
        let unknown = inputs.keys.filter { $0 != "input1" }.sorted()
        guard unknown.isEmpty else {
            throw .badArgument("InvalidInputNames", "Input name(s) \(unknown.joined(separator: ", ")) do not match the web service inputs (input1).")
        }
        if let table = inputs["input1"] as? [String: Any] {
            guard let names = table["ColumnNames"] as? [Any], let values = table["Values"] as? [Any] else {
                throw .badArgument("RequestBodyInvalid", "Inputs.input1 needs ColumnNames and Values.")
            }
            columns = try names.map { name throws(MLServiceError) in
                guard let text = name as? String else { throw .badArgument("RequestBodyInvalid", "ColumnNames must be strings.") }
                return text
            }
            rows = []
            for value in values {
                guard let row = value as? [Any], row.count == columns.count else {
                    throw .badUserArgument("InputMismatchError", "Every row of Values must have one value per column name.")
                }
                rows.append(try row.map(Self.cell))
            }
        } else if let objects = inputs["input1"] as? [Any] {
            var names: [String] = []
            var maps: [[String: String]] = []
            for object in objects {
                guard let dict = object as? [String: Any] else {
                    throw .badArgument("RequestBodyInvalid", "Row objects in Inputs.input1 must be JSON objects.")
                }
                var map: [String: String] = [:]
                for key in dict.keys.sorted() {
                    if !names.contains(key) { names.append(key) }
                    map[key] = try Self.cell(dict[key] as Any)
                }
                maps.append(map)
            }
            columns = names
            rows = maps.map { map in names.map { map[$0] ?? "" } }
        } else {
            throw .badArgument("RequestBodyInvalid", "Inputs.input1 must be a table (ColumnNames, Values) or an array of rows.")
        }
    }

    private static func cell(_ value: Any) throws(MLServiceError) -> String {
        switch value {
        case let text as String: return text
        case let number as NSNumber: return number.stringValue
        case is NSNull: return ""
        default: throw .badUserArgument("InputParseError", "Input values must be strings or numbers.")
        }
    }

    /// Appends "Scored Labels" computed by the model; values stay strings as in the classic service.
    func score(with model: LinearModel, details: Bool) throws(MLServiceError) -> Data {
        for feature in model.features where !columns.contains(feature) {
            throw .badUserArgument("InputMismatchError", "Column '\(feature)' is required by the model but missing from the input.")
        }
        var outputRows: [[String]] = []
        for (rowIndex, row) in rows.enumerated() {
            var values: [String: Double] = [:]
            for feature in model.features {
                guard let index = columns.firstIndex(of: feature) else { continue }
                guard let number = Double(row[index].trimmingCharacters(in: .whitespaces)), number.isFinite else {
                    throw .badUserArgument("InputParseError", "Row \(rowIndex + 1), column '\(feature)': '\(row[index].prefix(40))' is not a number.")
                }
                values[feature] = number
            }
            let prediction = model.predict(values) ?? .nan
            outputRows.append(row + [Self.format(prediction)])
        }
        var value: [String: Any] = ["ColumnNames": columns + ["Scored Labels"], "Values": outputRows]
        if details {
            value["ColumnTypes"] = columns.indices.map { index in
                rows.allSatisfy { Double($0[index]) != nil } ? "Numeric" : "String"
            } + ["Numeric"]
        }
        return Emulator.json(["Results": ["output1": ["type": "DataTable", "value": value]]])
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
