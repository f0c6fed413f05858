import Foundation
import Testing
import TesseraCore
@testable import Analytics

/// Datafiles as ClickHouse tables: the statements, for a server alone and for a cluster, and the tables they make on
/// Debian's 18.16 when `make test` runs one (see ClickHouseClientTests).
@Suite struct ClickHouseSchemaTests {
    static let sales = """
        SCHEMA >
            `timestamp` DateTime `json:$.timestamp`,
            `order_id` String `json:$.order_id`,
            `city` LowCardinality(String) `json:$.city`,
            `paid` Bool `json:$.paid`,
            `at_ms` DateTime64(3) `json:$.at_ms`,
            `tags` Array(String) `json:$.tags[:]`,
            `amount` Nullable(Float64) `json:$.amount`

        ENGINE "ReplacingMergeTree"
        ENGINE_VER "timestamp"
        ENGINE_PARTITION_KEY "toYYYYMM(timestamp)"
        ENGINE_SORTING_KEY "city, order_id"
        ENGINE_SETTINGS "index_granularity = 8192"
        """
    static let old = ClickHouseCapabilities(version: "18.16.1")
    static let modern = ClickHouseCapabilities(version: "23.8.2.7")

    @Test func statementsForOneServerFollowTheDatafile() throws {
        let definition = try Datafile.dataSource(name: "sales", text: Self.sales, file: "sales.datasource")
        let statements = try ClickHouseSchema.create(definition, database: "ws_demo", cluster: nil, capabilities: Self.modern).map(\.sql)
        #expect(statements.count == 2)
        #expect(statements[0] == "CREATE TABLE IF NOT EXISTS `ws_demo`.`sales` (`timestamp` DateTime, `order_id` String, "
                + "`city` LowCardinality(String), `paid` Bool, `at_ms` DateTime64(3), `tags` Array(String), `amount` Nullable(Float64)) "
                + "ENGINE = ReplacingMergeTree(`timestamp`) PARTITION BY toYYYYMM(timestamp) ORDER BY (city, order_id) "
                + "SETTINGS index_granularity = 8192")
        #expect(statements[1].hasPrefix("CREATE TABLE IF NOT EXISTS `ws_demo`.`sales_quarantine` (c__error String"))
        // 18.16 has none of LowCardinality, Bool or DateTime64: the values keep their stand-ins.
        let onOld = try ClickHouseSchema.create(definition, database: "ws_demo", cluster: nil, capabilities: Self.old)[0].sql
        #expect(onOld.contains("`city` String, `paid` UInt8, `at_ms` DateTime,"))
    }

    @Test func aClusterGetsLocalTablesAndDistributedOnesInFront() throws {
        let definition = try Datafile.dataSource(name: "events", text: "SCHEMA >\n    `n` UInt32\n", file: "events.datasource")
        let statements = try ClickHouseSchema.create(definition, database: "db", cluster: "tessera_cluster", capabilities: Self.old).map(\.sql)
        #expect(statements == [
            "CREATE TABLE IF NOT EXISTS `db`.`events_local` (`n` UInt32) ENGINE = MergeTree() ORDER BY tuple()",
            "CREATE TABLE IF NOT EXISTS `db`.`events_quarantine_local` (c__error String, c__error_column String, c__line String, insertion_date DateTime) ENGINE = MergeTree ORDER BY insertion_date",
            "CREATE TABLE IF NOT EXISTS `db`.`events` AS `db`.`events_local` ENGINE = Distributed(`tessera_cluster`, `db`, `events_local`, rand())",
            "CREATE TABLE IF NOT EXISTS `db`.`events_quarantine` AS `db`.`events_quarantine_local` ENGINE = Distributed(`tessera_cluster`, `db`, `events_quarantine_local`, rand())",
        ])
        #expect(ClickHouseSchema.drop("events", database: "db", cluster: "c").map(\.sql) == [
            "DROP TABLE IF EXISTS `db`.`events`", "DROP TABLE IF EXISTS `db`.`events_quarantine`",
            "DROP TABLE IF EXISTS `db`.`events_local`", "DROP TABLE IF EXISTS `db`.`events_quarantine_local`",
        ])
    }

    @Test func whatAServerCannotTakeIsRefusedByName() throws {
        let ttl = try Datafile.dataSource(name: "t", text: "SCHEMA >\n    `d` Date\n\nENGINE_TTL \"d + toIntervalDay(30)\"\n", file: "t.datasource")
        #expect(throws: DomainError.self) { try ClickHouseSchema.create(ttl, database: "db", cluster: nil, capabilities: Self.old) }
        #expect(try ClickHouseSchema.create(ttl, database: "db", cluster: nil, capabilities: Self.modern)[0].sql.hasSuffix("TTL d + toIntervalDay(30)"))
        let injected = try Datafile.dataSource(name: "t", text: "SCHEMA >\n    `d` Date\n\nENGINE_SORTING_KEY \"d; DROP TABLE x\"\n", file: "t.datasource")
        #expect(throws: DomainError.self) { try ClickHouseSchema.create(injected, database: "db", cluster: nil, capabilities: Self.modern) }
        let simple = try Datafile.dataSource(name: "t", text: "SCHEMA >\n    `total` SimpleAggregateFunction(sum, UInt64)\n", file: "t.datasource")
        do {
            _ = try ClickHouseSchema.create(simple, database: "db", cluster: nil, capabilities: Self.old)
            Issue.record("SimpleAggregateFunction was accepted on 18.16")
        } catch { #expect("\(error)".contains("19.8 or newer")) }
    }

    /// The demo's own datafile makes real tables, alone and on the two-shard cluster.
    @Test(.enabled(if: ClickHouseClientTests.url != nil))
    func theDemoDatafileMakesTablesOnARealServer() async throws {
        let text = try String(contentsOfFile: "examples/analytics/datasources/sales.datasource", encoding: .utf8)
        let definition = try Datafile.dataSource(name: "sales_\(RandomToken.hex(bytes: 4))", text: text, file: "sales.datasource")
        let client = ClickHouseClient(settings: ClickHouseSettings(url: try #require(ClickHouseClientTests.url)))
        let capabilities = ClickHouseCapabilities(version: try #require(try await client.query("SELECT version()").rows.first?.first?.stringValue))
        for statement in try ClickHouseSchema.create(definition, database: "default", cluster: nil, capabilities: capabilities) {
            try await client.execute(statement.sql)
        }
        try await client.insert(into: definition.name, rows: [
            ["timestamp": "2026-12-05 10:00:00", "order_id": "o-1", "city": "Paris", "product": "p", "units": 2, "amount": 9.5],
        ])
        #expect(try await client.query("SELECT city, sum(units) FROM \(ClickHouseSQL.identifier(definition.name)) GROUP BY city").rows == [["Paris", 2]])
        for statement in ClickHouseSchema.drop(definition.name, database: "default", cluster: nil) { try await client.execute(statement.sql) }
        #expect(try await client.query("EXISTS TABLE \(ClickHouseSQL.identifier(definition.name))").rows == [[0]])
    }
}

extension ClickHouseSchemaTests {
    /// On the two-shard cluster: every node gets the statements; rows written on one node land on both shards, and
    /// either node reads them all.
    @Test(.enabled(if: ClickHouseClientTests.clusterURLs.count == 2))
    func theDemoDatafileSpreadsOverTheCluster() async throws {
        let text = try String(contentsOfFile: "examples/analytics/datasources/sales.datasource", encoding: .utf8)
        let definition = try Datafile.dataSource(name: "sales_\(RandomToken.hex(bytes: 4))", text: text, file: "sales.datasource")
        let nodes = ClickHouseClientTests.clusterURLs.map { ClickHouseClient(settings: ClickHouseSettings(url: $0, cluster: "tessera_cluster")) }
        let capabilities = ClickHouseCapabilities(version: try #require(try await nodes[0].query("SELECT version()").rows.first?.first?.stringValue))
        let statements = try ClickHouseSchema.create(definition, database: "default", cluster: "tessera_cluster", capabilities: capabilities)
        for node in nodes { for statement in statements { try await node.execute(statement.sql) } }
        let cities = ["Paris", "Rome", "Oslo", "Lima", "Kyiv"]
        try await nodes[1].insert(into: definition.name, rows: (0..<500).map { index in
            ["timestamp": "2026-12-05 10:00:00", "order_id": .string("o-\(index)"), "city": .string(cities[index % 5]), "product": "p",
             "units": 1, "amount": 1.5]
        }, settings: ["insert_distributed_sync": "1"])
        var local: [Double] = []
        for node in nodes {
            local.append(try await node.query("SELECT count() FROM \(ClickHouseSQL.identifier(definition.name + "_local"))").rows.first?.first?.numberValue ?? 0)
        }
        #expect(local.allSatisfy { $0 > 0 } && local.reduce(0, +) == 500, "\(local)")
        for node in nodes {
            let byCity = try await node.query("SELECT city, sum(units) FROM \(ClickHouseSQL.identifier(definition.name)) GROUP BY city ORDER BY city")
            #expect(byCity.rows == cities.sorted().map { [.string($0), 100] })
        }
        for node in nodes { for statement in ClickHouseSchema.drop(definition.name, database: "default", cluster: "tessera_cluster") { try await node.execute(statement.sql) } }
    }
}
