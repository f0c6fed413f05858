import Foundation
import JWTKit
import Testing
import TesseraCore
@testable import Actions

/// The seeds' actions, byte for byte, from `examples/actions/`.
func seedAction(_ name: String) throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try String(contentsOf: root.appendingPathComponent("examples/actions/\(name)"), encoding: .utf8)
}

func postLoginEvent(secrets: [String: JSONValue] = [:], configuration: [String: JSONValue] = [:]) -> JSONValue {
    .object([
        "user": .object([
            "user_id": .string("auth0|abc123"), "id": .string("auth0|abc123"), "email": .string("ada@example.com"),
            "app_metadata": .object([:]), "user_metadata": .object([:]),
        ]),
        "authorization": .object(["roles": .array([])]),
        "secrets": .object(secrets),
        "configuration": .object(configuration),
    ])
}

struct TinybirdClaims: JWTPayload {
    struct Scope: Codable { let type: String; let resource: String }
    let workspace_id: String
    let name: String
    let scopes: [Scope]
    let exp: ExpirationClaim
    let iat: IssuedAtClaim
    func verify(using algorithm: some JWTAlgorithm) async throws { try exp.verifyNotExpired() }
}

@Suite struct ActionRunnerTests {
    let runner: ActionRunner

    init() throws { runner = try ActionRunner() }

    @Test func seedTinybirdActionRunsVerbatim() async throws {
        let adminToken = "p.eyJ1IjogIjEyMzQ1Njc4LTkwYWItY2RlZi0xMjM0LTU2Nzg5MGFiY2RlZiJ9.admin-token"
        let execution = try await runner.run(code: try seedAction("tinybird-jwt.js"), event: postLoginEvent(
            secrets: ["TINYBIRD_ADMIN_TOKEN": .string(adminToken)],
            configuration: ["TINYBIRD_WORKSPACE_ID": .string("ws-1"), "TINYBIRD_PIPE_NAMES": .string("sales_by_city,top_products")]))
        let token = try #require(execution.idTokenClaims["https://app.tinybird.co"]?.stringValue)
        #expect(execution.appMetadata["tinybirdJWT"] == .string(token))
        #expect(execution.logs == [ActionLog(level: "log", message: "Tinybird JWT token set for user")])

        let keys = await JWTKeyCollection().add(hmac: HMACKey(from: adminToken), digestAlgorithm: .sha256)
        let claims = try await keys.verify(token, as: TinybirdClaims.self)
        #expect(claims.workspace_id == "ws-1")
        #expect(claims.name == "tinybird_jwt_auth0|abc123")
        #expect(claims.scopes.map(\.resource) == ["sales_by_city", "top_products"])
        #expect(claims.scopes.allSatisfy { $0.type == "PIPES:READ" })
        #expect(abs(claims.exp.value.timeIntervalSince(claims.iat.value) - 7 * 86_400) < 1)
    }

    @Test func seedTinybirdActionSaysWhatIsMissing() async throws {
        let execution = try await runner.run(code: try seedAction("tinybird-jwt.js"), event: postLoginEvent())
        #expect(execution.idTokenClaims.isEmpty)
        #expect(execution.logs.first?.message.contains("TINYBIRD_ADMIN_TOKEN") == true)
    }

    @Test func seedHasuraClaimsActionRunsVerbatim() async throws {
        let execution = try await runner.run(code: try seedAction("hasura-jwt-claims.js"), event: postLoginEvent())
        #expect(execution.accessTokenClaims["https://hasura.io/jwt/claims"] == .object([
            "x-hasura-default-role": .string("user"), "x-hasura-allowed-roles": .array([.string("user")]),
            "x-hasura-user-id": .string("auth0|abc123"),
        ]))
    }

    @Test func apiMethodsAreRecorded() async throws {
        let code = """
            exports.onExecutePostLogin = async (event, api) => {
              api.user.setUserMetadata('theme', 'dark');
              api.user.setAppMetadata('stale', null);
              api.accessToken.addScope('read:rows');
              api.accessToken.removeScope('write:rows');
              console.warn('careful', { n: 1 });
              await Promise.resolve();
              api.access.deny('not today');
            };
            """
        let execution = try await runner.run(code: code, event: postLoginEvent())
        #expect(execution.userMetadata == ["theme": .string("dark")])
        #expect(execution.appMetadata == ["stale": .null])
        #expect(execution.addedScopes == ["read:rows"] && execution.removedScopes == ["write:rows"])
        #expect(execution.denyReason == "not today")
        #expect(execution.logs == [ActionLog(level: "warn", message: "careful {\"n\":1}")])
    }

    @Test func jsonwebtokenSignVerifyDecode() async throws {
        let code = """
            const jwt = require('jsonwebtoken');
            exports.onExecutePostLogin = async (event, api) => {
              const secret = 'a-secret-that-is-long-enough-for-hs256!';
              const token = jwt.sign({ a: 1 }, secret, { expiresIn: '48h', audience: 'x', algorithm: 'HS384', keyid: 'k1' });
              const decoded = jwt.verify(token, secret, { audience: 'x' });
              api.idToken.setCustomClaim('ok', decoded.a === 1 && decoded.exp - decoded.iat === 172800);
              api.idToken.setCustomClaim('header', jwt.decode(token, { complete: true }).header);
              let refused = false;
              try { jwt.verify(token, 'wrong-secret-wrong-secret-wrong-secret'); } catch (e) { refused = e.message === 'invalid signature'; }
              api.idToken.setCustomClaim('refused', refused);
              let badSpan = false;
              try { jwt.sign({}, secret, { expiresIn: 'soon' }); } catch (e) { badSpan = true; }
              api.idToken.setCustomClaim('badSpan', badSpan);
            };
            """
        let execution = try await runner.run(code: code, event: postLoginEvent())
        #expect(execution.idTokenClaims["ok"] == .bool(true))
        #expect(execution.idTokenClaims["header"] == .object(["alg": .string("HS384"), "typ": .string("JWT"), "kid": .string("k1")]))
        #expect(execution.idTokenClaims["refused"] == .bool(true))
        #expect(execution.idTokenClaims["badSpan"] == .bool(true))
    }

    @Test func failuresAreReportedNotFatal() async throws {
        await #expect(throws: ActionError.self) {
            try await runner.run(code: "exports.onExecutePostLogin = async () => { throw new Error('boom'); };", event: postLoginEvent())
        }
        do {
            _ = try await runner.run(code: "const fs = require('fs');", event: postLoginEvent())
            Issue.record("require('fs') should fail")
        } catch let error as ActionError {
            #expect(error.description.contains("Cannot find module 'fs'"))
        }
        do {
            try runner.checkSyntax("exports.onExecutePostLogin = async (event, api) => {\n  let x = ;\n}")
            Issue.record("syntax error not reported")
        } catch ActionError.syntax(_, let line, _) {
            #expect(line == 2)
        }
        // An endless loop is stopped and reported as a timeout (how fast is the benchmarks' business, not a test's).
        await #expect(throws: ActionError.timedOut(seconds: 0.5)) {
            try await runner.run(code: "exports.onExecutePostLogin = async () => { while (true) {} };", event: postLoginEvent(), timeLimit: 0.5)
        }
        // Nothing leaks between executions: each gets a fresh context.
        let first = try await runner.run(code: "globalThis.leak = 1; exports.onExecutePostLogin = async () => {};", event: postLoginEvent())
        #expect(first.logs.isEmpty)
        let second = try await runner.run(code: "exports.onExecutePostLogin = async (e, api) => { api.idToken.setCustomClaim('leak', typeof leak); };", event: postLoginEvent())
        #expect(second.idTokenClaims["leak"] == .string("undefined"))
    }
}

