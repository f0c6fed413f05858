import Analytics
import Crypto
import Foundation
import HTTPTypes
import TenantFile
import TesseraCore
import Testing
@testable import TesseraServer

/// Tinybird's `/v0` API against the demo workspace (the example datafiles and their 3,000 sample sales).
@Suite struct AnalyticsAPITests {
    static let workspaceID = "1f484a32-6966-4f63-9312-aadad64d3e12"
    static let adminToken = "test-admin-token-with-at-least-32-bytes-0123456789"

    static func demo(_ backend: AnalyticsBackend = .embedded) async throws -> Harness {
        let harness = try await Harness.make(backend.store)
        try await TenantFile.parse("""
            workspaces:
              - { name: demo, id: "\(workspaceID)", admin_token: "\(adminToken)", datafiles: analytics/\(backend.workspaceSettings()) }
            """, file: "t.yaml", environment: [:], directory: examplesDirectory).apply(to: harness.services)
        return harness
    }

    /// The seed 000/002 payload, signed the way PyJWT and jsonwebtoken sign it.
    static func jwt(_ claims: [String: JSONValue], key: String = adminToken, header: String = #"{"alg":"HS256","typ":"JWT"}"#) -> String {
        let input = Data(header.utf8).base64URLEncoded() + "." + Data(JSONValue.object(claims).jsonText().utf8).base64URLEncoded()
        let signature = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(key.utf8)))
        return input + "." + Data(signature).base64URLEncoded()
    }

    static func claims(_ harness: Harness, pipe: String = "sales_by_city", name: String = "tinybird_jwt_auth0|u1",
                       extra: [String: JSONValue] = [:], scope: [String: JSONValue] = [:]) -> [String: JSONValue] {
        var scopeFields: [String: JSONValue] = ["type": .string("PIPES:READ"), "resource": .string(pipe)]
        scopeFields.merge(scope) { $1 }
        var claims: [String: JSONValue] = [
            "workspace_id": .string(workspaceID), "name": .string(name),
            "exp": .number(harness.services.clock.now().timeIntervalSince1970 + 3600), "iat": .number(harness.services.clock.now().timeIntervalSince1970),
            "scopes": .array([.object(scopeFields)]),
        ]
        claims.merge(extra) { $1 }
        return claims
    }

    /// Revenue per city computed here from the fixture file, independently of the engine.
    static func expectedRevenue() throws -> [String: Double] {
        let text = try String(contentsOfFile: examplesDirectory + "/analytics/datasources/fixtures/sales.ndjson", encoding: .utf8)
        var totals: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let row = try JSONValue.parse(String(line)).objectValue ?? [:]
            if let city = row["city"]?.stringValue, case .number(let amount)? = row["amount"] { totals[city, default: 0] += amount }
        }
        return totals
    }

    static func rows(_ response: TestResponse) -> [[String: JSONValue]] {
        guard case .array(let items)? = response["data"] else { return [] }
        return items.compactMap(\.objectValue)
    }

    @Test(arguments: AnalyticsBackend.available)
    func seedJWTReadsTheEndpointInEveryFormat(_ kind: AnalyticsBackend) async throws {
        let harness = try await Self.demo(kind)
        let expected = try Self.expectedRevenue()
        try await harness.test { http in
            let token = Self.jwt(Self.claims(harness))
            let response = try await http.request(.get, "/v0/pipes/sales_by_city.json", token: token)
            #expect(response.status == .ok, "\(response.text)")
            let rows = Self.rows(response)
            #expect(rows.count == expected.count && response["rows"] == .number(Double(expected.count)))
            for row in rows {
                guard let city = row["city"]?.stringValue, case .number(let revenue)? = row["revenue"] else {
                    Issue.record("bad row \(row)"); continue
                }
                #expect(abs(revenue - (expected[city] ?? -1)) < 0.01, "\(city)")
            }
            #expect(rows.map { $0["revenue"] } == rows.map { $0["revenue"] }.sorted { ($0?.numberValue ?? 0) > ($1?.numberValue ?? 0) })
            guard case .array(let meta)? = response["meta"] else { Issue.record("no meta"); return }
            #expect(meta.compactMap { $0.objectValue?["name"]?.stringValue } == ["city", "revenue", "orders", "units"])
            #expect(response["statistics"]?.objectValue?["rows_read"] == .number(3000))
            #expect(response.text.hasPrefix(#"{"meta":[{"name":"city""#), "columns keep the query's order")

            // The same through ?token=, as the seed 002 iframe passes it, and in CSV and NDJSON.
            let csv = try await http.request(.get, "/v0/pipes/sales_by_city.csv?token=\(token)&limit=2")
            #expect(csv.status == .ok && csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let lines = csv.text.split(separator: "\n")
            #expect(lines.first == #""city","revenue","orders","units""# && lines.count == 3)
            let ndjson = try await http.request(.get, "/v0/pipes/sales_by_city.ndjson?cities=Madrid,Lisbon", token: token)
            let objects = ndjson.text.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)).objectValue }
            #expect(Set(objects.compactMap { $0["city"]?.stringValue }) == ["Madrid", "Lisbon"])

            // Seed 002 scopes the JWT by pipe id, not name.
            let listed = try await http.request(.get, "/v0/pipes", token: Self.adminToken)
            guard case .array(let pipes)? = listed["pipes"], let id = pipes.first?.objectValue?["id"]?.stringValue else {
                Issue.record("no pipes: \(listed.text)"); return
            }
            let byID = Self.jwt(Self.claims(harness, pipe: id))
            #expect(try await http.request(.get, "/v0/pipes/sales_by_city.json", token: byID).status == .ok)
            #expect(try await http.request(.get, "/v0/pipes/\(id).json", token: byID).status == .ok)
        }
    }

    @Test(arguments: AnalyticsBackend.available)
    func badTokensAreRefusedWithTheReason(_ kind: AnalyticsBackend) async throws {
        let harness = try await Self.demo(kind)
        try await harness.test { http in
            let good = Self.claims(harness)
            let valid = Self.jwt(good)
            var tamperedParts = valid.split(separator: ".").map(String.init)
            var changed = good
            changed["scopes"] = .array([.object(["type": .string("PIPES:READ"), "resource": .string("everything")])])
            tamperedParts[1] = Data(JSONValue.object(changed).jsonText().utf8).base64URLEncoded()
            let unsigned = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64URLEncoded() + "." + tamperedParts[1] + "."
            var otherWorkspace = good
            otherWorkspace["workspace_id"] = .string(UUID().uuidString.lowercased())
            var expired = good
            expired["exp"] = .number(harness.services.clock.now().timeIntervalSince1970 - 1)
            var noName = good
            noName["name"] = nil
            let cases: [(String?, String)] = [
                (nil, "Missing token"),
                ("garbage", "Invalid token"),
                ("a.b.c", "Invalid JWT"),
                (tamperedParts.joined(separator: "."), "signature"),
                (unsigned, "HS256"),
                (Self.jwt(good, header: #"{"alg":"none"}"#), "HS256"),
                (Self.jwt(good, key: "another-key-that-is-long-enough-0123456789"), "signature"),
                (Self.jwt(otherWorkspace), "workspace_id"),
                (Self.jwt(expired), "expired"),
                (Self.jwt(noName), "name is required"),
                (Self.jwt(Self.claims(harness, pipe: "top_products")), "no PIPES:READ scope for the pipe sales_by_city"),
                (Self.jwt(Self.claims(harness, scope: ["type": .string("ADMIN")])), "not PIPES:READ"),
            ]
            for (token, reason) in cases {
                let response = try await http.request(.get, "/v0/pipes/sales_by_city.json", token: token)
                #expect(response.status == .forbidden, "\(reason): \(response.text)")
                #expect(response["error"]?.stringValue?.contains(reason) == true, "\(reason): \(response.text)")
                #expect(response["data"] == nil)
            }
            // Existence is revealed only to a caller allowed to ask.
            let unscoped = try await http.request(.get, "/v0/pipes/secret_pipe.json", token: valid)
            #expect(unscoped.status == .forbidden)
            #expect(try await http.request(.get, "/v0/pipes/secret_pipe.json", token: Self.adminToken).status == .notFound)
            // Time passes: a token that was good expires.
            harness.clock.advance(seconds: 3601)
            let late = try await http.request(.get, "/v0/pipes/sales_by_city.json", token: valid)
            #expect(late.status == .forbidden && late.text.contains("expired"))
        }
    }

    @Test(arguments: AnalyticsBackend.available)
    func fixedParamsWinAndRateLimitsHold(_ kind: AnalyticsBackend) async throws {
        let harness = try await Self.demo(kind)
        try await harness.test { http in
            let pinned = Self.jwt(Self.claims(harness, scope: ["fixed_params": .object(["cities": .string("Madrid")])]))
            let response = try await http.request(.get, "/v0/pipes/sales_by_city.json?cities=Lisbon,Bilbao", token: pinned)
            #expect(Self.rows(response).compactMap { $0["city"]?.stringValue } == ["Madrid"], "\(response.text)")

            // A DATASOURCES:READ scope with a filter limits the rows every pipe sees of that data source.
            var filtered = Self.claims(harness)
            filtered["scopes"] = .array([
                .object(["type": .string("PIPES:READ"), "resource": .string("sales_by_city")]),
                .object(["type": .string("DATASOURCES:READ"), "resource": .string("sales"), "filter": .string("city IN ('Bilbao', 'Seville')")]),
            ])
            let rowLevel = try await http.request(.get, "/v0/pipes/sales_by_city.json", token: Self.jwt(filtered))
            #expect(Set(Self.rows(rowLevel).compactMap { $0["city"]?.stringValue }) == ["Bilbao", "Seville"], "\(rowLevel.text)")
            // By id too; and a filter naming no data source is refused, never skipped.
            let sales = try await http.request(.get, "/v0/datasources/sales", token: Self.adminToken)
            let salesID = try #require(sales["id"]?.stringValue)
            for (resource, expected) in [(salesID, HTTPResponse.Status.ok), ("SALES", .ok), ("no_such_source", .forbidden)] {
                filtered["scopes"] = .array([
                    .object(["type": .string("PIPES:READ"), "resource": .string("sales_by_city")]),
                    .object(["type": .string("DATASOURCES:READ"), "resource": .string(resource), "filter": .string("city = 'Bilbao'")]),
                ])
                let response = try await http.request(.get, "/v0/pipes/sales_by_city.json", token: Self.jwt(filtered))
                #expect(response.status == expected, "\(resource): \(response.text)")
                if expected == .ok { #expect(Self.rows(response).compactMap { $0["city"]?.stringValue } == ["Bilbao"]) }
            }
            let listed = try await http.request(.get, "/v0/pipes", token: pinned)
            #expect(listed.status == .ok && listed.text.contains("sales_by_city") && !listed.text.contains("\"sql\""),
                    "read tokens see endpoints, not their SQL")

            let limited = Self.jwt(Self.claims(harness, name: "limited", extra: ["limits": .object(["rps": .number(2)])]))
            #expect(try await http.request(.get, "/v0/pipes/sales_by_city.json", token: limited).status == .ok)
            let second = try await http.request(.get, "/v0/pipes/sales_by_city.json", token: limited)
            #expect(second.status == .ok && second.headers[HTTPField.Name("X-RateLimit-Remaining")!] == "0")
            let third = try await http.request(.get, "/v0/pipes/sales_by_city.json", token: limited)
            #expect(third.status == .tooManyRequests)
            #expect(third.headers[.retryAfter] == "1" && third.headers[HTTPField.Name("X-RateLimit-Limit")!] == "2")
            #expect(third["error"]?.stringValue?.contains("limited") == true)
            harness.clock.advance(seconds: 1)
            #expect(try await http.request(.get, "/v0/pipes/sales_by_city.json", token: limited).status == .ok)
        }
    }

    /// Two instances on one PostgreSQL store (here two `Analytics` over the same catalog and engine, each with its own
    /// limiter, as two processes would have): `limits.rps` counts the requests both serve.
    @Test(.enabled(if: StoreKind.postgresURL != nil))
    func rateLimitsHoldAcrossInstancesSharingAStore() async throws {
        let harness = try await Self.demo(AnalyticsBackend(store: .postgres, engine: .embedded))
        let first = harness.services.analytics
        let second = Analytics(catalog: first.catalog, engine: first.engine, clock: harness.services.clock)
        let limited = Self.jwt(Self.claims(harness, name: "shared", extra: ["limits": .object(["rps": .number(3)])]))
        try await harness.test { _ in
            var outcomes: [Bool] = []
            for instance in [first, second, first, second, second] {
                do {
                    _ = try await instance.read(pipe: "sales_by_city", token: limited, parameters: [:])
                    outcomes.append(true)
                } catch is RateLimited {
                    outcomes.append(false)
                }
            }
            #expect(outcomes == [true, true, true, false, false])
            harness.clock.advance(seconds: 1)
            _ = try await second.read(pipe: "sales_by_city", token: limited, parameters: [:])
        }
    }

    @Test(arguments: AnalyticsBackend.available)
    func parametersAreTypedAndNeverInjected(_ kind: AnalyticsBackend) async throws {
        let harness = try await Self.demo(kind)
        try await harness.test { http in
            let token = Self.jwt(Self.claims(harness))
            func get(_ query: String) async throws -> TestResponse {
                try await http.request(.get, "/v0/pipes/sales_by_city.json?" + query, token: token)
            }
            for (query, parameter) in [("limit=ten", "limit"), ("limit=1;%20DROP%20TABLE%20sales", "limit"),
                                       ("limit=99999999999", "limit"),
                                       ("start_date=2026-01-01'%20OR%201=1%20--", "start_date"), ("end_date=tomorrow", "end_date")] {
                let response = try await get(query)
                #expect(response.status == .badRequest, "\(query): \(response.text)")
                #expect(response["error"]?.stringValue?.contains("'\(parameter)'") == true, "\(query): \(response.text)")
            }
            for query in ["product=x'%20OR%20'1'='1", "cities=Madrid')%20OR%20('1'='1", "product=%22%3B%20DELETE%20FROM%20sales%3B%20--",
                          "cities=Madrid%27%2C%27Lisbon"] {
                let response = try await get(query)
                #expect(response.status == .ok && Self.rows(response).isEmpty, "\(query): \(response.text)")
            }
            let all = try await get("")
            #expect(Self.rows(all).compactMap { $0["orders"]?.numberValue }.reduce(0, +) == 3000, "nothing was changed or dropped")
            let windowed = try await get("start_date=2026-11-01&end_date=2026-11-02%2000:00:00&limit=3")
            #expect(windowed.status == .ok && Self.rows(windowed).count == 3)
        }
    }

    @Test(arguments: AnalyticsBackend.available)
    func eventsAPIAppendsAndQuarantines(_ kind: AnalyticsBackend) async throws {
        let harness = try await Self.demo(kind)
        try await harness.test { http in
            let created = try await http.request(.post, "/v0/tokens?name=ingest&scope=DATASOURCES:APPEND:sales", token: Self.adminToken)
            #expect(created.status == .created, "\(created.text)")
            let ingest = try #require(created["token"]?.stringValue)
            let body = """
                {"timestamp":"2026-11-21 10:00:00","order_id":"n1","city":"Porto","product":"pen","units":1,"amount":1.2}
                {"timestamp":"2026-11-21 10:01:00","order_id":"n2","city":"Porto","product":"pen","units":2,"amount":2.4}
                {"timestamp":"2026-11-21 10:02:00","order_id":"n3","city":"Porto","product":"pen","units":-1,"amount":0}
                """
            let accepted = try await http.request(.post, "/v0/events?name=sales", token: ingest, body: body, contentType: "application/x-ndjson")
            #expect(accepted.status == .accepted && accepted["successful_rows"] == .number(2) && accepted["quarantined_rows"] == .number(1))
            let waited = try await http.request(.post, "/v0/events?name=sales&wait=true", token: ingest, body: String(body.split(separator: "\n")[0]))
            #expect(waited.status == .ok && waited["successful_rows"] == .number(1))
            let described = try await http.request(.get, "/v0/datasources/sales", token: Self.adminToken)
            #expect(described["statistics"]?.objectValue?["row_count"] == .number(3003))
            #expect(described["statistics"]?.objectValue?["quarantine_rows"] == .number(1))
            let reader = Self.jwt(Self.claims(harness))
            #expect(try await http.request(.post, "/v0/events?name=sales", token: reader, body: body).status == .forbidden)
            #expect(try await http.request(.post, "/v0/events?name=nope", token: Self.adminToken, body: body).status == .notFound)
            #expect(try await http.request(.post, "/v0/events", token: Self.adminToken, body: body).status == .badRequest)
            let porto = try await http.request(.get, "/v0/pipes/sales_by_city.json?cities=Porto", token: reader)
            #expect(Self.rows(porto).first?["orders"] == .number(3))
            // Every append counts towards its minute: the 3,000 fixture rows a minute earlier, then these.
            harness.clock.advance(seconds: 60)
            _ = try await http.request(.post, "/v0/events?name=sales&wait=true", token: ingest, body: body)
            let ingestion = try await http.request(.get, "/v0/datasources/sales/ingestion?minutes=3", token: Self.adminToken)
            #expect(ingestion.status == .ok, "\(ingestion.text)")
            let minutes = ingestion["minutes"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(minutes.count == 3 && minutes.last?["minute"]?.stringValue?.hasSuffix(":00.000Z") == true)
            #expect(minutes.map { $0["rows"] } == [.number(0), .number(3003), .number(2)], "\(ingestion.text)")
            #expect(minutes.map { $0["quarantined_rows"] } == [.number(0), .number(1), .number(1)])
            for bad in ["minutes=0", "minutes=1441", "minutes=1%27%20OR%201=1"] {
                #expect(try await http.request(.get, "/v0/datasources/sales/ingestion?\(bad)", token: Self.adminToken).status == .badRequest)
            }
            #expect(try await http.request(.get, "/v0/datasources/nope/ingestion", token: Self.adminToken).status == .notFound)
            let demoWorkspace = try #require(try await harness.services.analytics.catalog.workspace(id: Self.workspaceID))
            let byID = try #require(try await harness.services.analytics.catalog.dataSource("sales", in: demoWorkspace)).id
            let sameCounts = try await http.request(.get, "/v0/datasources/\(byID)/ingestion?minutes=3", token: Self.adminToken)
            #expect(sameCounts["minutes"] == ingestion["minutes"], "by id as by name")
            #expect(try await http.request(.get, "/v0/datasources/sales/ingestion", token: reader).status == .forbidden)
        }
    }

    @Test(arguments: AnalyticsBackend.available)
    func sqlForTheAdminAndJSONErrorsForUnknownPaths(_ kind: AnalyticsBackend) async throws {
        let harness = try await Self.demo(kind)
        try await harness.test { http in
            let query = "SELECT city, count() AS orders FROM sales GROUP BY city ORDER BY orders DESC LIMIT 2"
            let json = try await http.request(.get, "/v0/sql?q=\(query.pathEscaped)", token: Self.adminToken)
            #expect(json.status == .ok && Self.rows(json).count == 2 && Self.rows(json).first?["city"] == .string("Madrid"), "\(json.text)")
            let csv = try await http.request(.post, "/v0/sql", token: Self.adminToken, body: query + " FORMAT CSVWithNames")
            #expect(csv.text.hasPrefix(#""city","orders""#) && csv.text.split(separator: "\n").count == 3, "\(csv.text)")
            let reader = Self.jwt(Self.claims(harness))
            #expect(try await http.request(.get, "/v0/sql?q=\(query.pathEscaped)", token: reader).status == .forbidden)
            for bad in ["DELETE FROM sales", "SELECT * FROM nowhere", "SELECT 1; DROP TABLE sales", ""] {
                let response = try await http.request(.get, "/v0/sql?q=\(bad.pathEscaped)", token: Self.adminToken)
                #expect(response.status == .badRequest && response["error"]?.stringValue != nil, "\(bad): \(response.text)")
            }
            let all = try await http.request(.get, "/v0/sql?q=\("SELECT count() AS n FROM sales".pathEscaped)", token: Self.adminToken)
            #expect(Self.rows(all).first?["n"] == .number(3000))
            let unknown = try await http.request(.get, "/v0/nothing/here", token: Self.adminToken)
            #expect(unknown.status == .notFound && unknown["error"]?.stringValue?.contains("Unknown endpoint") == true)
            #expect(try await http.request(.get, "/v0/pipes", token: Self.adminToken).status == .ok, "real routes still win")
        }
    }

    @Test(arguments: AnalyticsBackend.available)
    func dataSourcesTokensAndRefresh(_ kind: AnalyticsBackend) async throws {
        let harness = try await Self.demo(kind)
        try await harness.test { http in
            let schema = "`day` Date `json:$.day`, `visits` UInt32 `json:$.n`".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let created = try await http.request(.post, "/v0/datasources?name=visits&mode=create&schema=\(schema)", token: Self.adminToken)
            #expect(created.status == .created, "\(created.text)")
            let csv = "day,visits\n2026-11-20,10\n2026-11-21,\"12\"\nnot-a-day,3\n"
            let appended = try await http.request(.post, "/v0/datasources?name=visits&mode=append", token: Self.adminToken,
                                                  body: csv, contentType: "text/csv")
            #expect(appended["datasource"]?.objectValue?["successful_rows"] == .number(2) && appended["invalid_lines"] == .number(1),
                    "\(appended.text)")
            let replaced = try await http.request(.post, "/v0/datasources?name=visits&mode=replace&format=ndjson", token: Self.adminToken,
                                                  body: #"{"day":"2026-11-22","n":7}"#)
            #expect(replaced["datasource"]?.objectValue?["statistics"]?.objectValue?["row_count"] == .number(1), "\(replaced.text)")
            #expect(try await http.request(.post, "/v0/datasources?name=visits&mode=create&schema=\(schema)", token: Self.adminToken).status == .conflict)
            #expect(try await http.request(.post, "/v0/datasources?name=bad&mode=create&schema=%60x%60%20Decimal", token: Self.adminToken).status == .badRequest)
            // Replacing deletes every row: an append-only token may not.
            let appender = try await http.request(.post, "/v0/tokens?name=visits_append&scope=DATASOURCES:APPEND:visits", token: Self.adminToken)
            let appendToken = try #require(appender["token"]?.stringValue)
            #expect(try await http.request(.post, "/v0/datasources?name=visits&mode=replace", token: appendToken, body: "").status == .forbidden)
            #expect(try await http.request(.post, "/v0/datasources?name=visits&mode=append&format=ndjson", token: appendToken,
                                           body: #"{"day":"2026-11-23","n":1}"#).status == .ok)
            let afterAppend = try await http.request(.get, "/v0/sql?q=\("SELECT day, visits FROM visits ORDER BY day".pathEscaped)",
                                                     token: Self.adminToken)
            #expect(Self.rows(afterAppend).map { [$0["day"], $0["visits"]] }
                    == [[.string("2026-11-22"), .number(7)], [.string("2026-11-23"), .number(1)]], "the appended row is there: \(afterAppend.text)")
            for (name, schemaText, status) in [("empty", "", HTTPResponse.Status.badRequest), ("twice", "`a` String, `A` String", .badRequest),
                                                ("sqlite_master2", "`a` String", .badRequest), ("Visits", "`a` String", .conflict),
                                                ("x_quarantine", "`a` String", .badRequest)] {
                let response = try await http.request(.post, "/v0/datasources?name=\(name)&mode=create&schema=\(schemaText.pathEscaped)",
                                                      token: Self.adminToken)
                #expect(response.status == status, "\(name): \(response.text)")
            }
            let afterRefusals = try await http.request(.get, "/v0/datasources", token: Self.adminToken)
            let names = Set(afterRefusals["datasources"]?.arrayValue?.compactMap { $0.objectValue?["name"]?.stringValue } ?? [])
            #expect(names == ["sales", "visits"], "refused creations left nothing behind: \(names.sorted())")
            for name in ["empty", "twice", "sqlite_master2", "x_quarantine", "bad"] {
                #expect(try await http.request(.get, "/v0/datasources/\(name)", token: Self.adminToken).status == .notFound, "\(name)")
                let table = try await http.request(.get, "/v0/sql?q=\("SELECT count() FROM \(name)".pathEscaped)", token: Self.adminToken)
                #expect(table.status == .badRequest, "no table \(name) was left behind: \(table.text)")
            }
            #expect(try await http.request(.post, "/v0/datasources/visits/truncate", token: Self.adminToken).status == .noContent)
            let listed = try await http.request(.get, "/v0/datasources", token: Self.adminToken)
            #expect(listed.text.contains("\"visits\"") && listed.text.contains("\"sales\""))
            #expect(try await http.request(.delete, "/v0/datasources/visits", token: Self.adminToken).status == .noContent)

            // A JWT minted by the API, and a static read token.
            let expiration = Int(harness.services.clock.now().timeIntervalSince1970) + 600
            let minted = try await http.request(.post, "/v0/tokens?name=api_jwt&expiration_time=\(expiration)", token: Self.adminToken,
                json: .object(["scopes": .array([.object(["type": .string("PIPES:READ"), "resource": .string("sales_by_city")])])]))
            let jwt = try #require(minted["token"]?.stringValue)
            let tooFast = try await http.request(.post, "/v0/tokens?name=fast&expiration_time=\(expiration)", token: Self.adminToken,
                json: .object(["scopes": .array([.object(["type": .string("PIPES:READ"), "resource": .string("sales_by_city")])]),
                               "limits": .object(["rps": .number(1e300)])]))
            #expect(tooFast.status == .badRequest)
            #expect(decodeJWTPart(jwt, 1)["workspace_id"] == .string(Self.workspaceID))
            #expect(try await http.request(.get, "/v0/pipes/sales_by_city.json", token: jwt).status == .ok)
            let reader = try await http.request(.post, "/v0/tokens?name=reader&scope=PIPES:READ:sales_by_city", token: Self.adminToken)
            let readerToken = try #require(reader["token"]?.stringValue)
            #expect(readerToken.hasPrefix("p."))
            #expect(try await http.request(.get, "/v0/pipes/sales_by_city.json", token: readerToken).status == .ok)
            #expect(try await http.request(.get, "/v0/datasources/sales", token: readerToken).status == .forbidden)
            #expect(try await http.request(.get, "/v0/tokens", token: readerToken).status == .forbidden)
            let tokens = try await http.request(.get, "/v0/tokens", token: Self.adminToken)
            #expect(tokens.text.contains("\"reader\"") && !tokens.text.contains(readerToken), "values are shown once, at creation")
            #expect(try await http.request(.delete, "/v0/tokens/reader", token: Self.adminToken).status == .noContent)
            #expect(try await http.request(.get, "/v0/pipes/sales_by_city.json", token: readerToken).status == .forbidden)
            for bad in ["/v0/tokens?name=x&scope=PIPES:WRITE:sales", "/v0/tokens?name=x", "/v0/tokens?scope=ADMIN"] {
                #expect(try await http.request(.post, bad, token: Self.adminToken).status == .badRequest, "\(bad)")
            }

            // Refreshing the admin token invalidates every JWT signed with the old one, at once.
            let refreshed = try await http.request(.post, "/v0/tokens/admin%20token/refresh", token: Self.adminToken)
            let newAdmin = try #require(refreshed["token"]?.stringValue)
            #expect(try await http.request(.get, "/v0/pipes/sales_by_city.json", token: jwt).status == .forbidden)
            #expect(try await http.request(.get, "/v0/pipes", token: Self.adminToken).status == .forbidden)
            #expect(try await http.request(.get, "/v0/pipes", token: newAdmin).status == .ok)
        }
    }

    /// `POST /v0/pipes?name=` with a `.pipe` datafile body, then `DELETE /v0/pipes/<name>`: only the admin may, and a
    /// deleted pipe is gone from the list and its endpoint.
    @Test(arguments: AnalyticsBackend.available)
    func pipesAreCreatedAndDeleted(_ kind: AnalyticsBackend) async throws {
        let harness = try await Self.demo(kind)
        try await harness.test { http in
            let datafile = """
                NODE totals
                SQL >
                    SELECT count() AS orders FROM sales

                TYPE ENDPOINT
                """
            let reader = try await http.request(.post, "/v0/tokens?name=reader&scope=PIPES:READ:sales_by_city", token: Self.adminToken)
            let readerToken = try #require(reader["token"]?.stringValue)
            #expect(try await http.request(.post, "/v0/pipes?name=order_count", token: readerToken, body: datafile).status == .forbidden)
            #expect(try await http.request(.post, "/v0/pipes", token: Self.adminToken, body: datafile).status == .badRequest)
            let created = try await http.request(.post, "/v0/pipes?name=order_count", token: Self.adminToken, body: datafile)
            #expect(created.status == .created, "\(created.text)")
            #expect(created["name"] == .string("order_count"))
            let again = try await http.request(.post, "/v0/pipes?name=order_count", token: Self.adminToken, body: datafile)
            #expect(again.status == .ok, "the same datafile again changes nothing: \(again.text)")
            let data = try await http.request(.get, "/v0/pipes/order_count.json", token: Self.adminToken)
            #expect(Self.rows(data).first?["orders"] == .number(3000), "\(data.text)")
            #expect(try await http.request(.delete, "/v0/pipes/order_count", token: readerToken).status == .forbidden)
            #expect(try await http.request(.delete, "/v0/pipes/order_count", token: Self.adminToken).status == .noContent)
            #expect(try await http.request(.get, "/v0/pipes/order_count.json", token: Self.adminToken).status == .notFound)
            let listed = try await http.request(.get, "/v0/pipes", token: Self.adminToken)
            #expect(listed["pipes"]?.arrayValue?.compactMap { $0.objectValue?["name"]?.stringValue } == ["sales_by_city"], "\(listed.text)")
            #expect(try await http.request(.delete, "/v0/pipes/order_count", token: Self.adminToken).status == .notFound)
        }
    }
}
