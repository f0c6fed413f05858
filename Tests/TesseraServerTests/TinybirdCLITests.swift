import Foundation
import HTTPTypes
import Testing
import TesseraCore

/// The `/v0` calls Tinybird's CLI makes besides the endpoints, in the shapes it reads (interop/test_tb_cli.py drives
/// the real `tb` through the same routes).
@Suite struct TinybirdCLITests {
    static let admin = AnalyticsAPITests.adminToken

    @Test(arguments: AnalyticsBackend.available)
    func workspaceAndUserWorkspaces(_ kind: AnalyticsBackend) async throws {
        let harness = try await AnalyticsAPITests.demo(kind)
        try await harness.test { http in
            let workspace = try await http.request(.get, "/v0/workspace?token=\(Self.admin)")
            #expect(workspace["id"] == .string(AnalyticsAPITests.workspaceID) && workspace["name"] == .string("demo"))
            #expect(workspace["scope"] == .string("admin") && workspace["is_branch"] == .bool(false))
            let reader = AnalyticsAPITests.jwt(AnalyticsAPITests.claims(harness))
            #expect(try await http.request(.get, "/v0/workspace", token: reader)["scope"] == .string("read"))
            let mine = try await http.request(.get, "/v0/user/workspaces/?with_environments=true", token: Self.admin)
            let listed = try #require(mine["workspaces"]?.arrayValue?.first?.objectValue, "\(mine.text)")
            #expect(mine["id"] == .string(AnalyticsAPITests.workspaceID) && listed["id"] == .string(AnalyticsAPITests.workspaceID))
            #expect(listed["role"] == .string("admin") && listed["plan"] == .string("custom"))
            #expect(try await http.request(.get, "/v0/regions", token: Self.admin).json == .object(["regions": .array([])]))
            #expect(try await http.request(.get, "/v0/workspace").status == .forbidden)
        }
    }

