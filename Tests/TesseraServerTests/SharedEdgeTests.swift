import Foundation
import HTTPTypes
import Testing
import TesseraCore
import TesseraHTTP

/// One query string decoder for every API family: the same encodings give the same parameters on `/authorize`,
/// `/api/v2/users`, `/v0/pipes/…` and the chart pages, and the same oversize query is refused by each in its shape.
@Suite struct SharedEdgeTests {
    /// A space as `+` and as `%20`, and `%2B` as a literal plus.
    static let spaceEncodings = ["+", "%20"]
    static let oversize = String(repeating: "a", count: RequestParameters.maximumQueryLength + 1)

    @Test(arguments: StoreKind.available)
    func authorizeDecodesStateLikeEveryOtherRoute(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let setup = try await SignInTests.setUp(harness)
        try await harness.test { http in
            // An unsupported response type is sent back to the (registered) redirect URI with the state as decoded.
            func state(_ encoded: String) async throws -> String? {
                let response = try await http.request(.get, "/authorize?client_id=\(setup.spa.clientID)&response_type=token"
                    + "&redirect_uri=\(SignInTests.callback.pathEscaped)&\(encoded)")
                #expect(response.status == .found, "\(response.text.prefix(200))")
                return URLComponents(string: response.headers[.location] ?? "")?.item("state")
            }
            for space in Self.spaceEncodings {
                #expect(try await state("state=a\(space)b%2Bc") == "a b+c", "\(space)")
            }
            #expect(try await state("state=first&state=second") == "first")
            let tooLong = try await http.request(.get, "/authorize?client_id=\(setup.spa.clientID)&state=\(Self.oversize)")
            #expect(tooLong.status == .uriTooLong && tooLong.headers[.contentType]?.hasPrefix("text/html") == true)
            let malformed = try await http.request(.get, "/authorize?client_id=%zz")
            #expect(malformed.status == .badRequest && malformed.text.contains("percent-encoding"), "\(malformed.text.prefix(300))")
        }
    }