@Suite struct EngineReuseTests {
    /// A runaway action is stopped, and the thread's engine keeps serving the next executions.
    @Test func engineSurvivesATimedOutExecution() async throws {
        let runner = try ActionRunner()
        for _ in 0..<4 {
            await #expect(throws: ActionError.timedOut(seconds: 0.2)) {
                try await runner.run(code: "exports.onExecutePostLogin = async () => { for (;;) {} };",
                                     event: postLoginEvent(), timeLimit: 0.2)
            }
            let after = try await runner.run(code: "exports.onExecutePostLogin = async (e, api) => { api.idToken.setCustomClaim('n', 1); };",
                                             event: postLoginEvent())
            #expect(after.idTokenClaims["n"] == .number(1))
        }
    }
}

@Suite struct RuntimeModuleTests {
    /// Expected values computed independently (Python's hashlib, hmac and base64) for the same inputs.
    @Test func cryptoBufferAndFriendsMatchNode() async throws {
        let code = """
            const crypto = require('crypto');
            exports.onExecutePostLogin = async (event, api) => {
              const set = (k, v) => api.idToken.setCustomClaim(k, v);
              set('sha256', crypto.createHash('sha256').update('tessera').digest('hex'));
              set('hmac', crypto.createHmac('sha256', 'key').update('message').digest('base64'));
              set('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID()));
              set('random', crypto.randomBytes(16).length);
              set('b64', Buffer.from('héllo ✓').toString('base64'));
              set('roundtrip', Buffer.from(Buffer.from('héllo ✓').toString('hex'), 'hex').toString());
              set('b64url', Buffer.from([251, 255, 191]).toString('base64url'));
              set('btoa', btoa('hello'));
              set('atob', atob('aGVsbG8='));
              set('encoder', Array.from(new TextEncoder().encode('é')));
              set('decoder', new TextDecoder().decode(new Uint8Array([226, 156, 147])));
              const params = new URLSearchParams('a=1&b=x+y&a=2');
              params.append('c', 'd e');
              set('params', [params.get('b'), params.getAll('a').join(','), params.toString()]);
            };
            """
        let claims = try await ActionRunner().run(code: code, event: postLoginEvent()).idTokenClaims
        #expect(claims["sha256"] == .string("2f1e83d30fff12f10f4a956d08bd6b200ae89e24621c2066c1a902aab2da7acb"))
        #expect(claims["hmac"] == .string("bp7ym3X//Ft6uuUn1Y/a2y/kLnIZARl2kXNDBl9Y7Uo="))
        #expect(claims["uuid"] == .bool(true))
        #expect(claims["random"] == .number(16))
        #expect(claims["b64"] == .string("aMOpbGxvIOKckw=="))
        #expect(claims["roundtrip"] == .string("héllo ✓"))
        #expect(claims["b64url"] == .string("-_-_"))
        #expect(claims["btoa"] == .string("aGVsbG8="))
        #expect(claims["atob"] == .string("hello"))
        #expect(claims["encoder"] == .array([.number(195), .number(169)]))
        #expect(claims["decoder"] == .string("✓"))
        #expect(claims["params"] == .array([.string("x y"), .string("1,2"), .string("a=1&b=x+y&a=2&c=d+e")]))
    }
}