    @Test(arguments: AnalyticsBackend.available)
    func dataSourcesFromFormsAndMultipartAndBackAsDatafiles(_ kind: AnalyticsBackend) async throws {
        let harness = try await AnalyticsAPITests.demo(kind)
        try await harness.test { http in
            // `tb push`: the parameters in a form body, the schema on one line.
            let form = RequestForm([("name", "visits"), ("description", "Page visits."),
                                    ("schema", "`day` Date `json:$.day`,`n` UInt32 `json:$.n`"), ("format", "ndjson"),
                                    ("engine", "MergeTree"), ("engine_sorting_key", "day")]).encoded
            let created = try await http.request(.post, "/v0/datasources", token: Self.admin, body: form,
                                                 contentType: "application/x-www-form-urlencoded")
            #expect(created.status == .created, "\(created.text)")
            let described = try await http.request(.get, "/v0/datasources/visits?attrs=", token: Self.admin)
            #expect(described["description"] == .string("Page visits.") && described["tags"] == .object([:]))
            #expect(described["schema"]?.objectValue?["sql_schema"] == .string("`day` Date `json:$.day`, `n` UInt32 `json:$.n`"))
            #expect(described["updated_at"]?.stringValue?.wholeMatch(of: /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}/) != nil)

            // `tb datasource append`: the rows as a multipart part named after their format.
            let boundary = "tessera-\(RandomToken.hex(bytes: 4))"
            let multipart = "--\(boundary)\r\nContent-Disposition: form-data; name=\"ndjson\"; filename=\"ndjson\"\r\n\r\n"
                + "{\"day\":\"2026-12-01\",\"n\":3}\n{\"day\":\"2026-12-02\",\"n\":4}\n{\"day\":\"x\",\"n\":1}\n\r\n--\(boundary)--\r\n"
            let appended = try await http.request(.post, "/v0/datasources?name=visits&mode=append&format=ndjson", token: Self.admin,
                                                  body: multipart, contentType: "multipart/form-data; boundary=\(boundary)")
            #expect(appended["datasource"]?.objectValue?["successful_rows"] == .number(2) && appended["quarantine_rows"] == .number(1),
                    "\(appended.text)")
            let sum = try await http.request(.get, "/v0/sql?q=\("SELECT sum(n) AS n FROM visits".pathEscaped)", token: Self.admin)
            #expect(AnalyticsAPITests.rows(sum).first?["n"] == .number(7), "\(sum.text)")
            for (body, type) in [("--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b"),
                                 ("no boundary here", "multipart/form-data; boundary=b"),
                                 ("--b\r\nno headers\r\n--b--\r\n", "multipart/form-data; boundary=b")] {
                let refused = try await http.request(.post, "/v0/datasources?name=visits&mode=append", token: Self.admin,
                                                     body: body, contentType: type)
                #expect(refused.status == .badRequest && refused["error"] != nil, "\(refused.text)")
            }
            let url = try await http.request(.post, "/v0/datasources?name=remote&mode=create&url=https%3A%2F%2Fexample.com%2Fx.csv",
                                             token: Self.admin)
            #expect(url.status == .badRequest && url["error"]?.stringValue?.contains("url") == true)

            // `tb pull`: the datafile, as text/plain exactly, parses back to the same data source.
            let datafile = try await http.request(.get, "/v0/datasources/visits.datasource", token: Self.admin)
            #expect(datafile.headers[.contentType] == "text/plain")
            #expect(datafile.text == """
                DESCRIPTION >
                    Page visits.

                SCHEMA >
                    `day` Date `json:$.day`,
                    `n` UInt32 `json:$.n`

                ENGINE "MergeTree"
                ENGINE_SORTING_KEY "day"

                """)
            let reader = AnalyticsAPITests.jwt(AnalyticsAPITests.claims(harness))
            #expect(try await http.request(.get, "/v0/datasources/visits.datasource", token: reader).status == .forbidden)

            // `tb push --force` of an unchanged file, and what it cannot change yet.
            let same = try await http.request(.post, "/v0/datasources/visits/alter", token: Self.admin,
                                              body: RequestForm([("schema", "`day` Date `json:$.day`, `n` UInt32 `json:$.n`"), ("dry", "true")]).encoded,
                                              contentType: "application/x-www-form-urlencoded")
            #expect(same.status == .badRequest && same["error"] == .string("There were no operations to perform"))
            let dropped = try await http.request(.post, "/v0/datasources/visits/alter?schema=\("`day` Date".pathEscaped)", token: Self.admin)
            #expect(dropped.status == .badRequest && dropped["error"]?.stringValue?.contains("Dropping columns (n)") == true, "\(dropped.text)")
            let retyped = try await http.request(.post, "/v0/datasources/visits/alter?schema=\("`day` Date, `n` String".pathEscaped)", token: Self.admin)
            #expect(retyped.status == .badRequest && retyped["error"]?.stringValue?.contains("cannot become") == true, "\(retyped.text)")
            let ttl = try await http.request(.post, "/v0/datasources/visits/alter?ttl=\("day + interval 1 day".pathEscaped)", token: Self.admin)
            #expect(ttl.status == .badRequest, "\(ttl.text)")

            // `tb push --force` of a changed file: a dry run lists the operations, then they are made. Stored rows take the
            // new columns' defaults.
            let grown = RequestForm([("schema", "`day` Date `json:$.day`, `n` UInt32 `json:$.n`, `page` String `json:$.page`, `ref` Nullable(String) `json:$.ref`"),
                                     ("description", "Visits per page."), ("dry", "true")])
            let planned = try await http.request(.post, "/v0/datasources/visits/alter", token: Self.admin, body: grown.encoded,
                                                 contentType: "application/x-www-form-urlencoded")
            #expect(planned["operations"] == .array([.string("Changed description"), .string("ADD COLUMN `page` String"),
                                                 .string("ADD COLUMN `ref` Nullable(String)")]), "\(planned.text)")
            #expect(try await http.request(.get, "/v0/datasources/visits", token: Self.admin)["description"] == .string("Page visits."))
            let applied = try await http.request(.post, "/v0/datasources/visits/alter", token: Self.admin,
                                                 body: RequestForm(grown.fields.filter { $0.0 != "dry" } + [("dry", "false")]).encoded,
                                                 contentType: "application/x-www-form-urlencoded")
            #expect(applied.status == .ok && applied["datasource"]?.objectValue?["description"] == .string("Visits per page."), "\(applied.text)")
            _ = try await http.request(.post, "/v0/events?name=visits&wait=true", token: Self.admin,
                                       body: #"{"day":"2026-12-03","n":1,"page":"/docs","ref":"news"}"#)
            let grownRows = try await http.request(.get, "/v0/sql?q=\("SELECT day, page, ref FROM visits ORDER BY day".pathEscaped)", token: Self.admin)
            let pagesAndReferrers: [[JSONValue?]] = AnalyticsAPITests.rows(grownRows).map { [$0["page"], $0["ref"]] }
            let expected: [[JSONValue?]] = [[.string(""), .null], [.string(""), .null], [.string("/docs"), .string("news")]]
            #expect(pagesAndReferrers == expected, "\(grownRows.text)")
            let again = try await http.request(.post, "/v0/datasources/visits/alter", token: Self.admin,
                                               body: RequestForm(grown.fields.filter { $0.0 != "dry" }).encoded,
                                               contentType: "application/x-www-form-urlencoded")
            #expect(again["error"] == .string("There were no operations to perform"), "\(again.text)")

            // `tb datasource rm` asks first (dry run), then deletes.
            let dry = try await http.request(.delete, "/v0/datasources/sales?force=false&dry_run=true", token: Self.admin)
            #expect(dry.json == .object(["dependent_pipes": .array([.string("sales_by_city")])]), "\(dry.text)")
            #expect(try await http.request(.get, "/v0/datasources/sales", token: Self.admin).status == .ok, "a dry run deletes nothing")
            #expect(try await http.request(.delete, "/v0/datasources/visits?force=true&dry_run=false", token: Self.admin).status == .noContent)
            #expect(try await http.request(.get, "/v0/datasources/visits", token: Self.admin).status == .notFound)
        }
    }

    @Test(arguments: AnalyticsBackend.available)
    func pipesFromJSONAndSQLAndBackAsDatafiles(_ kind: AnalyticsBackend) async throws {
        let harness = try await AnalyticsAPITests.demo(kind)
        try await harness.test { http in
            // `tb push` sends the nodes as JSON, a template's lines still indented after its `%`.
            let pushed = try await http.request(.post, "/v0/pipes?name=by_product&force=true", token: Self.admin, json: .object([
                "name": .string("by_product"), "description": .string("Units per product."),
                "nodes": .array([
                    .object(["name": .string("totals"), "type": .string("standard"), "description": .null, "datasource": .null,
                             "sql": .string("%\n    SELECT product, sum(units) AS units FROM sales\n    WHERE city = {{String(city, 'Madrid')}}\n    GROUP BY product")]),
                    .object(["name": .string("endpoint"), "type": .string("endpoint"),
                             "sql": .string("SELECT * FROM totals ORDER BY units DESC, product")]),
                ]),
            ]))
            #expect(pushed.status == .created, "\(pushed.text)")
            #expect(pushed["type"] == .string("endpoint"))
            #expect(pushed["nodes"]?.arrayValue?.compactMap { $0.objectValue?["type"]?.stringValue } == ["standard", "endpoint"])
            let data = try await http.request(.get, "/v0/pipes/by_product.json?city=Bilbao", token: Self.admin)
            #expect(AnalyticsAPITests.rows(data).count == 6, "\(data.text)")

            let pulled = try await http.request(.get, "/v1/pipes/by_product.pipe", token: Self.admin)
            #expect(pulled.headers[.contentType] == "text/plain")
            #expect(pulled.text == """
                DESCRIPTION >
                    Units per product.

                NODE totals
                SQL >
                    %
                    SELECT product, sum(units) AS units FROM sales
                    WHERE city = {{String(city, 'Madrid')}}
                    GROUP BY product

                NODE endpoint
                SQL >
                    SELECT * FROM totals ORDER BY units DESC, product
                TYPE ENDPOINT


                """)
            #expect(try await http.request(.get, "/v1/pipes/nope.pipe", token: Self.admin).status == .notFound)
            #expect(try await http.request(.get, "/v1/pipes/by_product.json", token: Self.admin).status == .notFound)

            // Tinybird's API form: one node from `?sql=`, then publishing a node as the endpoint.
            let oneNode = try await http.request(.post, "/v0/pipes?name=count_all&sql=\("SELECT count() AS n FROM sales".pathEscaped)",
                                                 token: Self.admin)
            #expect(oneNode.status == .created, "\(oneNode.text)")
            let counted = try await http.request(.get, "/v0/pipes/count_all.json", token: Self.admin)
            #expect(AnalyticsAPITests.rows(counted).first?["n"] == .number(3000))
            let nodeID = try #require(pushed["nodes"]?.arrayValue?.first?.objectValue?["id"]?.stringValue)
            let published = try await http.request(.post, "/v0/pipes/by_product/nodes/\(nodeID)/endpoint", token: Self.admin)
            #expect(published["endpoint"] == .string("totals"), "\(published.text)")
            #expect(try await http.request(.post, "/v0/pipes/by_product/nodes/nope/endpoint", token: Self.admin).status == .notFound)

            // Appending a node (Tinybird's Python client does it with the SQL as the body), then publishing it.
            let appended = try await http.request(.post, "/v0/pipes/by_product/nodes?name=top_one", token: Self.admin,
                                                  body: "SELECT * FROM totals ORDER BY units DESC LIMIT 1", contentType: "text/plain")
            #expect(appended.status == .created && appended["name"] == .string("top_one"), "\(appended.text)")
            let appendedID = try #require(appended["id"]?.stringValue)
            #expect(try await http.request(.post, "/v0/pipes/by_product/nodes/\(appendedID)/endpoint", token: Self.admin)["endpoint"]
                    == .string("top_one"))
            let top = try await http.request(.get, "/v0/pipes/by_product.json", token: Self.admin)
            #expect(AnalyticsAPITests.rows(top).count == 1, "\(top.text)")
            #expect(try await http.request(.post, "/v0/pipes/by_product/nodes?name=top_one", token: Self.admin,
                                           body: "SELECT 1", contentType: "text/plain").status == .conflict)
            #expect(try await http.request(.post, "/v0/pipes/by_product/nodes", token: Self.admin, body: " ",
                                           contentType: "text/plain").status == .badRequest)
            #expect(try await http.request(.post, "/v0/pipes/nope/nodes", token: Self.admin, body: "SELECT 1",
                                           contentType: "text/plain").status == .notFound)

            for body: JSONValue in [
                .object(["name": .string("x"), "nodes": .array([])]),
                .object(["name": .string("x"), "nodes": .array([.object(["name": .string("n"), "sql": .string("SELECT 1"),
                                                                           "type": .string("materialized")])])]),
                .object(["name": .string("x"), "nodes": .array([.object(["name": .string("n")])])]),
                .object(["name": .string("x"), "nodes": .string("SELECT 1"), "extra": .bool(true)]),
            ] {
                let refused = try await http.request(.post, "/v0/pipes", token: Self.admin, json: body)
                #expect(refused.status == .badRequest && refused["error"] != nil, "\(body.jsonText()): \(refused.text)")
            }
        }
    }

    @Test(arguments: AnalyticsBackend.available)
    func pushChecksAndTokenListing(_ kind: AnalyticsBackend) async throws {
        let harness = try await AnalyticsAPITests.demo(kind)
        try await harness.test { http in
            let tables = try await http.request(.post, "/v0/sql_tables", token: Self.admin,
                                                body: RequestForm([("q", "SELECT * FROM sales s JOIN other.extra ON 1 WHERE x IN (SELECT y FROM sales)"),
                                                                   ("raising", "true")]).encoded,
                                                contentType: "application/x-www-form-urlencoded")
            #expect(tables.json == .object(["tables": .array([.array([.string(""), .string("sales")]),
                                                               .array([.string(""), .string("other.extra")])])]), "\(tables.text)")
            // The regression check `tb push --force` runs reads Tinybird's own logs, which Tessera does not keep.
            let stats = try await http.request(.get, "/v0/sql?q=\("SELECT * FROM tinybird.pipe_stats_rt WHERE pipe_name = 'x' FORMAT JSON".pathEscaped)",
                                               token: Self.admin)
            #expect(stats.status == .ok && stats["data"] == .array([]), "\(stats.text)")
            let listed = try await http.request(.get, "/v0/tokens", token: Self.admin)
            let tokens = listed["tokens"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(tokens.first?["name"] == .string("admin token") && tokens.first?["token"] == .string(Self.admin), "\(listed.text)")
            #expect(tokens.dropFirst().allSatisfy { $0["token"] == nil && $0["description"] != nil }, "static tokens are shown once")

            // Every /v0 parameter may come in a form body instead of the query string.
            let form = "application/x-www-form-urlencoded"
            let pipe = try await http.request(.post, "/v0/pipes", token: Self.admin,
                                              body: RequestForm([("name", "form_pipe"), ("sql", "SELECT 1 + 1 AS two")]).encoded, contentType: form)
            #expect(pipe.status == .created, "\(pipe.text)")
            #expect(AnalyticsAPITests.rows(try await http.request(.get, "/v0/pipes/form_pipe.json", token: Self.admin)).first?["two"] == .number(2))
            let noSQL = try await http.request(.post, "/v0/pipes", token: Self.admin, body: "name=x", contentType: form)
            #expect(noSQL.status == .badRequest && noSQL["error"]?.stringValue?.contains("sql") == true)
            let token = try await http.request(.post, "/v0/tokens", token: Self.admin,
                                               body: RequestForm([("name", "form reader"), ("scope", "PIPES:READ:form_pipe"), ("scope", "PIPES:READ:sales_by_city")]).encoded,
                                               contentType: form)
            #expect(token.status == .created && token["name"] == .string("form reader"), "\(token.text)")
            #expect(token["scopes"]?.arrayValue?.count == 2)
            let sql = try await http.request(.post, "/v0/sql", token: Self.admin, body: "q=SELECT+count()+AS+n+FROM+sales", contentType: form)
            #expect(AnalyticsAPITests.rows(sql).first?["n"] == .number(3000), "\(sql.text)")
        }
    }
}

/// An `application/x-www-form-urlencoded` body, encoded as a browser or `requests` would.
struct RequestForm {
    let fields: [(String, String)]
    init(_ fields: [(String, String)]) { self.fields = fields }
    var encoded: String {
        fields.map { "\($0.0.formEscaped)=\($0.1.formEscaped)" }.joined(separator: "&")
    }
}

extension String {
    /// Form encoding: spaces as `+`, everything but unreserved characters escaped.
    var formEscaped: String {
        (addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~ ")) ?? self)
            .replacingOccurrences(of: " ", with: "+")
    }
}

/// `curl --data-binary @file` labels any body as a form: rows, datafiles and queries sent so keep working.
@Suite struct CurlBodiesTests {
    @Test func bodiesLabelledAsFormsThatAreNotFormsAreData() async throws {
        let harness = try await AnalyticsAPITests.demo()
        try await harness.test { http in
            let form = "application/x-www-form-urlencoded"
            let admin = AnalyticsAPITests.adminToken
            let pipe = try await http.request(.post, "/v0/pipes?name=one_row", token: admin,
                                              body: "NODE one\nSQL >\n    SELECT 1 AS one\nTYPE ENDPOINT", contentType: form)
            #expect(pipe.status == .created, "\(pipe.text)")
            let sql = try await http.request(.post, "/v0/sql", token: admin, body: "SELECT count() AS n FROM sales", contentType: form)
            #expect(AnalyticsAPITests.rows(sql).first?["n"] == .number(3000), "\(sql.text)")
            let rows = try await http.request(.post, "/v0/datasources?name=sales&mode=append&format=ndjson", token: admin,
                                              body: #"{"timestamp":"2026-11-30 10:00:00","order_id":"c1","city":"Porto","product":"pen","units":1,"amount":2}"#,
                                              contentType: form)
            #expect(rows["datasource"]?.objectValue?["successful_rows"] == .number(1), "\(rows.text)")
        }
    }
}
