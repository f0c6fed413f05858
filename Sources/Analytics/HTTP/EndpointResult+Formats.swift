import TesseraCore

/// Tinybird's answer formats for a pipe: `.json` (`meta`, `data`, `rows`, `rows_before_limit_at_least`,
/// `statistics`), `.ndjson` and `.csv` (with a header line).
extension EndpointResult {
    /// The JSON shape with columns in the query's order (JSONValue objects sort their keys).
    public var orderedJSONText: String {
        var out = #"{"meta":"# + JSONValue.array(meta.map { .object(["name": .string($0.name), "type": .string($0.type)]) }).jsonText()
        out += #","data":["#
        for (index, row) in data.enumerated() {
            if index > 0 { out += "," }
            out += Self.objectText(meta.map(\.name), row)
        }
        out += #"],"rows":\#(data.count),"rows_before_limit_at_least":\#(rowsBeforeLimit),"statistics":"#
        out += JSONValue.object(["elapsed": .number(elapsed), "rows_read": .number(Double(rowsRead)),
                                 "bytes_read": .number(Double(bytesRead))]).jsonText()
        return out + "}"
    }

    static func objectText(_ names: [String], _ row: [JSONValue]) -> String {
        var out = "{"
        for (index, (name, value)) in zip(names, row).enumerated() {
            if index > 0 { out += "," }
            out += JSONValue.string(name).jsonText() + ":" + value.jsonText()
        }
        return out + "}"
    }

    public var ndjson: String {
        data.map { Self.objectText(meta.map(\.name), $0) + "\n" }.joined()
    }

    public var csv: String {
        var out = meta.map { CSV.quote($0.name) }.joined(separator: ",") + "\n"
        for row in data {
            out += row.map { value -> String in
                switch value {
                case .null: ""
                case .string(let text): CSV.quote(text)
                case .array, .object: CSV.quote(value.jsonText())
                default: value.jsonText()
                }
            }.joined(separator: ",") + "\n"
        }
        return out
    }
}
