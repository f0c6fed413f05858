import Foundation
import Testing
import TesseraCore
@testable import Analytics

/// Appends that arrive together go as one block; a refused block writes nothing and fails every append in it.
@Suite struct ClickHouseInsertBufferTests {
    @Test(.enabled(if: ClickHouseClientTests.url != nil))
    func concurrentAppendsShareBlocksAndAreWrittenWhenTheyReturn() async throws {
        let client = ClickHouseClient(settings: ClickHouseSettings(url: try #require(ClickHouseClientTests.url)))
        let table = ClickHouseClientTests.table()
        try await client.execute("CREATE TABLE \(table) (request UInt32, n UInt32) ENGINE = MergeTree ORDER BY request")
        let buffer = ClickHouseInsertBuffer(client: client, table: table, window: .milliseconds(50))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for request in 0..<50 {
                group.addTask {
                    try await buffer.append((0..<100).map { ["request": .number(Double(request)), "n": .number(Double($0))] })
                    // Acknowledged means written: this request's rows are readable the moment append returns.
                    let written = try await client.query("SELECT count() FROM \(table) WHERE request = \(request)")
                    #expect(written.rows == [[100]])
                }
            }
            try await group.waitForAll()
        }
        #expect(try await client.query("SELECT count(), uniqExact(request) FROM \(table)").rows == [[5000, 50]])
        let blocks = await buffer.blocks
        #expect(blocks < 50, "\(blocks) blocks for 50 appends")
        try await client.execute("DROP TABLE \(table)")
    }

    @Test(.enabled(if: ClickHouseClientTests.url != nil))
    func aRefusedBlockFailsEveryAppendInItAndWritesNothing() async throws {
        let client = ClickHouseClient(settings: ClickHouseSettings(url: try #require(ClickHouseClientTests.url)))
        let table = ClickHouseClientTests.table()
        try await client.execute("CREATE TABLE \(table) (n UInt32) ENGINE = MergeTree ORDER BY n")
        let buffer = ClickHouseInsertBuffer(client: client, table: table, window: .milliseconds(100))
        async let good: Void = buffer.append([["n": 1], ["n": 2]])
        async let bad: Void = buffer.append([["n": "three"]])
        var failures = 0
        do { try await good } catch { failures += 1 }
        do { try await bad } catch { failures += 1 }
        #expect(failures == 2)
        #expect(try await client.query("SELECT count() FROM \(table)").rows == [[0]])
        // The next block is a new one.
        try await buffer.append([["n": 4]])
        #expect(try await client.query("SELECT count() FROM \(table)").rows == [[1]])
        try await client.execute("DROP TABLE \(table)")
    }

    @Test func aRefusedConnectionIsToldApart() async throws {
        let nobody = ClickHouseClient(settings: ClickHouseSettings(url: "http://127.0.0.1:9", timeout: .seconds(2)))
        do {
            try await nobody.insert(into: "t", rows: [["n": 1]])
            Issue.record("inserted into nothing")
        } catch let error as ClickHouseError {
            #expect(error.isRefusedConnection, "\(error)")
        }
        // Retried while the window lasts, then reported as what it is.
        let buffer = ClickHouseInsertBuffer(client: nobody, table: "t", window: .milliseconds(1), retryFor: .milliseconds(600))
        do {
            try await buffer.append([["n": 1]])
            Issue.record("appended into nothing")
        } catch let error as ClickHouseError {
            #expect(error.isRefusedConnection, "\(error)")
        }
    }
}
