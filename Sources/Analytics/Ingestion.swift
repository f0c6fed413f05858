import Foundation
import SQLiteNIO
import TesseraCore

/// Turns NDJSON or CSV into rows that fit a data source, and the rest into quarantined rows with a reason.
public enum Ingestion {
    public struct Outcome: Sendable, Equatable {
        public var rows: [[SQLiteData]] = []
        public var quarantined: [QuarantinedRow] = []
    }

    public static func ndjson(_ text: String, into definition: DataSourceDefinition) -> Outcome {
        var outcome = Outcome()
        for line in text.split(whereSeparator: \.isNewline) where !line.allSatisfy(\.isWhitespace) {
            guard let parsed = try? JSONValue.parse(String(line)), case .object(let fields) = parsed else {
                outcome.quarantined.append(QuarantinedRow(error: "the line is not a JSON object", column: "", line: String(line.prefix(4096))))
                continue
            }
            var row: [SQLiteData] = []
            var mismatch: QuarantinedRow?
            for column in definition.columns {
                do { row.append(try column.type.storable(column.value(in: fields))) } catch {
                    mismatch = QuarantinedRow(error: "\(column.name): \(error.reason)", column: column.name, line: String(line.prefix(4096)))
                    break
                }
            }
            if let mismatch { outcome.quarantined.append(mismatch) } else { outcome.rows.append(row) }
        }
        return outcome
    }

    /// CSV rows map to columns by position; a first row that repeats the column names is a header and skipped.
    public static func csv(_ text: String, into definition: DataSourceDefinition) -> Outcome {
        var outcome = Outcome()
        var records = CSV.records(text)
        let names = definition.columns.map(\.name)
        if let first = records.first, first.fields.map({ $0.trimmingCharacters(in: .whitespaces) }) == names { records.removeFirst() }
        for record in records {
            guard record.fields.count == definition.columns.count else {
                outcome.quarantined.append(QuarantinedRow(error: "expected \(definition.columns.count) fields, found \(record.fields.count)",
                                                          column: "", line: String(record.line.prefix(4096))))
                continue
            }
            var row: [SQLiteData] = []
            var mismatch: QuarantinedRow?
            for (column, field) in zip(definition.columns, record.fields) {
                do { row.append(try column.type.storable(csv: field)) } catch {
                    mismatch = QuarantinedRow(error: "\(column.name): \(error.reason)", column: column.name, line: String(record.line.prefix(4096)))
                    break
                }
            }
            if let mismatch { outcome.quarantined.append(mismatch) } else { outcome.rows.append(row) }
        }
        return outcome
    }
}
