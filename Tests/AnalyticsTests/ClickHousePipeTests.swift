import Foundation
import Logging
import SQLiteNIO
import Testing
import TesseraCore
@testable import Analytics

/// Pipes as ClickHouse SQL: template values as typed literals, nodes as subqueries; and the demo pipe giving the same
/// answers on Debian's ClickHouse 18.16 as on the embedded engine, over the demo's 3,000 sales.
@Suite struct ClickHousePipeTests {
    static let pipeText = (try? String(contentsOfFile: "examples/analytics/pipes/sales_by_city.pipe", encoding: .utf8)) ?? ""
    static let salesText = (try? String(contentsOfFile: "examples/analytics/datasources/sales.datasource", encoding: .utf8)) ?? ""
    static let columns: Set<String> = ["timestamp", "order_id", "city", "product", "units", "amount"]

    static let parameterSets: [[String: String]] = [
        [:],
        ["cities": "Valencia,Zaragoza", "limit": "5"],
        ["start_date": "2026-10-05 00:00:00", "end_date": "2026-10-20 00:00:00"],
        ["product": "lamp"],
        ["product": "lamp' OR 1=1 --", "limit": "3"],
        ["limit": "2"],
    ]

    @Test func valuesAreLiteralsAndNodesAreSubqueries() throws {
        let pipe = try Datafile.pipe(name: "sales_by_city", text: Self.pipeText, file: "sales_by_city.pipe")
        let sql = try Endpoints.compileForClickHouse(pipe, parameters: ["product": "lamp' OR 1=1 --", "cities": "A,B", "limit": "7"],
                                                     columns: Self.columns, filters: ["sales": "city = 'Rome'"], dataSources: ["sales"])
        #expect(sql.contains(#"AND product = 'lamp\' OR 1=1 --'"#))
        #expect(sql.contains("AND city IN ('A', 'B')") && sql.hasSuffix("LIMIT 7"))
        #expect(!sql.contains("?") && !sql.uppercased().contains("WITH "))
        // The endpoint reads `filtered` as a subquery, which reads `sales` through the token's filter.
        #expect(sql.contains("FROM (\nSELECT city, amount, units\nFROM (\nSELECT * FROM `sales` WHERE city = 'Rome'\n) AS `sales`"))
        #expect(sql.contains(") AS `filtered`"))
        #expect(throws: DomainError.self) {
            _ = try Endpoints.compileForClickHouse(pipe, parameters: ["limit": "many"], columns: Self.columns, filters: [:], dataSources: ["sales"])
        }
    }

    @Test func subqueriesReplaceWholeNamesOnlyOnce() {
        let sources = [(name: "sales", sql: "SELECT * FROM sales WHERE x = 1"), (name: "a", sql: "SELECT n FROM sales")]
        let inlined = ClickHouseSubqueries.inline(sources, into: "SELECT * FROM a JOIN \"sales\" USING n WHERE a.n > 0 AND sales_total FROM b")
        #expect(inlined == "SELECT * FROM (\nSELECT n FROM sales\n) AS `a` JOIN (\nSELECT * FROM sales WHERE x = 1\n) AS `sales` USING n WHERE a.n > 0 AND sales_total FROM b")
    }

    @Test(.enabled(if: ClickHouseClientTests.url != nil))
    func theDemoPipeAnswersTheSameOnClickHouseAsOnTheEmbeddedEngine() async throws {
        let pipe = try Datafile.pipe(name: "sales_by_city", text: Self.pipeText, file: "sales_by_city.pipe")
        let sales = try Datafile.dataSource(name: "sales", text: Self.salesText, file: "sales.datasource")
        let fixture = try String(contentsOfFile: "examples/analytics/datasources/fixtures/sales.ndjson", encoding: .utf8)

        let engine = AnalyticsEngine(directory: FileManager.default.temporaryDirectory.appendingPathComponent("analytics-\(UUID())").path,
                                     logger: Logger(label: "test"))
        let embedded = try await engine.database(UUID().uuidString)
        try await embedded.create(sales)
        let outcome = Ingestion.ndjson(fixture, into: sales)
        #expect(outcome.quarantined.isEmpty && outcome.rows.count == 3000)
        try await embedded.append(sales, rows: outcome.rows, quarantined: [])

        let server = ClickHouseClient(settings: ClickHouseSettings(url: try #require(ClickHouseClientTests.url)))
        let database = "parity_\(RandomToken.hex(bytes: 4))"
        try await server.execute("CREATE DATABASE \(database)")
        let clickHouse = ClickHouseClient(settings: ClickHouseSettings(url: try #require(ClickHouseClientTests.url), database: database))
        let capabilities = ClickHouseCapabilities(version: try #require(try await clickHouse.query("SELECT version()").rows.first?.first?.stringValue))
        for statement in try ClickHouseSchema.create(sales, database: database, cluster: nil, capabilities: capabilities) {
            try await clickHouse.execute(statement.sql)
        }
        try await clickHouse.insert(into: "sales", lines: Array(fixture.utf8))

        for parameters in Self.parameterSets {
            let rendered = try Endpoints.compile(pipe, parameters: parameters, columns: Self.columns, filters: [:], dataSources: ["sales"])
            let expected = try await embedded.query(rendered).rows.map { row in
                [row[0].string ?? "", String(format: "%.2f", row[1].double ?? 0), "\(row[2].integer ?? -1)", "\(row[3].integer ?? -1)"]
            }
            let sql = try Endpoints.compileForClickHouse(pipe, parameters: parameters, columns: Self.columns, filters: [:], dataSources: ["sales"])
            let answer = try await clickHouse.query(sql)
            #expect(answer.columns.map(\.name) == ["city", "revenue", "orders", "units"])
            let actual = answer.rows.map { row in
                [row[0].stringValue ?? "", String(format: "%.2f", row[1].numberValue ?? 0),
                 "\(Int(row[2].numberValue ?? -1))", "\(Int(row[3].numberValue ?? -1))"]
            }
            // ORDER BY revenue leaves equal revenues in either order, on either engine.
            func ordered(_ rows: [[String]]) -> [[String]] { rows.sorted { ($0[1] as NSString).doubleValue != ($1[1] as NSString).doubleValue
                ? ($0[1] as NSString).doubleValue > ($1[1] as NSString).doubleValue : $0[0] < $1[0] } }
            #expect(ordered(actual) == ordered(expected), "\(parameters)")
            #expect(answer.rowsRead > 0 || expected.isEmpty)
        }
        try await server.execute("DROP DATABASE \(database)")
        await engine.shutdown()
    }
}
