import Foundation
import IdentityManagement
import Testing
import TesseraCore
import TesseraStore

/// `GET /api/v2/stats/daily` and `/stats/hourly`, `DELETE /api/v2/users/{id}/sessions`, and the executions list.
@Suite struct ManagementStatsTests {
    @Test(arguments: StoreKind.available)
    func signInsAndSignUpsAreCountedByHourAndDay(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let setup = try await SignInTests.setUp(harness)
        try await harness.test { http in
            let token = try await http.managementToken()
            for _ in 0..<3 {
                let redirect = try await SignInTests.signIn(Browser(http), setup.spa.clientID, pkce: PKCEPair())
                #expect(redirect.status == .found)
            }
            harness.clock.advance(seconds: 3600)
            _ = try await SignInTests.signIn(Browser(http), setup.spa.clientID, pkce: PKCEPair())

            let hourly = try await http.request(.get, "/api/v2/stats/hourly?hours=3", token: token)
            #expect(hourly.status == .ok, "\(hourly.text)")
            let hours = try #require(hourly.json.arrayValue)
            #expect(hours.count == 3)
            #expect(hours.map { $0.objectValue?["logins"] } == [.number(0), .number(3), .number(1)])
            #expect(hours.map { $0.objectValue?["signups"] } == [.number(0), .number(1), .number(0)], "the one user was created then")
            #expect(hours.last?.objectValue?["hour"]?.stringValue?.hasSuffix(":00:00.000Z") == true)

            let today = harness.clock.clock.now()
            let day = Timestamp.string(today).prefix(10).replacingOccurrences(of: "-", with: "")
            let daily = try await http.request(.get, "/api/v2/stats/daily?from=\(day)&to=\(day)", token: token)
            #expect(daily.status == .ok)
            #expect(daily.json.arrayValue?.first?.objectValue?["logins"] == .number(4), "\(daily.text)")
            #expect(daily.json.arrayValue?.first?.objectValue?["date"]?.stringValue?.hasSuffix("T00:00:00.000Z") == true)
            #expect(try await http.request(.get, "/api/v2/stats/daily", token: token).json.arrayValue?.count == 30)

            for bad in ["/api/v2/stats/daily?from=2026-12-01", "/api/v2/stats/daily?from=20261301", "/api/v2/stats/daily?from=20261205&to=20261101",
                        "/api/v2/stats/daily?from=19990101&to=20261205", "/api/v2/stats/hourly?hours=0", "/api/v2/stats/hourly?hours=337", "/api/v2/stats/hourly?hours=x%27--"] {
                let refused = try await http.request(.get, bad, token: token)
                #expect(refused.status == .badRequest && refused["errorCode"] != nil, "\(bad): \(refused.status) \(refused.text)")
            }
            let noScope = try await http.managementToken(scopes: ["read:users"])
            #expect(try await http.request(.get, "/api/v2/stats/hourly", token: noScope).status == .forbidden)
        }
    }

    @Test(arguments: StoreKind.available)
    func revokingAUsersSessionsEndsTheirSingleSignOn(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let setup = try await SignInTests.setUp(harness)
        try await harness.test { http in
            let token = try await http.managementToken()
            let browser = Browser(http)
            _ = try await SignInTests.signIn(browser, setup.spa.clientID, pkce: PKCEPair())
            // With its session the browser signs in again without the form…
            let silent = try await browser.request(.get, SignInTests.authorizeURL(setup.spa.clientID, pkce: PKCEPair()))
            #expect(silent.headers[.location]?.hasPrefix(SignInTests.callback) == true)
            let revoked = try await http.request(.delete, "/api/v2/users/\(setup.user.userID.pathEscaped)/sessions", token: token)
            #expect(revoked.status == .accepted)
            // …and after the revocation it is asked for credentials again.
            let asked = try await browser.request(.get, SignInTests.authorizeURL(setup.spa.clientID, pkce: PKCEPair()))
            #expect(asked.headers[.location]?.hasPrefix("/u/login") == true, "\(asked.status) \(asked.headers)")
            let unknown = try await http.request(.delete, "/api/v2/users/auth0%7Cnobody/sessions", token: token)
            #expect(unknown.status == .notFound)
            let noScope = try await http.managementToken(scopes: ["delete:users"])
            #expect(try await http.request(.delete, "/api/v2/users/\(setup.user.userID.pathEscaped)/sessions", token: noScope).status == .forbidden)
        }
    }
}
