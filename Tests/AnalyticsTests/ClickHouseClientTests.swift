import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TesseraCore
@testable import Analytics

/// The ClickHouse client against a real server: Debian's clickhouse-server 18.16, started on loopback by `make test`
/// (`scripts/clickhouse.sh`), which names it in TESSERA_TEST_CLICKHOUSE_URL and the two-shard cluster's nodes in
/// TESSERA_TEST_CLICKHOUSE_CLUSTER_URLS.
@Suite struct ClickHouseClientTests {
    static let url = ProcessInfo.processInfo.environment["TESSERA_TEST_CLICKHOUSE_URL"]
    static let clusterURLs = ProcessInfo.processInfo.environment["TESSERA_TEST_CLICKHOUSE_CLUSTER_URLS"]?
        .split(separator: " ").map(String.init) ?? []

    static func table() -> String { "t_\(RandomToken.hex(bytes: 6))" }

    @Test(.enabled(if: ClickHouseClientTests.url != nil))
    func createInsertAndQueryWithTypesAndStatistics() async throws {
        let client = ClickHouseClient(settings: ClickHouseSettings(url: try #require(Self.url)))
        #expect(await client.ping())
        let table = Self.table()
        try await client.execute("CREATE TABLE \(ClickHouseSQL.identifier(table)) (city String, n UInt64, at DateTime) ENGINE = MergeTree ORDER BY city")
        defer { Task { try? await client.execute("DROP TABLE IF EXISTS \(ClickHouseSQL.identifier(table))") } }
        let hostile = "O'Brien \\ \"quoted\"\nnew line; DROP TABLE x --"
        try await client.insert(into: table, rows: [
            ["city": "Paris", "n": 1, "at": "2026-12-05 10:00:00"],
            ["city": .string(hostile), "n": 4_000_000_000_000, "at": "2026-12-05 11:00:00"],
            ["city": "Paris", "n": 2, "at": "2026-12-05 12:00:00"],
        ])
        let result = try await client.query("SELECT city, sum(n) AS total, max(at) AS last FROM \(ClickHouseSQL.identifier(table)) GROUP BY city ORDER BY city")
        #expect(result.columns == [.init(name: "city", type: "String"), .init(name: "total", type: "UInt64"), .init(name: "last", type: "DateTime")])
        #expect(result.rows.count == 2 && result.rows.first { $0.first == "Paris" }?[1] == 3)
        #expect(result.rowsRead == 3 && result.bytesRead > 0 && result.elapsed >= 0)
        // A value with quotes, backslashes and a newline, as a literal, finds exactly its row.
        let found = try await client.query("SELECT count() FROM \(ClickHouseSQL.identifier(table)) WHERE city = \(ClickHouseSQL.string(hostile))")
        #expect(found.rows == [[1]])
    }

    @Test(.enabled(if: ClickHouseClientTests.url != nil))
    func mistakesComeBackAsClickHouseErrorsAndBadBlocksWriteNothing() async throws {
        let client = ClickHouseClient(settings: ClickHouseSettings(url: try #require(Self.url)))
        await #expect(throws: ClickHouseError.self) { _ = try await client.query("SELEC 1") }
        do { _ = try await client.query("SELECT * FROM no_such_table_anywhere") } catch let error as ClickHouseError {
            guard case .server(let code, let message) = error else { Issue.record("\(error)"); return }
            #expect(code == 60 && message.contains("no_such_table_anywhere") && !message.contains("e.what()"))
        }
        let table = Self.table()
        try await client.execute("CREATE TABLE \(table) (n UInt32) ENGINE = MergeTree ORDER BY n")
        defer { Task { try? await client.execute("DROP TABLE IF EXISTS \(table)") } }
        do {
            try await client.insert(into: table, rows: [["n": 1], ["n": "not a number"]])
            Issue.record("a bad row was accepted")
        } catch let error as ClickHouseError {
            guard case .server(let code, _) = error else { Issue.record("\(error)"); return }
            #expect(code == 27)
        }
        #expect(try await client.query("SELECT count() FROM \(table)").rows == [[0]])
    }

    @Test(.enabled(if: ClickHouseClientTests.url != nil))
    func anUnreachableOrSlowServerIsUnavailableWithinTheTimeout() async throws {
        let nobody = ClickHouseClient(settings: ClickHouseSettings(url: "http://127.0.0.1:9", timeout: .seconds(2)))
        #expect(await !nobody.ping())
        do { _ = try await nobody.query("SELECT 1"); Issue.record("answered") } catch let error as ClickHouseError {
            guard case .unavailable = error else { Issue.record("\(error)"); return }
        }
        let slow = ClickHouseClient(settings: ClickHouseSettings(url: try #require(Self.url), timeout: .milliseconds(300)))
        do { _ = try await slow.query("SELECT sleep(2)"); Issue.record("answered") } catch let error as ClickHouseError {
            guard case .unavailable = error else { Issue.record("\(error)"); return }
        }
    }

    /// Two servers, one shard each: rows written through a Distributed table land on both, and it reads them all.
    @Test(.enabled(if: ClickHouseClientTests.clusterURLs.count == 2))
    func aDistributedTableSpreadsRowsOverTwoShards() async throws {
        let nodes = Self.clusterURLs.map { ClickHouseClient(settings: ClickHouseSettings(url: $0, cluster: "tessera_cluster")) }
        let table = Self.table()
        for node in nodes {
            try await node.execute("CREATE TABLE \(table)_local (city String, n UInt32) ENGINE = MergeTree ORDER BY city")
        }
        try await nodes[0].execute("CREATE TABLE \(table) AS \(table)_local ENGINE = Distributed(tessera_cluster, default, \(table)_local, rand())")
        defer {
            Task { for node in nodes { try? await node.execute("DROP TABLE IF EXISTS \(table)"); try? await node.execute("DROP TABLE IF EXISTS \(table)_local") } }
        }
        try await nodes[0].insert(into: table, rows: (0..<200).map { ["city": .string("c\($0 % 7)"), "n": .number(Double($0))] },
                                  settings: ["insert_distributed_sync": "1"])
        var perShard: [Int] = []
        for node in nodes {
            perShard.append(Int(try await node.query("SELECT count() FROM \(table)_local").rows.first?.first?.numberValue ?? -1))
        }
        #expect(perShard.allSatisfy { $0 > 0 } && perShard.reduce(0, +) == 200, "\(perShard)")
        let total = try await nodes[0].query("SELECT count(), sum(n) FROM \(table)")
        #expect(total.rows == [[200, 19_900]])
    }

    @Test func literalsAndIdentifiersAreEscaped() {
        #expect(ClickHouseSQL.string("it's") == #"'it\'s'"#)
        #expect(ClickHouseSQL.string("a\\b\nc\t\0") == #"'a\\b\nc\t\0'"#)
        #expect(ClickHouseSQL.identifier("we`ird") == #"`we\`ird`"#)
        #expect(ClickHouseError.parse("Code: 62, e.displayText() = DB::Exception: Syntax error: failed at position 1, e.what() = DB::Exception\n", status: 500)
                == .server(code: 62, message: "Syntax error: failed at position 1"))
        #expect(ClickHouseError.parse("", status: 502) == .server(code: 0, message: "HTTP 502"))
    }
}
