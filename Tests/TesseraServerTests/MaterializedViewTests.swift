import Analytics
import Foundation
import HTTPTypes
import Testing
import TesseraCore

/// Tinybird's materialized views over the demo's `sales`: kept by every append, populated on request, and read through
/// an endpoint that must give the numbers the raw `GROUP BY` gives.
@Suite struct MaterializedViewTests {
    static let admin = AnalyticsAPITests.adminToken

    static let aggregatingTarget = """
        SCHEMA >
            `city` String,
            `orders` AggregateFunction(count),
            `revenue` AggregateFunction(sum, Float64),
            `units` AggregateFunction(sum, UInt16),
            `products` AggregateFunction(uniq, String),
            `avg_amount` AggregateFunction(avg, Float64),
            `first_sale` SimpleAggregateFunction(min, DateTime)

        ENGINE "AggregatingMergeTree"
        ENGINE_SORTING_KEY "city"
        """

    static let aggregatingView = """
        NODE by_city
        SQL >
            SELECT city, countState() AS orders, sumState(amount) AS revenue, sumState(units) AS units,
                   uniqState(product) AS products, avgState(amount) AS avg_amount, min(timestamp) AS first_sale
            FROM sales
            GROUP BY city

        TYPE MATERIALIZED
        DATASOURCE sales_by_city_mv
        """

    static let overView = """
        NODE totals
        SQL >
            SELECT city, countMerge(orders) AS orders, round(sumMerge(revenue), 2) AS revenue, sumMerge(units) AS units,
                   uniqMerge(products) AS products, round(avgMerge(avg_amount), 4) AS avg_amount, min(first_sale) AS first_sale
            FROM sales_by_city_mv
            GROUP BY city
            ORDER BY city
        """

    static let raw = """
        SELECT city, count() AS orders, round(sum(amount), 2) AS revenue, sum(units) AS units, uniq(product) AS products,
               round(avg(amount), 4) AS avg_amount, min(timestamp) AS first_sale
        FROM sales GROUP BY city ORDER BY city
        """

    /// Creates a data source from a datafile's text the way `tb push` does: its schema and engine lines as form fields.
    static func push(_ http: TestHTTP, datasource name: String, _ text: String) async throws {
        let definition = try Datafile.dataSource(name: name, text: text, file: "\(name).datasource")
        var fields = [("name", name), ("mode", "create"), ("schema", Datafile.schemaLine(definition.columns))]
        for line in definition.engine {
            let keyword = String(line.prefix { $0 != " " })
            fields.append((keyword.lowercased(), line.dropFirst(keyword.count + 1).trimmingCharacters(in: CharacterSet(charactersIn: "\" "))))
        }
        let created = try await http.request(.post, "/v0/datasources", token: admin, body: RequestForm(fields).encoded,
                                             contentType: "application/x-www-form-urlencoded")
        #expect(created.status == .created, "\(created.text)")
    }

    static func push(_ http: TestHTTP, pipe name: String, _ text: String, query: String = "") async throws -> TestResponse {
        try await http.request(.post, "/v0/pipes?name=\(name)\(query)", token: admin, body: text, contentType: "text/plain")
    }

    static func rows(_ http: TestHTTP, _ path: String) async throws -> [[String: JSONValue]] {
        let response = try await http.request(.get, path, token: admin)
        #expect(response.status == .ok, "\(response.text)")
        return AnalyticsAPITests.rows(response)
    }

