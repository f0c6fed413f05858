import Foundation
import SQLiteNIO
import TesseraCore

/// Turns NDJSON or CSV into rows that fit a data source, and the rest into quarantined rows with a reason.
public enum Ingestion {
    public struct Outcome: Sendable, Equatable {
        public var rows: [[SQLiteData]] = []
        public var quarantined: [QuarantinedRow] = []
    }

    /// Rows are lines ended by `\n` (or `\r\n`), split on bytes: JSON text never holds a raw line break, and splitting
    /// by `Character` cost a quarter of ingestion's time (BENCHMARKS.md, issue 11).
    public static func ndjson(_ text: String, into definition: DataSourceDefinition) -> Outcome {
        var outcome = Outcome()
        let bytes = Array(text.utf8)
        func quarantineText(_ line: ArraySlice<UInt8>) -> String { String(decoding: line.prefix(4096), as: UTF8.self) }
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            var line = bytes[start..<end]
            start = end + 1
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            guard line.contains(where: { !Self.isJSONWhitespace($0) }) else { continue }
            guard let parsed = try? JSONValue.parse(bytes: Array(line)), case .object(let fields) = parsed else {
                outcome.quarantined.append(QuarantinedRow(error: "the line is not a JSON object", column: "", line: quarantineText(line)))
                continue
            }
            var row: [SQLiteData] = []
            row.reserveCapacity(definition.columns.count)
            var mismatch: QuarantinedRow?
            for column in definition.columns {
                do { row.append(try column.type.storable(column.value(in: fields))) } catch {
                    mismatch = QuarantinedRow(error: "\(column.name): \(error.reason)", column: column.name, line: quarantineText(line))
                    break
                }
            }
            if let mismatch { outcome.quarantined.append(mismatch) } else { outcome.rows.append(row) }
        }
        return outcome
    }

    static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
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
