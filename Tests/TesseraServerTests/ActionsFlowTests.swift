import Actions
import Foundation
import IdentityManagement
import JWTKit
import TenantFile
import TesseraCore
import Testing
@testable import TesseraServer

@Suite struct ActionsFlowTests {
    static let adminToken = "p.eyJ1IjogImZha2UifQ.tinybird-admin-token-for-tests"

    static func tenantFile(actions: String, flow: [String]) -> String {
        """
        actions:
        \(actions)
        flows:
          post-login: [\(flow.map { "\"\($0)\"" }.joined(separator: ", "))]
        """
    }

    @Test(arguments: StoreKind.available)
    func seedActionsPutTheirClaimsInRealTokens(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let setup = try await SignInTests.setUp(harness)
        let file = try TenantFile.parse(Self.tenantFile(actions: """
              - name: Tinybird JWT
                trigger: post-login
                code: actions/tinybird-jwt.js
                dependencies: [jsonwebtoken]
                secrets: { TINYBIRD_ADMIN_TOKEN: "${TB_ADMIN}" }
                configuration: { TINYBIRD_WORKSPACE_ID: "ws-demo", TINYBIRD_PIPE_NAMES: "sales_by_city" }
              - name: Hasura claims
                code: actions/hasura-jwt-claims.js
            """, flow: ["Tinybird JWT", "Hasura claims"]),
            file: "t.yaml", environment: ["TB_ADMIN": Self.adminToken], directory: examplesDirectory)
        let report = try await file.apply(to: harness.services)
        #expect(report.changes.contains("deployed action Tinybird JWT"))
        #expect(!(try await file.apply(to: harness.services)).changed)

        try await harness.test { http in
            let pkce = PKCEPair()
            let code = try SignInTests.code(from: try await SignInTests.signIn(Browser(http), setup.spa.clientID, pkce: pkce))
            let tokens = try await SignInTests.exchange(http, clientID: setup.spa.clientID, code: code, verifier: pkce.verifier)
            let idToken = decodeJWTPart(try #require(tokens["id_token"]?.stringValue), 1)
            let tinybird = try #require(idToken["https://app.tinybird.co"]?.stringValue)
            let keys = await JWTKeyCollection().add(hmac: HMACKey(from: Self.adminToken), digestAlgorithm: .sha256)
            _ = try await keys.verify(tinybird, as: TinybirdToken.self)
            let claims = decodeJWTPart(tinybird, 1)
            #expect(claims["name"] == .string("tinybird_jwt_\(setup.user.userID)"))
            #expect(claims["workspace_id"] == .string("ws-demo"))
            #expect(try await harness.tenant.users.get(setup.user.userID).appMetadata["tinybirdJWT"] == .string(tinybird))

            let access = decodeJWTPart(try #require(tokens["access_token"]?.stringValue), 1)
            #expect(access["https://hasura.io/jwt/claims"]?.objectValue?["x-hasura-user-id"] == .string(setup.user.userID))

            // The execution the sign-in recorded, read back through the Management API.
            let executionID = try await harness.services.store.read { db in
                try await db.select().column("id").from("action_executions").first().map { try $0.string("id") }
            }
            let token = try await http.managementToken()
            let execution = try await http.request(.get, "/api/v2/actions/executions/\(try #require(executionID))", token: token)
            #expect(execution.status == .ok, "\(execution.text)")
            #expect(execution["id"] == .string(executionID!) && execution["trigger_id"] == .string("post-login"), "\(execution.text)")
            #expect(execution.text.contains("Tinybird JWT") && !execution.text.contains(Self.adminToken), "\(execution.text)")
        }
    }

    @Test(arguments: StoreKind.available)
    func denyThrowAndReservedClaims(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let setup = try await SignInTests.setUp(harness)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("actions-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func write(_ name: String, _ code: String) throws {
            try code.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        try write("reserved.js", """
            exports.onExecutePostLogin = async (event, api) => {
              api.idToken.setCustomClaim('sub', 'someone-else');
              api.idToken.setCustomClaim('https://example.com/plan', event.user.app_metadata.plan || 'none');
              console.log('secret is', event.secrets.API_KEY);
            };
            """)
        try write("deny.js", "exports.onExecutePostLogin = async (event, api) => { if (event.user.email.startsWith('ada')) api.access.deny('No Ada today ' + (event.secrets.CODE || '')); };")
        try write("throw.js", "exports.onExecutePostLogin = async (event) => { throw new Error('kaboom ' + event.secrets.API_KEY); };")
        let base = """
              - { name: Reserved, code: reserved.js, secrets: { API_KEY: "sk_live_very_secret" } }
              - { name: Deny, code: deny.js, secrets: { CODE: "deny-secret-code" } }
              - { name: Throw, code: throw.js, secrets: { API_KEY: "sk_live_very_secret" } }
            """
        try await TenantFile.parse(Self.tenantFile(actions: base, flow: ["Reserved"]), file: "t.yaml", environment: [:], directory: directory)
            .apply(to: harness.services)

        try await harness.test { http in
            let pkce = PKCEPair()
            let code = try SignInTests.code(from: try await SignInTests.signIn(Browser(http), setup.spa.clientID, pkce: pkce))
            let tokens = try await SignInTests.exchange(http, clientID: setup.spa.clientID, code: code, verifier: pkce.verifier)
            let id = decodeJWTPart(try #require(tokens["id_token"]?.stringValue), 1)
            #expect(id["sub"] == .string(setup.user.userID), "reserved claims are dropped")
            #expect(id["https://example.com/plan"] == .string("none"))
            let records = try await harness.services.store.read { db in
                try await db.select().column("results").from("action_executions").all().map { try $0.string("results") }
            }
            #expect(records.count == 1)
            #expect(records[0].contains("dropped reserved ID token claim sub"))
            #expect(!records[0].contains("sk_live_very_secret") && records[0].contains("[secret]"))

            for (flow, message) in [(["Deny"], "No Ada today [secret]"), (["Throw"], "Action Throw failed: Error: kaboom [secret]")] {
                try await TenantFile.parse(Self.tenantFile(actions: base, flow: flow), file: "t.yaml", environment: [:], directory: directory)
                    .apply(to: harness.services)
                let denied = try await SignInTests.signIn(Browser(http), setup.spa.clientID, pkce: PKCEPair())
                let location = try #require(URLComponents(string: denied.headers[.location] ?? ""))
                #expect(location.item("error") == "access_denied")
                #expect(location.item("error_description") == message)
                #expect(location.item("state") == "st-1")
            }
        }
    }

    /// The event describes the sign-in as Auth0's does: the browser, the /authorize query, the method and its time,
    /// the session (the same one on a single sign-on), no MFA factors; and `api` calls chain.
    @Test func theEventDescribesTheSignIn() async throws {
        let harness = try await Harness.make()
        let setup = try await SignInTests.setUp(harness)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("actions-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try """
            exports.onExecutePostLogin = async (event, api) => {
              api.idToken.setCustomClaim('https://t/agent', event.request.user_agent)
                .idToken.setCustomClaim('https://t/query', event.request.query)
                .idToken.setCustomClaim('https://t/methods', event.authentication.methods)
                .idToken.setCustomClaim('https://t/session', event.session && event.session.id)
                .idToken.setCustomClaim('https://t/mfa', event.user.multifactor)
                .idToken.setCustomClaim('https://t/acr', event.transaction.acr_values);
            };
            """.write(toFile: directory + "/describe.js", atomically: true, encoding: .utf8)
        try await TenantFile.parse(Self.tenantFile(actions: "  - { name: Describe, code: describe.js }", flow: ["Describe"]),
                                   file: "t.yaml", environment: [:], directory: directory).apply(to: harness.services)
        try await harness.test { http in
            let browser = Browser(http)
            func claims() async throws -> [String: JSONValue] {
                let pkce = PKCEPair()
                let response = try await SignInTests.signIn(browser, setup.spa.clientID, pkce: pkce)
                let tokens = try await SignInTests.exchange(http, clientID: setup.spa.clientID, code: try SignInTests.code(from: response),
                                                            verifier: pkce.verifier)
                return decodeJWTPart(try #require(tokens["id_token"]?.stringValue), 1)
            }
            let first = try await claims()
            #expect(first["https://t/agent"] == .string(Browser.userAgent))
            let query = try #require(first["https://t/query"]?.objectValue)
            #expect(query["client_id"] == .string(setup.spa.clientID) && query["response_type"] == "code" && query["state"] == "st-1")
            #expect(query["scope"] == "openid profile email offline_access" && query["code_challenge_method"] == "S256")
            #expect(query["nonce"] == "n-0S6" && query["audience"] == .string(SignInTests.api))
            let methods = try #require(first["https://t/methods"]?.arrayValue)
            #expect(methods.count == 1 && methods[0].objectValue?["name"] == "pwd")
            #expect(first["https://t/mfa"] == [] && first["https://t/acr"] == [])
            let session = try #require(first["https://t/session"]?.stringValue)
            // Single sign-on a little later: the same session, and the method keeps the time the password was given.
            harness.clock.advance(seconds: 60)
            let second = try await claims()
            #expect(second["https://t/session"] == .string(session))
            #expect(second["https://t/methods"] == first["https://t/methods"])
        }
    }

    @Test(arguments: StoreKind.available)
    func flowRunsInOrderMergesMetadataOnceAndKeepsTheCache(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let setup = try await SignInTests.setUp(harness)
        _ = try await harness.tenant.users.update(setup.user.userID, .object(["app_metadata": .object(["stale": .bool(true), "kept": .number(1)])]))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("actions-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try """
            exports.onExecutePostLogin = async (event, api) => {
              const seen = Number((api.cache.get('visits') || { value: '0' }).value) + 1;
              api.cache.set('visits', String(seen), { ttl: 60000 });
              api.user.setAppMetadata('plan', 'pro');
              api.user.setAppMetadata('stale', null);
              api.idToken.setCustomClaim('https://example.com/visits', seen);
            };
            """.write(toFile: directory + "/first.js", atomically: true, encoding: .utf8)
        try """
            exports.onExecutePostLogin = async (event, api) => {
              api.idToken.setCustomClaim('https://example.com/seen', [event.user.app_metadata.plan, 'stale' in event.user.app_metadata]);
              api.user.setAppMetadata('plan', event.user.app_metadata.plan + '+');
            };
            """.write(toFile: directory + "/second.js", atomically: true, encoding: .utf8)
        try """
            exports.onExecutePostLogin = async (event, api) => { api.idToken.setCustomClaim('https://example.com/big', 'x'.repeat(110 * 1024)); };
            """.write(toFile: directory + "/big.js", atomically: true, encoding: .utf8)
        let actions = """
              - { name: First, code: first.js }
              - { name: Second, code: second.js }
              - { name: Big, code: big.js }
            """
        try await TenantFile.parse(Self.tenantFile(actions: actions, flow: ["First", "Second"]), file: "t.yaml", environment: [:],
                                   directory: directory).apply(to: harness.services)

        try await harness.test { http in
            var claims: [[String: JSONValue]] = []
            for _ in 0..<2 {
                let pkce = PKCEPair()
                let code = try SignInTests.code(from: try await SignInTests.signIn(Browser(http), setup.spa.clientID, pkce: pkce))
                let tokens = try await SignInTests.exchange(http, clientID: setup.spa.clientID, code: code, verifier: pkce.verifier)
                claims.append(decodeJWTPart(try #require(tokens["id_token"]?.stringValue), 1))
            }
            #expect(claims.map { $0["https://example.com/visits"] } == [.number(1), .number(2)], "api.cache outlives one sign-in")
            #expect(claims[0]["https://example.com/seen"] == .array([.string("pro"), .bool(false)]), "the second action sees the first one's changes")
            let metadata = try await harness.tenant.users.get(setup.user.userID).appMetadata
            #expect(metadata == ["plan": .string("pro+"), "kept": .number(1)], "merged once, null deletes, other keys kept")

            try await TenantFile.parse(Self.tenantFile(actions: actions, flow: ["Big"]), file: "t.yaml", environment: [:],
                                       directory: directory).apply(to: harness.services)
            let denied = try await SignInTests.signIn(Browser(http), setup.spa.clientID, pkce: PKCEPair())
            let location = try #require(URLComponents(string: denied.headers[.location] ?? ""))
            #expect(location.item("error") == "access_denied")
            #expect(location.item("error_description")?.contains("more than the 100 KB allowed") == true)
        }
    }

    @Test func secretsAreSealedWithTheMasterKeyAndStillWork() async throws {
        let harness = try await Harness.make(masterKey: String(repeating: "m", count: 40))
        let setup = try await SignInTests.setUp(harness)
        let file = try TenantFile.parse(Self.tenantFile(actions: """
              - name: Tinybird JWT
                code: actions/tinybird-jwt.js
                secrets: { TINYBIRD_ADMIN_TOKEN: "\(Self.adminToken)" }
                configuration: { TINYBIRD_WORKSPACE_ID: "1f484a32-6966-4f63-9312-aadad64d3e12", TINYBIRD_PIPE_NAMES: "sales_by_city" }
            """, flow: ["Tinybird JWT"]) + """

            workspaces:
              - { name: demo, id: "1f484a32-6966-4f63-9312-aadad64d3e12", admin_token: "\(Self.adminToken)", datafiles: analytics/ }
            """, file: "t.yaml", environment: [:], directory: examplesDirectory)
        try await file.apply(to: harness.services)
        #expect(!(try await file.apply(to: harness.services)).changed, "sealing is randomized, yet a second apply changes nothing")
        let stored = try await harness.services.store.read { db in
            (try await db.select().column("secrets").from("actions").all().map { try $0.string("secrets") },
             try await db.select().column("admin_token").from("analytics_workspaces").all().map { try $0.string("admin_token") })
        }
        for value in stored.0 + stored.1 {
            #expect(value.hasPrefix("aesgcm:v1:") && !value.contains(Self.adminToken), "\(value)")
        }
        try await harness.test { http in
            let pkce = PKCEPair()
            let code = try SignInTests.code(from: try await SignInTests.signIn(Browser(http), setup.spa.clientID, pkce: pkce))
            let tokens = try await SignInTests.exchange(http, clientID: setup.spa.clientID, code: code, verifier: pkce.verifier)
            let idToken = try #require(tokens["id_token"]?.stringValue)
            let tinybird = try #require(decodeJWTPart(idToken, 1)["https://app.tinybird.co"]?.stringValue)
            let data = try await http.request(.get, "/v0/pipes/sales_by_city.json", token: tinybird)
            #expect(data.status == .ok, "the workspace opens its sealed admin token to check the JWT: \(data.text)")
        }
    }

    @Test(arguments: StoreKind.available)
    func badActionFilesChangeNothing(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("actions-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "exports.onExecutePostLogin = async (event, api) => {\n  let = ;\n};".write(toFile: directory + "/broken.js", atomically: true, encoding: .utf8)
        let broken = try TenantFile.parse(Self.tenantFile(actions: "  - { name: Broken, code: broken.js }", flow: ["Broken"]),
                                          file: "t.yaml", environment: [:], directory: directory)
        do {
            _ = try await broken.apply(to: harness.services)
            Issue.record("a syntax error was deployed")
        } catch let error as DomainError {
            #expect(error.message.contains("line 2"))
        }
        #expect(try await ActionStore(store: harness.services.store).flow(ActionStore.postLogin).isEmpty)
        #expect(throws: TenantFileError.self) {
            try TenantFile.parse(Self.tenantFile(actions: "  - { name: X, code: broken.js, dependencies: [left-pad] }", flow: []),
                                 file: "t.yaml", environment: [:], directory: directory)
        }
        await harness.cleanup()
    }
}

/// The Tinybird JWT's claims that matter here; jwt-kit checks its HS256 signature and expiry.
struct TinybirdToken: JWTPayload {
    let name: String
    let exp: ExpirationClaim
    func verify(using algorithm: some JWTAlgorithm) async throws { try exp.verifyNotExpired() }
}
