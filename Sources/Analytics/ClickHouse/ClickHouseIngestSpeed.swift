import Foundation
import TesseraCore

/// `tessera speed clickhouse --url URL`: rows/s written to ClickHouse through ``ClickHouseInsertBuffer`` by
/// concurrent appenders, into a table shaped like the demo's `sales` (the client's and buffer's ceiling, below what
/// the Events API adds on top).
public enum ClickHouseIngestSpeed {
    public struct Report: Sendable {
        public let rows: Int
        public let seconds: Double
        public let blocks: Int
        public var rowsPerSecond: Double { Double(rows) / seconds }
    }

    public static func measure(url: String, rows: Int, batch: Int, tasks: Int) async throws -> Report {
        let client = ClickHouseClient(settings: ClickHouseSettings(url: url, timeout: .seconds(60)))
        let table = "tessera_speed_\(RandomToken.hex(bytes: 4))"
        try await client.execute("""
            CREATE TABLE \(table) (timestamp DateTime, order_id String, city String, product String, units UInt16, amount Float64)
            ENGINE = MergeTree PARTITION BY toYYYYMM(timestamp) ORDER BY (city, timestamp)
            """)
        let buffer = ClickHouseInsertBuffer(client: client, table: table)
        let cities = ["Paris", "Rome", "Oslo", "Lima", "Kyiv", "Baku", "Doha", "Riga"]
        // Rows are made before the clock starts: the figure is the writing, not the making.
        let batches: [[JSONValue]] = (0..<max(1, rows / batch)).map { index in
            (0..<batch).map { offset in
                let n = index * batch + offset
                return ["timestamp": .string("2026-12-\(String(format: "%02d", 1 + n % 28)) 10:00:00"), "order_id": .string("o-\(n)"),
                        "city": .string(cities[n % cities.count]), "product": "widget", "units": .number(Double(1 + n % 9)),
                        "amount": .number(Double(n % 1000) / 10)]
            }
        }
        let clock = ContinuousClock()
        let started = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<tasks {
                group.addTask {
                    for index in stride(from: worker, to: batches.count, by: tasks) { try await buffer.append(batches[index]) }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = started.duration(to: clock.now)
        let written = Int(try await client.query("SELECT count() FROM \(table)").rows.first?.first?.numberValue ?? 0)
        try await client.execute("DROP TABLE \(table)")
        return Report(rows: written, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                      blocks: await buffer.blocks)
    }
}