    @Test(arguments: StoreKind.available)
    func aggregatingViewMatchesTheRawGroupByAfterPopulateAndAppends(_ kind: StoreKind) async throws {
        let harness = try await AnalyticsAPITests.demo(AnalyticsBackend(store: kind, engine: .embedded))
        try await harness.test { http in
            try await Self.push(http, datasource: "sales_by_city_mv", Self.aggregatingTarget)
            let view = try await Self.push(http, pipe: "sales_mv", Self.aggregatingView)
            #expect(view.status == .created && view["type"] == .string("materialized"), "\(view.text)")
            #expect(view["datasource"]?.objectValue?["name"] == .string("sales_by_city_mv") && view["created_datasource"] == .bool(false))
            #expect(try await Self.push(http, pipe: "city_totals", Self.overView).status == .created)
            let rawPath = "/v0/sql?q=\(Self.raw.pathEscaped)"

            // Created after the fixtures were loaded, the view holds nothing until it is populated.
            #expect(try await Self.rows(http, "/v0/pipes/city_totals.json").isEmpty)
            let populated = try await http.request(.post, "/v0/pipes/sales_mv/nodes/by_city/population?truncate=true", token: Self.admin)
            let job = try #require(populated["job"]?.objectValue, "\(populated.text)")
            #expect(job["status"] == .string("done") && job["kind"] == .string("populateview"))
            let jobID = try #require(job["id"]?.stringValue)
            let followed = try await http.request(.get, "/v0/jobs/\(jobID)?debug=blocks%2Cblock_log", token: Self.admin)
            #expect(followed["status"] == .string("done") && followed["pipe_name"] == .string("sales_mv"), "\(followed.text)")
            #expect(try await http.request(.get, "/v0/jobs", token: Self.admin)["jobs"]?.arrayValue?.count == 1)
            #expect(try await http.request(.get, "/v0/jobs/nope", token: Self.admin).status == .notFound)

            let raw = try await Self.rows(http, rawPath)
            #expect(raw.count == 8, "the demo's cities")
            let endpoint = try await http.request(.get, "/v0/pipes/city_totals.json", token: Self.admin)
            #expect(AnalyticsAPITests.rows(endpoint) == raw, "\(endpoint.text)")
            let meta = endpoint["meta"]?.arrayValue?.compactMap { $0.objectValue?["type"]?.stringValue }
            #expect(meta == ["String", "UInt64", "Float64", "UInt64", "UInt64", "Float64", "DateTime"], "\(endpoint.text)")
            // One row per sorting key: the appends merge into the stored states.
            let stored = try await http.request(.get, "/v0/datasources/sales_by_city_mv", token: Self.admin)
            #expect(stored["statistics"]?.objectValue?["row_count"] == .number(Double(raw.count)))

            // Appends feed the view in the same request: an existing city, a new one, and a row that is quarantined.
            let events = """
                {"timestamp":"2026-12-01 10:00:00","order_id":"n-1","city":"Madrid","product":"kite","units":2,"amount":30.5}
                {"timestamp":"2026-09-30 08:00:00","order_id":"n-2","city":"Cádiz","product":"lamp","units":1,"amount":24}
                {"timestamp":"2026-12-01 11:00:00","order_id":"n-3","city":"Cádiz","product":"lamp","units":3,"amount":72}
                {"timestamp":"not a time","order_id":"n-4","city":"Madrid","product":"kite","units":1,"amount":1}
                """
            let appended = try await http.request(.post, "/v0/events?name=sales&wait=true", token: Self.admin, body: events)
            #expect(appended["successful_rows"] == .number(3) && appended["quarantined_rows"] == .number(1), "\(appended.text)")
            let afterAppend = try await Self.rows(http, rawPath)
            #expect(afterAppend.count == raw.count + 1 && afterAppend != raw)
            #expect(try await Self.rows(http, "/v0/pipes/city_totals.json") == afterAppend)
            let csv = try await http.request(.post, "/v0/datasources?name=sales&mode=append&format=csv", token: Self.admin,
                                             body: "2026-12-02 09:00:00,c-1,Madrid,umbrella,4,80\n")
            #expect(csv.status == .ok, "\(csv.text)")
            #expect(try await Self.rows(http, "/v0/pipes/city_totals.json") == (try await Self.rows(http, rawPath)))

            // Populating without truncating adds the source again; with truncating it starts over.
            _ = try await http.request(.post, "/v0/pipes/sales_mv/nodes/by_city/population?truncate=false", token: Self.admin)
            let doubled = try await Self.rows(http, "/v0/pipes/city_totals.json")
            let now = try await Self.rows(http, rawPath)
            #expect(doubled.first?["orders"]?.numberValue == (now.first?["orders"]?.numberValue).map { $0 * 2 })
            #expect(doubled.first?["products"] == now.first?["products"], "a distinct count is a union: populating twice changes nothing")
            _ = try await http.request(.post, "/v0/pipes/sales_mv/nodes/by_city/population?truncate=true", token: Self.admin)
            #expect(try await Self.rows(http, "/v0/pipes/city_totals.json") == now)

            // A truncated source leaves the view as it was, as in ClickHouse.
            #expect(try await http.request(.post, "/v0/datasources/sales/truncate", token: Self.admin).status == .noContent)
            #expect(try await Self.rows(http, "/v0/pipes/city_totals.json") == now)
        }
    }

