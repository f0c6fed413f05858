import Analytics
import Foundation
import HTTPTypes
import Testing
import TesseraCore

/// What only ClickHouse-backed workspaces do: spread rows over a cluster's shards, quarantine what ClickHouse itself
/// refuses, and answer 503 (never hang, never acknowledge) when the server is gone or slow. The analytics tests that
/// hold on every engine run on ClickHouse too (`AnalyticsBackend.available`).
@Suite struct ClickHouseEngineTests {
    static let admin = AnalyticsAPITests.adminToken

    /// The demo workspace's ClickHouse settings, as tessera.yaml gave them.
    static func settings(_ harness: Harness) async throws -> (workspace: Workspace, settings: ClickHouseWorkspaceSettings) {
        let workspace = try #require(try await harness.services.analytics.catalog.workspace(named: "demo"))
        let settings = try #require(try ClickHouseWorkspaceSettings(workspace: workspace, environment: [:]))
        return (workspace, settings)
    }

    static func events(_ range: Range<Int>, prefix: String) -> String {
        range.map { #"{"timestamp":"2026-12-0\#($0 % 9 + 1) 10:00:00","order_id":"\#(prefix)-\#($0)","city":"City \#($0 % 11)","product":"p","units":1,"amount":\#($0 % 100)}"# }
            .joined(separator: "\n")
    }

    @Test(.enabled(if: AnalyticsBackend.clusterURLs.count == 2))
    func eventsLandOnBothShardsAndEndpointsReadThemAll() async throws {
        let harness = try await AnalyticsAPITests.demo(AnalyticsBackend(store: .sqlite, engine: .cluster))
        let (_, settings) = try await Self.settings(harness)
        try await harness.test { http in
            // Concurrent requests share blocks; each answers once its rows are on the shards.
            try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for batch in 0..<8 {
                    group.addTask {
                        try await http.request(.post, "/v0/events?name=sales&wait=true", token: Self.admin,
                                               body: Self.events(batch * 250..<(batch + 1) * 250, prefix: "shard"))
                    }
                }
                for try await response in group { #expect(response["successful_rows"] == .number(250), "\(response.text)") }
            }
            var perShard: [Int] = []
            for node in settings.nodes {
                let client = ClickHouseClient(settings: node)
                let counted = try await client.query("SELECT count() FROM `sales_local`")
                perShard.append(Int(counted.rows.first?.first?.numberValue ?? 0))
            }
            #expect(perShard.count == 2 && perShard.allSatisfy { $0 > 0 } && perShard.reduce(0, +) == 5000, "\(perShard)")
            let total = try await http.request(.get, "/v0/sql?q=\("SELECT count() AS n, uniqExact(order_id) AS ids FROM sales".pathEscaped)",
                                               token: Self.admin)
            #expect(AnalyticsAPITests.rows(total) == [["n": .number(5000), "ids": .number(5000)]], "\(total.text)")
            let token = AnalyticsAPITests.jwt(AnalyticsAPITests.claims(harness))
            let endpoint = try await http.request(.get, "/v0/pipes/sales_by_city.json", token: token)
            let orders = AnalyticsAPITests.rows(endpoint).compactMap { $0["orders"]?.numberValue }.reduce(0, +)
            #expect(orders == 5000, "\(endpoint.text.prefix(400))")
            #expect(endpoint["statistics"]?.objectValue?["rows_read"] == .number(5000), "ClickHouse's own statistics")
        }
    }

    @Test(.enabled(if: AnalyticsBackend.clickHouseURL != nil))
    func rowsClickHouseRefusesAreQuarantinedWithItsReasonAndTheRestKept() async throws {
        let harness = try await AnalyticsAPITests.demo(AnalyticsBackend(store: .sqlite, engine: .clickhouse))
        let (_, settings) = try await Self.settings(harness)
        try await harness.test { http in
            let created = try await http.request(.post, "/v0/datasources?name=probe&mode=create&schema=\("`day` String `json:$.day`".pathEscaped)",
                                                 token: Self.admin)
            #expect(created.status == .ok || created.status == .created, "\(created.text)")
            // The catalog says String; the table (changed behind Tessera's back) says Date, so ClickHouse refuses what
            // Tessera's own checks let through.
            try await ClickHouseClient(settings: settings.primary).execute("ALTER TABLE probe MODIFY COLUMN day Date")
            let lines = (0..<20).map { $0 == 7 || $0 == 13 ? #"{"day":"not a day \#($0)"}"# : #"{"day":"2026-11-\#(10 + $0)"}"# }
            let appended = try await http.request(.post, "/v0/events?name=probe&wait=true", token: Self.admin, body: lines.joined(separator: "\n"))
            #expect(appended["successful_rows"] == .number(18) && appended["quarantined_rows"] == .number(2), "\(appended.text)")
            let stored = try await http.request(.get, "/v0/sql?q=\("SELECT count() AS n FROM probe".pathEscaped)", token: Self.admin)
            #expect(AnalyticsAPITests.rows(stored) == [["n": .number(18)]])
            let quarantined = try await http.request(.get, "/v0/sql?q=\("SELECT c__line, c__error FROM probe_quarantine ORDER BY c__line".pathEscaped)",
                                                     token: Self.admin)
            let rows = AnalyticsAPITests.rows(quarantined)
            #expect(rows.map { $0["c__line"]?.stringValue ?? "" } == [#"{"day":"not a day 13"}"#, #"{"day":"not a day 7"}"#], "\(quarantined.text)")
            #expect(rows.allSatisfy { $0["c__error"]?.stringValue?.contains("ClickHouse code") == true })
        }
    }

    @Test(.enabled(if: AnalyticsBackend.clickHouseURL != nil))
    func aServerThatIsGoneOrSlowGets503AndNothingIsAcknowledged() async throws {
        let harness = try await AnalyticsAPITests.demo(AnalyticsBackend(store: .sqlite, engine: .clickhouse))
        let (workspace, _) = try await Self.settings(harness)
        let catalog = harness.services.analytics.catalog
        /// The workspace's settings as tessera.yaml gave them, with `change` made.
        @Sendable func reconfigure(_ change: (inout [String: JSONValue]) -> Void) async throws {
            var settings = workspace.settings
            var clickhouse = settings["clickhouse"]?.objectValue ?? [:]
            change(&clickhouse)
            settings["clickhouse"] = .object(clickhouse)
            _ = try await catalog.ensureWorkspace(name: workspace.name, id: workspace.id, adminToken: nil, settings: settings)
        }
        try await harness.test { http in
            let count = "/v0/sql?q=\("SELECT count() AS n FROM sales".pathEscaped)"
            let before = AnalyticsAPITests.rows(try await http.request(.get, count, token: Self.admin))
            #expect(before == [["n": .number(3000)]])

            // Nothing listens on port 9 of loopback: connections are refused (the HTTP client tries again until the timeout).
            try await reconfigure { $0["url"] = .string("http://127.0.0.1:9"); $0["timeout_seconds"] = .number(1) }
            let token = AnalyticsAPITests.jwt(AnalyticsAPITests.claims(harness))
            let endpoint = try await http.request(.get, "/v0/pipes/sales_by_city.json", token: token)
            #expect(endpoint.status == .serviceUnavailable && endpoint["error"]?.stringValue?.contains("unavailable") == true, "\(endpoint.text)")
            let events = try await http.request(.post, "/v0/events?name=sales&wait=true", token: Self.admin, body: Self.events(0..<10, prefix: "gone"))
            #expect(events.status == .serviceUnavailable, "\(events.text)")
            let ready = try await http.request(.get, "/readyz")
            #expect(ready.status == .ok && ready["status"] == .string("degraded")
                    && ready["analytics"]?.objectValue?["demo"] == .string("unavailable"), "\(ready.text)")

            // A query slower than the timeout is abandoned with a 503.
            try await reconfigure { $0["timeout_seconds"] = .number(1) }
            let slow = try await http.request(.get, "/v0/sql?q=\("SELECT sleep(3) AS s".pathEscaped)", token: Self.admin)
            #expect(slow.status == .serviceUnavailable, "\(slow.text)")

            try await reconfigure { $0["timeout_seconds"] = nil }
            #expect(AnalyticsAPITests.rows(try await http.request(.get, count, token: Self.admin)) == before, "the refused request wrote nothing")
            let back = try await http.request(.get, "/readyz")
            #expect(back["status"] == .string("ready") && back["analytics"]?.objectValue?["demo"] == .string("ok"), "\(back.text)")
        }
    }

    /// Workspaces share a server: SQL reads its own database only, reaches no files, URLs or other servers, and
    /// writes nothing.
    @Test(.enabled(if: AnalyticsBackend.clickHouseURL != nil))
    func endpointSQLStaysInItsWorkspaceAndWritesNothing() async throws {
        let harness = try await AnalyticsAPITests.demo(AnalyticsBackend(store: .sqlite, engine: .clickhouse))
        try await harness.test { http in
            for sql in ["SELECT name FROM system.users", "SELECT * FROM default.anything", "SELECT * FROM `system`.`tables`",
                        "SELECT * FROM url('http://127.0.0.1:9/', CSV, 'a String')", "SELECT * FROM file('/etc/passwd', CSV, 'a String')",
                        "SELECT * FROM remote('127.0.0.1', system.one)", "SELECT count() FROM sales SETTINGS readonly = 0",
                        "SELECT 1; DROP TABLE sales", "INSERT INTO sales SELECT * FROM sales",
                        "SELECT * FROM \"system\" . \"tables\"", "SELECT joinGet('default.x', 'a', 1)",
                        "SELECT count() FROM sales WHERE city IN system.one"] {
                let response = try await http.request(.get, "/v0/sql?q=\(sql.pathEscaped)", token: Self.admin)
                #expect(response.status == .badRequest && response["error"] != nil, "\(sql): \(response.status) \(response.text.prefix(300))")
            }
            let count = try await http.request(.get, "/v0/sql?q=\("SELECT count() AS n FROM sales".pathEscaped)", token: Self.admin)
            #expect(AnalyticsAPITests.rows(count) == [["n": .number(3000)]])
        }
    }

    /// `tessera analytics migrate`'s work: the demo moves from the embedded engine to ClickHouse while its endpoint is
    /// read and events are appended; afterwards every row is in ClickHouse once, the materialized view is populated
    /// there, and the endpoint gives the same answer.
    @Test(.enabled(if: AnalyticsBackend.clickHouseURL != nil))
    func aWorkspaceMovesToClickHouseWhileItsEndpointsAnswer() async throws {
        let harness = try await AnalyticsAPITests.demo(.embedded)
        let analytics = harness.services.analytics
        try await harness.test { http in
            let admin = Self.admin
            try await MaterializedViewTests.push(http, datasource: "sales_by_city_mv", """
                SCHEMA >
                    `city` String,
                    `orders` AggregateFunction(count)

                ENGINE "AggregatingMergeTree"
                ENGINE_SORTING_KEY "city"
                """)
            let view = "NODE by_city\nSQL >\n    SELECT city, countState() AS orders FROM sales GROUP BY city\n\nTYPE MATERIALIZED\nDATASOURCE sales_by_city_mv\n"
            #expect(try await MaterializedViewTests.push(http, pipe: "sales_mv", view, query: "&populate=true").status == .created)
            let token = AnalyticsAPITests.jwt(AnalyticsAPITests.claims(harness))
            let before = AnalyticsAPITests.rows(try await http.request(.get, "/v0/pipes/sales_by_city.json", token: token))
            #expect(before.count == 8)

            let workspace = try #require(try await analytics.catalog.workspace(named: "demo"))
            let database = "tessera_migrate_" + RandomToken.hex(bytes: 4)
            let migration = Task {
                try await ClickHouseMigration(analytics: analytics).migrate(
                    workspace, clickHouse: ["url": .string(AnalyticsBackend.clickHouseURL ?? ""), "database": .string(database)]) { _, _, _ in }
            }
            // Reads and appends while the copy runs and across the switch.
            var appended = 0
            for round in 0..<20 {
                let read = try await http.request(.get, "/v0/pipes/sales_by_city.json", token: token)
                #expect(read.status == .ok, "\(read.text.prefix(300))")
                let events = try await http.request(.post, "/v0/events?name=sales&wait=true", token: admin,
                                                    body: Self.events(round * 5..<(round + 1) * 5, prefix: "during"))
                #expect(events.status == .ok, "\(events.text)")
                appended += Int(events["successful_rows"]?.numberValue ?? 0)
                try await Task.sleep(for: .milliseconds(150))
            }
            let copied = try await migration.value
            #expect(copied.contains { $0.dataSource == "sales_by_city_mv" && $0.populated }, "\(copied)")
            #expect(copied.contains { $0.dataSource == "sales" && !$0.populated && $0.rows >= 3000 }, "\(copied)")
            let moved = try #require(try await analytics.catalog.workspace(named: "demo"))
            #expect(moved.engine == "clickhouse")
            let counted = try await http.request(.get, "/v0/sql?q=\("SELECT count() AS n, uniqExact(order_id) AS ids FROM sales".pathEscaped)", token: admin)
            #expect(AnalyticsAPITests.rows(counted) == [["n": .number(Double(3000 + appended)), "ids": .number(Double(3000 + appended))]],
                    "every row once: \(counted.text)")
            let client = ClickHouseClient(settings: ClickHouseSettings(url: AnalyticsBackend.clickHouseURL ?? "", database: database))
            #expect(try await client.query("SELECT count() FROM sales").rows.first?.first == .number(Double(3000 + appended)),
                    "the rows are in ClickHouse")
            let viewTotal = try await http.request(.get, "/v0/sql?q=\("SELECT sum(n) AS n FROM (SELECT countMerge(orders) AS n FROM sales_by_city_mv)".pathEscaped)", token: admin)
            #expect(AnalyticsAPITests.rows(viewTotal) == [["n": .number(Double(3000 + appended))]], "\(viewTotal.text)")
            let after = AnalyticsAPITests.rows(try await http.request(.get, "/v0/pipes/sales_by_city.json", token: token))
            let beforeCities = Set(before.compactMap { $0["city"]?.stringValue })
            #expect(beforeCities.isSubset(of: Set(after.compactMap { $0["city"]?.stringValue })))
        }
    }
}
