import Foundation
import TesseraCore

/// Rows bound for one ClickHouse table, written in blocks. ClickHouse wants few large inserts rather than many small
/// ones (each insert is a part on disk, merged later), while the Events API takes many small requests: appends that
/// arrive within `window` of each other, or until `maximumRows` are waiting, go as one `INSERT … FORMAT JSONEachRow`.
/// `append` returns once its rows are written, so nothing is acknowledged that ClickHouse does not hold; a block
/// ClickHouse refuses fails every append in it, and nothing of it is written (a block is all or none).
public actor ClickHouseInsertBuffer {
    public let client: ClickHouseClient
    public let table: String
    let window: Duration
    let maximumRows: Int
    /// Connection refused (the server restarting) is retried this long; nothing was sent, so nothing is written twice.
    let retryFor: Duration
    /// Sent with every insert (`insert_distributed_sync` on a cluster).
    let settings: [String: String]

    private var lines: [UInt8] = []
    private var rowCount = 0
    private var waiters: [CheckedContinuation<Void, any Error>] = []
    private var flushScheduled = false
    /// Blocks sent so far, written or refused.
    public private(set) var blocks = 0

    public init(client: ClickHouseClient, table: String, window: Duration = .milliseconds(20), maximumRows: Int = 100_000,
                retryFor: Duration = .seconds(5), settings: [String: String] = [:]) {
        self.settings = settings
        self.client = client
        self.table = table
        self.window = window
        self.maximumRows = maximumRows
        self.retryFor = retryFor
    }

    /// Adds rows (JSON objects with the table's columns) to the next block and waits until that block is written.
    public func append(_ rows: [JSONValue]) async throws {
        var encoded: [UInt8] = []
        for row in rows {
            encoded.append(contentsOf: row.jsonText().utf8)
            encoded.append(UInt8(ascii: "\n"))
        }
        try await append(lines: encoded, count: rows.count)
    }

    /// Adds rows already written as `JSONEachRow` lines (`count` of them) and waits until their block is written.
    public func append(lines encoded: [UInt8], count: Int) async throws {
        guard count > 0 else { return }
        lines.append(contentsOf: encoded)
        rowCount += count
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            waiters.append(continuation)
            if rowCount >= maximumRows {
                Task { await self.flush() }
            } else if !flushScheduled {
                flushScheduled = true
                let window = self.window
                Task {
                    try? await Task.sleep(for: window)
                    await self.flush()
                }
            }
        }
    }

    /// Writes what is waiting as one block and answers everyone who waited for it.
    private func flush() async {
        flushScheduled = false
        guard !waiters.isEmpty else { return }
        let body = lines, waiting = waiters
        lines = []
        rowCount = 0
        waiters = []
        blocks += 1
        let outcome: Result<Void, any Error>
        do {
            try await insertRetryingRefusedConnections(body)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        for waiter in waiting { waiter.resume(with: outcome) }
    }

    private func insertRetryingRefusedConnections(_ body: [UInt8]) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: retryFor)
        var pause = Duration.milliseconds(100)
        while true {
            do {
                return try await client.insert(into: table, lines: body, settings: settings)
            } catch let error as ClickHouseError where error.isRefusedConnection && clock.now.advanced(by: pause) < deadline {
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(1))
            }
        }
    }
}
