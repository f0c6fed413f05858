import Foundation
import Logging
import SQLiteNIO
import Testing
import TesseraCore
@testable import Analytics

/// The embedded engine with ClickHouse's common functions, on a scratch workspace file.
@Suite struct EngineTests {
    static func database() async throws -> (WorkspaceDatabase, AnalyticsEngine) {
        let engine = AnalyticsEngine(directory: FileManager.default.temporaryDirectory.appendingPathComponent("analytics-\(UUID())").path,
                                     logger: Logger(label: "test"))
        return (try await engine.database(UUID().uuidString), engine)
    }

    static let sales = DataSourceDefinition(name: "sales", columns: [
        ColumnSpec(name: "timestamp", type: .dateTime), ColumnSpec(name: "city", type: .lowCardinality(.string)),
        ColumnSpec(name: "amount", type: .float(bits: 64)), ColumnSpec(name: "paid", type: .bool),
    ])

    func value(_ database: WorkspaceDatabase, _ sql: String, _ binds: [SQLiteData] = []) async throws -> SQLiteData? {
        try await database.query(RenderedSQL(sql: sql, binds: binds)).rows.first?.first
    }

    /// `ENGINE_SORTING_KEY` becomes an index the engine uses for filters that lead with its columns.
    @Test func sortingKeysAreIndexes() async throws {
        let (database, engine) = try await Self.database()
        var keyed = Self.sales
        keyed.name = "keyed"
        keyed.engine = ["ENGINE \"MergeTree\"", "ENGINE_SORTING_KEY \"city, timestamp\""]
        #expect(keyed.sortingKey == ["city", "timestamp"])
        do {
            try await database.create(keyed)
            let index = try await value(database, "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'keyed_sorting_key'")
            #expect(index == .text(#"CREATE INDEX "keyed_sorting_key"\#nON "keyed" ("city", "timestamp", "amount", "paid")"#),
                    "the key's columns first, then the rest, so the index covers every query: \(String(describing: index))")
            try await database.create(keyed)  // again: the table and its index exist already
        } catch {
            Issue.record(error)
        }
        for (line, key) in [("ENGINE_SORTING_KEY \"(city)\"", ["city"]), ("ENGINE_SORTING_KEY \"toYYYYMM(timestamp)\"", nil),
                            ("ENGINE_SORTING_KEY \"tuple()\"", nil), ("ENGINE_SORTING_KEY \"nope\"", nil)] as [(String, [String]?)] {
            var definition = Self.sales
            definition.engine = [line]
            #expect(definition.sortingKey == key, "\(line)")
        }
        await engine.shutdown()
    }

    @Test func clickHouseFunctionsWork() async throws {
        let (database, engine) = try await Self.database()
        let checks: [(String, SQLiteData)] = [
            ("SELECT toDate('2026-11-21 10:30:00')", .text("2026-11-21")),
            ("SELECT toDateTime('2026-11-21')", .text("2026-11-21 00:00:00")),
            ("SELECT toStartOfDay('2026-11-21 10:30:45')", .text("2026-11-21 00:00:00")),
            ("SELECT toStartOfHour('2026-11-21 10:30:45')", .text("2026-11-21 10:00:00")),
            ("SELECT toStartOfMinute('2026-11-21 10:30:45')", .text("2026-11-21 10:30:00")),
            ("SELECT toStartOfMonth('2026-11-21 10:30:45')", .text("2026-11-01")),
            ("SELECT toStartOfWeek('2026-11-21')", .text("2026-11-15")),  // a Saturday; weeks start on Sunday
            ("SELECT toStartOfWeek('2026-11-15')", .text("2026-11-15")),
            ("SELECT toYYYYMM('2026-11-21')", .integer(202_611)),
            ("SELECT toYYYYMMDD('2026-11-21 23:59:59')", .integer(20_261_121)),
            ("SELECT toDate(1763683200)", .text("2025-11-21")),
            ("SELECT if(1 > 2, 'yes', 'no')", .text("no")),
            ("SELECT multiIf(0, 'a', 1, 'b', 'c')", .text("b")),
            ("SELECT multiIf(0, 'a', 0, 'b', 'c')", .text("c")),
            ("SELECT concat('a', 1, 'b')", .text("a1b")),
            ("SELECT toString(42)", .text("42")),
            ("SELECT toInt32('7.9')", .integer(7)),
            ("SELECT toFloat64('2.5')", .float(2.5)),
            ("SELECT coalesce(NULL, 'x')", .text("x")),
            ("SELECT round(2.456, 2)", .float(2.46)),
            ("SELECT lower('ÁB') || upper('c') || length('abc')", .text("Áb" + "C3")),
            ("SELECT length(today()) + length(now())", .integer(29)),
            ("SELECT count()", .integer(1)),
            ("SELECT toInt64(1e30)", .null),
            ("SELECT toInt32('1e300')", .null),
            ("SELECT toDate(1e300)", .null),
            ("SELECT toStartOfDay(-1e300)", .null),
        ]
        for (sql, expected) in checks {
            #expect(try await value(database, sql) == expected, "\(sql)")
        }
        await engine.shutdown()
    }

    @Test func aggregatesAndIngestionKeepEverything() async throws {
        let (database, engine) = try await Self.database()
        try await database.create(Self.sales)
        let outcome = Ingestion.ndjson("""
            {"timestamp":"2026-11-01 10:00:00","city":"Madrid","amount":10,"paid":true}
            {"timestamp":"2026-11-01 11:00:00","city":"Madrid","amount":5.5,"paid":false}
            {"timestamp":"2026-11-02 09:00:00","city":"Lisbon","amount":20,"paid":true}
            {"timestamp":"not a time","city":"Lisbon","amount":1,"paid":true}
            {"timestamp":"2026-11-02 09:00:00","city":"Lisbon","amount":"lots","paid":true}
            [1,2,3]
            {"timestamp":"2026-11-02 09:00:00","amount":3,"paid":true}
            """, into: Self.sales)
        #expect(outcome.rows.count == 3)
        #expect(outcome.quarantined.map(\.column) == ["timestamp", "amount", "", "city"])
        #expect(outcome.quarantined[0].error.hasPrefix("timestamp: expected DateTime"))
        try await database.append(Self.sales, rows: outcome.rows, quarantined: outcome.quarantined)
        let row = try await database.query(RenderedSQL(sql: """
            SELECT countIf(paid) AS paid, sumIf(amount, city = 'Madrid') AS madrid, avgIf(amount, paid) AS average,
                   uniq(city) AS cities, uniqExact(city, toDate(timestamp)) AS city_days, count() AS total
            FROM sales
            """, binds: []))
        #expect(row.columns == ["paid", "madrid", "average", "cities", "city_days", "total"])
        #expect(row.rows.first == [.integer(2), .float(15.5), .float(15), .integer(2), .integer(2), .integer(3)])
        #expect(try await database.rowCount("sales") == 3)
        #expect(try await database.rowCount("sales_quarantine") == 4)
        let reasons = try await database.query(RenderedSQL(sql: "SELECT c__error FROM sales_quarantine ORDER BY rowid", binds: []))
        #expect(reasons.rows.count == 4)

        // An empty result still names its columns.
        let empty = try await database.query(RenderedSQL(sql: "SELECT city, amount FROM sales WHERE city = ?", binds: [.text("Nowhere")]))
        #expect(empty.columns == ["city", "amount"] && empty.rows.isEmpty)

        // The reader cannot write, whatever SQL a pipe holds.
        await #expect(throws: (any Error).self) {
            try await database.query(RenderedSQL(sql: "SELECT * FROM sales; DELETE FROM sales", binds: []))
        }
        await #expect(throws: (any Error).self) {
            try await database.query(RenderedSQL(sql: "WITH gone AS (DELETE FROM sales RETURNING *) SELECT * FROM gone", binds: []))
        }
        #expect(try await value(database, "SELECT count(*) FROM sales") == .integer(3), "counted afresh, not from the cache")
        try await database.truncate("sales")
        #expect(try await database.rowCount("sales") == 0)
        await engine.shutdown()
    }

    /// Lines end at `\n` or `\r\n`; a line separator inside a string is part of the value; blank lines are skipped; a
    /// line that is not valid JSON is quarantined with its text.
    @Test func ndjsonSplitsOnLineFeedsOnly() {
        let text = "{\"timestamp\":\"2026-11-01 10:00:00\",\"city\":\"Má\u{2028}laga\",\"amount\":1,\"paid\":true}\r\n"
            + "  \r\n\n"
            + "{\"timestamp\":\"2026-11-01 10:00:00\",\"city\":\"Porto\",\"amount\":2,\"paid\":false}"
        let outcome = Ingestion.ndjson(text, into: Self.sales)
        #expect(outcome.rows.count == 2 && outcome.quarantined.isEmpty, "\(outcome.quarantined)")
        #expect(outcome.rows.first?.contains(.text("Má\u{2028}laga")) == true)
        let bad = Ingestion.ndjson("{\"city\":\"a\n{\"city\":\"ok\"}", into: Self.sales)
        #expect(bad.quarantined.count == 2 && bad.quarantined[0].line == "{\"city\":\"a", "\(bad.quarantined)")
        #expect(bad.quarantined[1].column == "timestamp")
    }
}
