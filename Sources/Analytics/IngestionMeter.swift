import Foundation
import SQLKit
import TesseraCore
import TesseraStore

/// Rows appended to each data source, per minute, kept in the main store so every instance's appends add up.
/// Counts gather in memory and are written at most every few seconds, so the append path (the Events API at hundreds
/// of thousands of rows a second) pays for a dictionary update, not a write. A crash loses at most those seconds.
public actor IngestionMeter {
    public static let flushInterval: TimeInterval = 5
    /// Minutes older than this are deleted as new ones are written.
    public static let retention: TimeInterval = 7 * 86_400

    struct Key: Hashable { let workspace: String; let datasource: String; let minute: Int }
    public struct Minute: Sendable, Equatable {
        public let start: Date
        public let rows: Int
        public let quarantined: Int
    }

    let store: Store
    let clock: TesseraClock
    private var pending: [Key: (rows: Int, quarantined: Int)] = [:]
    private var lastFlush: Date
    /// The write under way, which a later flush waits for, so a read after `flush()` sees every count before it.
    private var writing: (number: Int, task: Task<Void, any Error>)?
    private var writes = 0

    public init(store: Store, clock: TesseraClock) {
        self.store = store
        self.clock = clock
        lastFlush = clock.now()
    }

    /// Counts an append; writes what has gathered in the background once the interval has passed.
    public func record(workspace: String, datasource: String, rows: Int, quarantined: Int) {
        guard rows + quarantined > 0 else { return }
        let now = clock.now()
        let key = Key(workspace: workspace, datasource: datasource, minute: Int(now.timeIntervalSince1970) / 60 * 60)
        let sum = pending[key] ?? (0, 0)
        pending[key] = (sum.rows + rows, sum.quarantined + quarantined)
        if now.timeIntervalSince(lastFlush) >= Self.flushInterval, writing == nil {
            lastFlush = now  // one write scheduled, not one per append until it starts
            Task { try? await self.flush() }
        }
    }

    /// Writes what has gathered; on failure the counts stay for the next attempt.
    public func flush() async throws {
        while let running = writing {
            _ = try? await running.task.value
            // The writer clears this when it resumes; clearing it here too means a finished write is never waited on twice.
            if writing?.number == running.number { writing = nil }
        }
        guard !pending.isEmpty else { return }
        let batch = pending
        pending = [:]
        let now = clock.now()
        lastFlush = now
        let oldest = Int(now.addingTimeInterval(-Self.retention).timeIntervalSince1970)
        let store = self.store
        let task = Task { try await Self.write(batch, oldest: oldest, to: store) }
        writes += 1
        let number = writes
        writing = (number, task)
        defer { if writing?.number == number { writing = nil } }
        do {
            try await task.value
        } catch {
            for (key, sum) in batch {
                let current = pending[key] ?? (0, 0)
                pending[key] = (current.rows + sum.rows, current.quarantined + sum.quarantined)
            }
            throw error
        }
    }

    private static func write(_ batch: [Key: (rows: Int, quarantined: Int)], oldest: Int, to store: Store) async throws {
        try await store.transaction { db in
            // In one order on every instance, so two flushes of the same minutes wait for each other instead of deadlocking.
            for (key, sum) in batch.sorted(by: { ($0.key.workspace, $0.key.datasource, $0.key.minute) < ($1.key.workspace, $1.key.datasource, $1.key.minute) }) {
                try await db.raw("""
                    INSERT INTO analytics_ingestion (workspace_id, datasource, minute, rows_appended, rows_quarantined)
                    VALUES (\(bind: key.workspace), \(bind: key.datasource), \(bind: key.minute), \(bind: sum.rows), \(bind: sum.quarantined))
                    ON CONFLICT (workspace_id, datasource, minute) DO UPDATE SET
                        rows_appended = analytics_ingestion.rows_appended + EXCLUDED.rows_appended,
                        rows_quarantined = analytics_ingestion.rows_quarantined + EXCLUDED.rows_quarantined
                    """).run()
            }
            try await db.delete(from: "analytics_ingestion").where("minute", .lessThan, oldest).run()
        }
    }

    /// Forgets a data source's counts (it was deleted; one made again under its name starts from nothing).
    public func forget(workspace: String, datasource: String) async throws {
        try await flush()
        pending = pending.filter { !($0.key.workspace == workspace && $0.key.datasource == datasource) }
        try await store.transaction { db in
            try await db.delete(from: "analytics_ingestion").where("workspace_id", .equal, workspace).where("datasource", .equal, datasource).run()
        }
    }

    /// The last `minutes` whole minutes up to now, oldest first, every minute present (zero when nothing came).
    public func perMinute(workspace: String, datasource: String, minutes: Int) async throws -> [Minute] {
        try await flush()
        let count = max(1, min(minutes, 24 * 60))
        let last = Int(clock.now().timeIntervalSince1970) / 60 * 60
        let first = last - (count - 1) * 60
        let rows = try await store.read { db in
            try await db.select().columns("minute", "rows_appended", "rows_quarantined").from("analytics_ingestion")
                .where("workspace_id", .equal, workspace).where("datasource", .equal, datasource)
                .where("minute", .greaterThanOrEqual, first).all()
        }
        var found: [Int: (Int, Int)] = [:]
        for row in rows {
            found[try row.decode(column: "minute", as: Int.self)] =
                (try row.decode(column: "rows_appended", as: Int.self), try row.decode(column: "rows_quarantined", as: Int.self))
        }
        return (0..<count).map { index in
            let minute = first + index * 60
            let sum = found[minute] ?? (0, 0)
            return Minute(start: Date(timeIntervalSince1970: TimeInterval(minute)), rows: sum.0, quarantined: sum.1)
        }
    }
}
