import Foundation
import Testing
import TesseraCore

/// `meta` reports ClickHouse's types, read from the statement: the same with rows and without. This is the embedded
/// engine's reading of them; a ClickHouse-backed workspace reports what its server answers (ClickHouseEngineTests).
@Suite struct ResultTypesTests {
    static let expressions: [(String, String)] = [
        ("count()", "UInt64"), ("countIf(units > 2)", "UInt64"), ("uniq(product)", "UInt64"), ("uniqExact(order_id)", "UInt64"),
        ("sum(units)", "UInt64"), ("sum(amount)", "Float64"), ("sumIf(units, units > 1)", "UInt64"), ("sum(toInt32(units))", "Int64"),
        ("avg(units)", "Float64"), ("round(sum(amount), 2)", "Float64"), ("min(units)", "UInt16"), ("max(timestamp)", "DateTime"),
        ("min(city)", "String"), ("max(product)", "String"),
        ("countState()", "AggregateFunction(count)"), ("sumState(units)", "AggregateFunction(sum, UInt16)"),
        ("uniqState(city)", "AggregateFunction(uniq, String)"), ("avgState(amount)", "AggregateFunction(avg, Float64)"),
    ]

    static let rowExpressions: [(String, String)] = [
        ("city", "LowCardinality(String)"), ("units", "UInt16"), ("toDate(timestamp)", "Date"), ("toStartOfDay(timestamp)", "DateTime"),
        ("toStartOfMonth(timestamp)", "Date"), ("toYYYYMM(timestamp)", "UInt32"), ("toString(units)", "String"),
        ("toInt32(units)", "Int32"), ("toFloat64(units)", "Float64"), ("units * 2", "UInt64"), ("units - 10", "Int64"),
        ("amount / 2", "Float64"), ("units > 2", "UInt8"), ("1", "UInt8"), ("300", "UInt16"), ("2.5", "Float64"), ("'x'", "String"),
        ("concat(city, '!')", "String"), ("if(units > 2, 'many', 'few')", "String"), ("CASE WHEN units > 2 THEN amount ELSE 0 END", "Float64"),
        ("coalesce(amount, 0)", "Float64"), ("CAST(units AS Int64)", "Int64"),
    ]

    func meta(_ http: TestHTTP, _ sql: String) async throws -> [String] {
        let response = try await http.request(.get, "/v0/sql?q=\(sql.pathEscaped)", token: AnalyticsAPITests.adminToken)
        #expect(response.status == .ok, "\(sql): \(response.text)")
        return response["meta"]?.arrayValue?.compactMap { $0.objectValue?["type"]?.stringValue } ?? []
    }

    @Test(arguments: StoreKind.available)
    func metaFollowsClickHouse(_ kind: StoreKind) async throws {
        let harness = try await AnalyticsAPITests.demo(AnalyticsBackend(store: kind, engine: .embedded))
        try await harness.test { http in
            for (expression, type) in Self.expressions {
                for filter in ["", " WHERE 1 = 0"] {
                    #expect(try await meta(http, "SELECT city, \(expression) AS value FROM sales\(filter) GROUP BY city") == ["LowCardinality(String)", type],
                            "\(expression)\(filter)")
                }
                #expect(try await meta(http, "SELECT \(expression) FROM sales") == [type], "\(expression) unaliased")
            }
            for (expression, type) in Self.rowExpressions {
                for filter in ["", " WHERE 1 = 0"] {
                    #expect(try await meta(http, "SELECT \(expression) AS value FROM sales\(filter) LIMIT 3") == [type], "\(expression)\(filter)")
                }
            }
            // Through WITH nodes, subqueries and `*`, as pipes and `tb sql` write them.
            #expect(try await meta(http, "WITH t AS (SELECT city, sum(units) AS units FROM sales GROUP BY city) SELECT * FROM t")
                    == ["LowCardinality(String)", "UInt64"])
            #expect(try await meta(http, "SELECT * FROM (SELECT count() AS n, avg(amount) AS a FROM sales) LIMIT 100") == ["UInt64", "Float64"])
            #expect(try await meta(http, "SELECT s.units AS u, s.timestamp FROM sales AS s WHERE 1 = 0") == ["UInt16", "DateTime"])
            // A -Merge reads as its function would over the state's argument.
            #expect(try await meta(http, """
                SELECT countMerge(n) AS n, sumMerge(u) AS u, uniqMerge(c) AS c, avgMerge(a) AS a
                FROM (SELECT countState() AS n, sumState(units) AS u, uniqState(city) AS c, avgState(amount) AS a FROM sales)
                """) == ["UInt64", "UInt64", "UInt64", "Float64"])
            let endpoint = try await http.request(.get, "/v0/pipes/sales_by_city.json?cities=Nowhere", token: AnalyticsAPITests.adminToken)
            let types = endpoint["meta"]?.arrayValue?.compactMap { $0.objectValue?["type"]?.stringValue }
            #expect(types == ["LowCardinality(String)", "Float64", "UInt64", "UInt64"], "an empty endpoint: \(endpoint.text)")
        }
    }
}