    @Test(arguments: StoreKind.available)
    func summingViewAndReplacingAppends(_ kind: StoreKind) async throws {
        let harness = try await AnalyticsAPITests.demo(AnalyticsBackend(store: kind, engine: .embedded))
        try await harness.test { http in
            try await Self.push(http, datasource: "daily", """
                SCHEMA >
                    `day` Date,
                    `city` String,
                    `orders` UInt64,
                    `revenue` Float64

                ENGINE "SummingMergeTree"
                ENGINE_SORTING_KEY "day, city"
                """)
            let pushed = try await Self.push(http, pipe: "daily_mv", """
                NODE recent
                SQL >
                    SELECT timestamp, city, amount FROM sales WHERE timestamp >= '2026-10-15'

                NODE by_day
                SQL >
                    SELECT toDate(timestamp) AS day, city, count() AS orders, sum(amount) AS revenue
                    FROM recent
                    GROUP BY day, city

                TYPE MATERIALIZED
                DATASOURCE daily
                """, query: "&populate=true")
            #expect(pushed["job"]?.objectValue?["status"] == .string("done"), "\(pushed.text)")
            let totals = "SELECT city, sum(orders) AS orders, round(sum(revenue), 2) AS revenue FROM daily GROUP BY city ORDER BY city"
            let raw = "SELECT city, count() AS orders, round(sum(amount), 2) AS revenue FROM sales WHERE timestamp >= '2026-10-15' GROUP BY city ORDER BY city"
            #expect(try await Self.rows(http, "/v0/sql?q=\(totals.pathEscaped)") == (try await Self.rows(http, "/v0/sql?q=\(raw.pathEscaped)")))
            let events = (0..<50).map { #"{"timestamp":"2026-11-0\#($0 % 3 + 1) 12:00:00","order_id":"s-\#($0)","city":"Bilbao","product":"kite","units":1,"amount":\#($0)}"# }
            #expect(try await http.request(.post, "/v0/events?name=sales", token: Self.admin, body: events.joined(separator: "\n")).status == .accepted)
            #expect(try await Self.rows(http, "/v0/sql?q=\(totals.pathEscaped)") == (try await Self.rows(http, "/v0/sql?q=\(raw.pathEscaped)")))
            let keys = try await Self.rows(http, "/v0/sql?q=\("SELECT count() AS n, count(DISTINCT day || city) AS keys FROM daily".pathEscaped)")
            #expect(keys.first?["n"] != nil && keys.first?["n"] == keys.first?["keys"], "one row per sorting key: \(keys)")

            // ReplacingMergeTree keeps, per key, the row with the greatest version, whatever order appends come in.
            try await Self.push(http, datasource: "profiles", """
                SCHEMA >
                    `id` UInt32 `json:$.id`,
                    `name` String `json:$.name`,
                    `version` UInt32 `json:$.version`

                ENGINE "ReplacingMergeTree"
                ENGINE_SORTING_KEY "id"
                ENGINE_VER "version"
                """)
            let profiles = """
                {"id":1,"name":"first","version":1}
                {"id":1,"name":"third","version":3}
                {"id":2,"name":"other","version":1}
                {"id":1,"name":"second","version":2}
                """
            #expect(try await http.request(.post, "/v0/events?name=profiles&wait=true", token: Self.admin, body: profiles).status == .ok)
            let latest = try await Self.rows(http, "/v0/sql?q=\("SELECT id, name FROM profiles ORDER BY id".pathEscaped)")
            #expect(latest == [["id": .number(1), "name": .string("third")], ["id": .number(2), "name": .string("other")]])
        }
    }

    @Test(arguments: StoreKind.available)
    func viewsThatCannotRunAreRefusedWithTheReason(_ kind: StoreKind) async throws {
        let harness = try await AnalyticsAPITests.demo(AnalyticsBackend(store: kind, engine: .embedded))
        try await harness.test { http in
            try await Self.push(http, datasource: "sales_by_city_mv", Self.aggregatingTarget)
            func refused(_ text: String, _ fragment: String, status: HTTPResponse.Status = .badRequest) async throws {
                let response = try await Self.push(http, pipe: "bad_mv", text)
                #expect(response.status == status && response["error"]?.stringValue?.contains(fragment) == true,
                        "\(fragment): \(response.text)")
            }
            let select = "NODE n\nSQL >\n    SELECT city, countState() AS orders FROM sales GROUP BY city\n\nTYPE MATERIALIZED\n"
            try await refused(select + "DATASOURCE missing\n", "does not exist")
            try await refused(select, "needs DATASOURCE")
            try await refused(select + "DATASOURCE sales\n", "reads and writes")
            try await refused("NODE n\nSQL >\n    SELECT city, count() AS n FROM sales GROUP BY city\n\nTYPE MATERIALIZED\nDATASOURCE sales_by_city_mv\n",
                              "produces the column n")
            try await refused("NODE n\nSQL >\n    SELECT countState() AS orders FROM sales\n\nTYPE MATERIALIZED\nDATASOURCE sales_by_city_mv\n",
                              "sorting key")
            try await refused("NODE n\nSQL >\n    %\n    SELECT city, countState() AS orders FROM sales WHERE city = {{String(c, 'x')}} GROUP BY city\n\nTYPE MATERIALIZED\nDATASOURCE sales_by_city_mv\n",
                              "without request parameters")
            try await refused("NODE n\nSQL >\n    SELECT city, countState() AS orders FROM nowhere GROUP BY city\n\nTYPE MATERIALIZED\nDATASOURCE sales_by_city_mv\n",
                              "reads no Data Source")
            try await refused(select + "DATASOURCE sales_by_city_mv\nENGINE \"AggregatingMergeTree\"\n", "own .datasource")
            try await refused(select + "DATASOURCE sales_by_city_mv\n\nNODE e\nSQL >\n    SELECT 1\nTYPE ENDPOINT\n", "not both")
            try await refused("NODE n\nSQL >\n    SELECT 1 AS x\n\nTYPE COPY\n", "not supported")
            #expect(try await http.request(.get, "/v0/pipes/bad_mv", token: Self.admin).status == .notFound, "nothing refused was kept")

            let bad = try await http.request(.post, "/v0/datasources?name=quantiles&mode=create&schema=\("`q` AggregateFunction(quantiles(0.5), Float64)".pathEscaped)",
                                             token: Self.admin)
            #expect(bad.status == .badRequest && bad["error"]?.stringValue?.contains("not quantiles(0.5)") == true, "\(bad.text)")

            // A view is no endpoint, and cannot be made one.
            #expect(try await Self.push(http, pipe: "sales_mv", Self.aggregatingView).status == .created)
            let read = try await http.request(.get, "/v0/pipes/sales_mv.json", token: Self.admin)
            #expect(read.status == .notFound && read["error"]?.stringValue?.contains("materialized view") == true, "\(read.text)")
            let publish = try await http.request(.post, "/v0/pipes/sales_mv/nodes/by_city/endpoint", token: Self.admin)
            #expect(publish.status == .badRequest, "\(publish.text)")
            let standard = try await http.request(.post, "/v0/pipes/city_totals/nodes/x/population", token: Self.admin)
            #expect(standard.status == .notFound)
            #expect(try await Self.push(http, pipe: "plain", "NODE p\nSQL >\n    SELECT city FROM sales\n").status == .created)
            let notView = try await http.request(.post, "/v0/pipes/plain/nodes/p/population", token: Self.admin)
            #expect(notView.status == .badRequest && notView["error"]?.stringValue?.contains("not materialized") == true)
            let subset = try await http.request(.post, "/v0/pipes/sales_mv/nodes/by_city/population?populate_condition=city%3D%27x%27", token: Self.admin)
            #expect(subset.status == .badRequest, "\(subset.text)")
            let reader = AnalyticsAPITests.jwt(AnalyticsAPITests.claims(harness))
            #expect(try await http.request(.post, "/v0/pipes/sales_mv/nodes/by_city/population", token: reader).status == .forbidden)

            // State columns are written by views; an append of plain values is quarantined with the reason.
            let direct = try await http.request(.post, "/v0/events?name=sales_by_city_mv&wait=true", token: Self.admin,
                                                body: #"{"city":"X","orders":1,"revenue":2,"units":3,"products":"a","avg_amount":1,"first_sale":"2026-01-01 00:00:00"}"#)
            #expect(direct["quarantined_rows"] == .number(1), "\(direct.text)")
            let reason = try await Self.rows(http, "/v0/sql?q=\("SELECT c__error FROM sales_by_city_mv_quarantine".pathEscaped)")
            #expect(reason.first?["c__error"]?.stringValue?.contains("countState") == true, "\(reason)")

            // A second view writing the first view's source (or reading its target) would be a chain, which is not run yet.
            try await Self.push(http, datasource: "chained", "SCHEMA >\n    `city` String,\n    `n` UInt64\n")
            let chain = try await Self.push(http, pipe: "chain_mv", "NODE c\nSQL >\n    SELECT city, countMerge(orders) AS n FROM sales_by_city_mv GROUP BY city\n\nTYPE MATERIALIZED\nDATASOURCE chained\n")
            #expect(chain.status == .badRequest && chain["error"]?.stringValue?.contains("chain") == true, "\(chain.text)")
        }
    }

    @Test(arguments: StoreKind.available)
    func cliChecksPullsAndPopulates(_ kind: StoreKind) async throws {
        let harness = try await AnalyticsAPITests.demo(AnalyticsBackend(store: kind, engine: .embedded))
        try await harness.test { http in
            try await Self.push(http, datasource: "sales_by_city_mv", Self.aggregatingTarget)
            // `tb push` first pushes a `__checker` copy with standard nodes (still carrying DATASOURCE), then asks for an analysis.
            let checker = try await http.request(.post, "/v0/pipes?name=sales_mv__checker", token: Self.admin, json: .object([
                "name": .string("sales_mv__checker"),
                "nodes": .array([.object(["name": .string("by_city"), "type": .string("standard"), "datasource": .string("sales_by_city_mv"),
                                          "sql": .string("SELECT city, countState() AS orders FROM sales GROUP BY city")])]),
            ]))
            #expect(checker.status == .created, "\(checker.text)")
            let analysis = try await http.request(.get, "/v0/pipes/sales_mv__checker/nodes/by_city/analysis?include_datafile=true&dry_run=true&name=by_city&type=materialized&datasource=sales_by_city_mv&override_datasource=false",
                                                  token: Self.admin)
            #expect(analysis["warnings"] == .array([]) && analysis["analysis"]?.objectValue?["source"] == .string("sales"), "\(analysis.text)")
            let mismatch = try await http.request(.get, "/v0/pipes/sales_mv__checker/nodes/by_city/analysis?datasource=sales_by_city_mv&sql=\("SELECT city, 1 AS one FROM sales".pathEscaped)",
                                                  token: Self.admin)
            #expect(mismatch.status == .badRequest && mismatch["error"]?.stringValue?.contains("one") == true, "\(mismatch.text)")
            #expect(try await http.request(.delete, "/v0/pipes/sales_mv__checker", token: Self.admin).status == .noContent)

            // Then the pipe itself, as JSON, populated in the same call.
            let pushed = try await http.request(.post, "/v0/pipes?populate=true&unlink_on_populate_error=false&branch_mode=None", token: Self.admin, json: .object([
                "name": .string("sales_mv"), "description": .string(""),
                "nodes": .array([.object(["name": .string("by_city"), "type": .string("materialized"), "datasource": .string("sales_by_city_mv"),
                                          "sql": .string("SELECT city, countState() AS orders, sumState(amount) AS revenue FROM sales GROUP BY city")])]),
            ]))
            #expect(pushed["type"] == .string("materialized") && pushed["job"]?.objectValue?["job_url"]?.stringValue?.contains("/v0/jobs/") == true,
                    "\(pushed.text)")
            let total = try await Self.rows(http, "/v0/sql?q=\("SELECT count() AS n FROM sales".pathEscaped)")
            let merged = try await Self.rows(http, "/v0/sql?q=\("SELECT countMerge(orders) AS n FROM sales_by_city_mv".pathEscaped)")
            #expect(merged.first?["n"] == total.first?["n"], "\(merged) \(total)")

            // `tb pull` writes the view back as a datafile that parses to the same pipe.
            let pulled = try await http.request(.get, "/v1/pipes/sales_mv.pipe", token: Self.admin)
            #expect(pulled.text.contains("TYPE MATERIALIZED\nDATASOURCE sales_by_city_mv\n"), "\(pulled.text)")
            let again = try await http.request(.post, "/v0/pipes?name=sales_mv&force=true", token: Self.admin, body: pulled.text,
                                               contentType: "text/plain")
            #expect(again.status == .ok, "unchanged: \(again.text)")
            let described = try await http.request(.get, "/v0/pipes/sales_mv", token: Self.admin)
            #expect(described["nodes"]?.arrayValue?.first?.objectValue?["type"] == .string("materialized"))
            #expect(described["nodes"]?.arrayValue?.first?.objectValue?["datasource"] == .string("sales_by_city_mv"))
            let dependents = try await http.request(.delete, "/v0/datasources/sales_by_city_mv?dry_run=true", token: Self.admin)
            #expect(dependents["dependent_pipes"] == .array([.string("sales_mv")]), "\(dependents.text)")
        }
    }