    @Test(arguments: StoreKind.available)
    func managementAPIDecodesSearchesLikeEveryOtherRoute(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let ann = try await harness.tenant.users.create(newUserBody("ann+lee@example.com", extra: ["name": .string("Ann Lee")]))
        _ = try await harness.tenant.users.create(newUserBody("bob@example.com", extra: ["name": .string("Bob")]))
        try await harness.test { http in
            let token = try await http.managementToken(scopes: ["read:users"])
            func found(_ query: String) async throws -> [String] {
                let response = try await http.request(.get, "/api/v2/users?\(query)", token: token)
                #expect(response.status == .ok, "\(query): \(response.text)")
                return response.json.arrayValue?.compactMap { $0.objectValue?["user_id"]?.stringValue } ?? []
            }
            for space in Self.spaceEncodings {
                #expect(try await found("q=name%3A%22Ann\(space)Lee%22") == [ann.userID], "\(space)")
            }
            #expect(try await found("q=email%3A%22ann%2Blee%40example.com%22") == [ann.userID])
            #expect(try await found("q=name%3A%22Ann+Lee%22&q=name%3ABob") == [ann.userID], "the first of a repeated name wins")
            let byEmail = try await http.request(.get, "/api/v2/users-by-email?email=ann%2Blee%40example.com", token: token)
            #expect(byEmail.json.arrayValue?.count == 1, "\(byEmail.text)")

            let tooLong = try await http.request(.get, "/api/v2/users?q=\(Self.oversize)", token: token)
            #expect(tooLong.status == .uriTooLong && tooLong["statusCode"] == .number(414) && tooLong["error"] == .string("URI Too Long"),
                    "\(tooLong.text)")
            let malformed = try await http.request(.get, "/api/v2/users?q=%E0%A4%A", token: token)
            #expect(malformed.status == .badRequest && malformed["errorCode"] == .string("invalid_query_string"), "\(malformed.text)")
        }
    }

    @Test(arguments: AnalyticsBackend.available)
    func analyticsDecodesParametersLikeEveryOtherRoute(_ kind: AnalyticsBackend) async throws {
        let harness = try await AnalyticsAPITests.demo(kind)
        try await harness.test { http in
            let admin = AnalyticsAPITests.adminToken
            func cities(_ query: String) async throws -> [String] {
                let response = try await http.request(.get, "/v0/pipes/sales_by_city.json?\(query)", token: admin)
                #expect(response.status == .ok, "\(query): \(response.text)")
                return AnalyticsAPITests.rows(response).compactMap { $0["city"]?.stringValue }.sorted()
            }
            let all = try await cities("")
            #expect(all.count == 8)
            for space in Self.spaceEncodings {
                // After the last sale nothing is left; a date with its space decoded is a valid DateTime.
                #expect(try await cities("start_date=2026-11-20\(space)00:00:00") == [], "\(space)")
                #expect(try await cities("start_date=2026-09-30\(space)23:59:59") == all, "\(space)")
            }
            #expect(try await cities("cities=Bilbao&cities=Madrid") == ["Bilbao"], "the first of a repeated name wins")
            #expect(try await cities("cities=Bilbao%2CMadrid") == ["Bilbao", "Madrid"])
            #expect(try await cities("token=ignored&cities=M%C3%A1laga") == ["Málaga"], "the bearer header wins over ?token=")

            let sum = try await http.request(.get, "/v0/sql?q=SELECT+1+%2B+1+AS+x", token: admin)
            #expect(AnalyticsAPITests.rows(sum).first?["x"] == .number(2), "\(sum.text)")
            let viaToken = try await http.request(.get, "/v0/sql?q=SELECT%201%20AS%20x&token=\(admin)")
            #expect(AnalyticsAPITests.rows(viaToken).first?["x"] == .number(1), "\(viaToken.text)")

            let tooLong = try await http.request(.get, "/v0/pipes/sales_by_city.json?product=\(Self.oversize)", token: admin)
            #expect(tooLong.status == .uriTooLong && tooLong["error"]?.stringValue?.contains("longer than") == true, "\(tooLong.text)")
            let malformed = try await http.request(.get, "/v0/pipes/sales_by_city.json?product=%G1", token: admin)
            #expect(malformed.status == .badRequest && malformed["error"]?.stringValue?.contains("percent-encoding") == true)
        }
    }

    @Test(arguments: AnalyticsBackend.available)
    func chartPagesDecodeParametersLikeEveryOtherRoute(_ kind: AnalyticsBackend) async throws {
        let harness = try await AnalyticsAPITests.demo(kind)
        try await harness.test { http in
            let admin = AnalyticsAPITests.adminToken
            let created = try await http.request(.post, "/v0/pipes/sales_by_city/charts", token: admin, json: .object([
                "type": .string("bar"), "index": .string("city"), "categories": .array([.string("orders")]),
            ]))
            let id = try #require(created["id"]?.stringValue)
            let reader = AnalyticsAPITests.jwt(AnalyticsAPITests.claims(harness))
            func labels(_ query: String) async throws -> Set<String> {
                let page = try await http.request(.get, "/endpoints/sales_by_city/charts/\(id)?token=\(reader)&\(query)")
                #expect(page.status == .ok, "\(query): \(page.text.prefix(300))")
                let matches = page.text.matches(of: /data-label="([^"]+)"/).map { String($0.1) }
                return Set(matches)
            }
            for space in Self.spaceEncodings {
                #expect(try await labels("start_date=2026-11-20\(space)00:00:00").isEmpty, "\(space)")
                #expect(try await labels("start_date=2026-09-30\(space)23:59:59").count == 8, "\(space)")
            }
            #expect(try await labels("cities=Bilbao&cities=Madrid") == ["Bilbao"])
            #expect(try await labels("cities=Bilbao%2CM%C3%A1laga") == ["Bilbao", "Málaga"])

            let tooLong = try await http.request(.get, "/endpoints/sales_by_city/charts/\(id)?token=\(reader)&product=\(Self.oversize)")
            #expect(tooLong.status == .uriTooLong && tooLong.headers[.contentType]?.hasPrefix("text/html") == true)
            let noToken = try await http.request(.get, "/endpoints/sales_by_city/charts/\(id)?token=")
            #expect(noToken.status == .forbidden && noToken.text.contains("This chart cannot be shown"))
        }
    }
}