    /// What holds on every engine: a view of partial states (no `SimpleAggregateFunction`, which ClickHouse 18.16 lacks),
    /// read with the `-Merge` functions, gives the raw `GROUP BY`'s answer after a populate, after appends that feed it
    /// (on ClickHouse, its own materialized view does), and after the pipe is replaced.
    @Test(arguments: AnalyticsBackend.available)
    func viewsGiveTheRawAnswerOnEveryEngine(_ backend: AnalyticsBackend) async throws {
        let harness = try await AnalyticsAPITests.demo(backend)
        let target = Self.aggregatingTarget.replacingOccurrences(of: ",\n    `first_sale` SimpleAggregateFunction(min, DateTime)", with: "")
        let view = Self.aggregatingView.replacingOccurrences(of: ", min(timestamp) AS first_sale", with: "")
        let over = Self.overView.replacingOccurrences(of: ", min(first_sale) AS first_sale", with: "")
        let raw = Self.raw.replacingOccurrences(of: ", min(timestamp) AS first_sale", with: "")
        #expect(target != Self.aggregatingTarget && view != Self.aggregatingView && over != Self.overView && raw != Self.raw)
        try await harness.test { http in
            try await Self.push(http, datasource: "sales_by_city_mv", target)
            #expect(try await Self.push(http, pipe: "sales_mv", view).status == .created)
            #expect(try await Self.push(http, pipe: "city_totals", over).status == .created)
            let rawPath = "/v0/sql?q=\(raw.pathEscaped)"
            let populated = try await http.request(.post, "/v0/pipes/sales_mv/nodes/by_city/population?truncate=true", token: Self.admin)
            #expect(populated["job"]?.objectValue?["status"] == .string("done"), "\(populated.text)")
            let before = try await Self.rows(http, rawPath)
            let viewed = try await Self.rows(http, "/v0/pipes/city_totals.json")
            #expect(before.count == 8 && viewed == before, "\(viewed)")

            let events = (0..<40).map { #"{"timestamp":"2026-12-01 10:00:00","order_id":"e-\#($0)","city":"\#($0 % 2 == 0 ? "Madrid" : "Soria")","product":"p\#($0 % 5)","units":\#($0 % 4 + 1),"amount":\#($0).5}"# }
            let appended = try await http.request(.post, "/v0/events?name=sales&wait=true", token: Self.admin, body: events.joined(separator: "\n"))
            #expect(appended["successful_rows"] == .number(40), "\(appended.text)")
            let after = try await Self.rows(http, rawPath)
            #expect(after.count == 9 && after != before)
            #expect(try await Self.rows(http, "/v0/pipes/city_totals.json") == after)

            // Replacing the view's pipe keeps one view: appends are not counted twice.
            let changed = view.replacingOccurrences(of: "GROUP BY city", with: "GROUP BY city\n    HAVING count() > 0")
            #expect(try await Self.push(http, pipe: "sales_mv", changed).status == .created)
            _ = try await http.request(.post, "/v0/events?name=sales&wait=true", token: Self.admin, body: events[0])
            #expect(try await Self.rows(http, "/v0/pipes/city_totals.json") == (try await Self.rows(http, rawPath)))
            #expect(try await http.request(.delete, "/v0/pipes/sales_mv", token: Self.admin).status == .noContent)
            _ = try await http.request(.post, "/v0/events?name=sales&wait=true", token: Self.admin, body: events[1])
            let unfed = try await Self.rows(http, "/v0/pipes/city_totals.json")
            #expect(unfed != (try await Self.rows(http, rawPath)), "a deleted view feeds nothing")
        }
    }
}
