import Foundation
import JWTKit
import Testing
import TesseraCore
import _CryptoExtras
@testable import Actions

/// URL, timers, `api.cache` and RS256 `jsonwebtoken`: what the runtime adds beyond the seeds' needs.
@Suite struct RuntimeAdditionsTests {
    let runner: ActionRunner

    init() throws { runner = try ActionRunner() }

    func run(_ body: String, cache: [String: ActionCache.Entry] = [:], timeLimit: Double = 20) async throws -> ActionExecution {
        try await runner.run(code: "exports.onExecutePostLogin = async (event, api) => {\n\(body)\n};", event: postLoginEvent(),
                             cache: cache, timeLimit: timeLimit)
    }

    @Test func urlParsesAndResolvesLikeWHATWG() async throws {
        let execution = try await run("""
            const u = new URL('HTTPS://user:pw@Example.COM:443/a/./b/../c?x=1&y=two%20words#frag');
            api.idToken.setCustomClaim('parts', [u.protocol, u.username, u.password, u.hostname, u.port, u.pathname, u.search,
              u.hash, u.origin, u.searchParams.get('y')]);
            const r = new URL('../d?z=3', 'http://h.test:8080/a/b/c');
            r.searchParams.append('w', 'a b');
            api.idToken.setCustomClaim('resolved', r.href);
            api.idToken.setCustomClaim('json', JSON.stringify({ u: new URL('http://x.test') }));
            let error = null;
            try { new URL('not a url'); } catch (e) { error = e.name + ': ' + e.message; }
            api.idToken.setCustomClaim('error', error);
            """)
        #expect(execution.idTokenClaims["parts"] == .array(["https:", "user", "pw", "example.com", "", "/a/c", "?x=1&y=two%20words",
                                                              "#frag", "https://example.com", "two words"].map(JSONValue.string)))
        #expect(execution.idTokenClaims["resolved"] == .string("http://h.test:8080/a/d?z=3&w=a+b"))
        #expect(execution.idTokenClaims["json"] == .string(#"{"u":"http://x.test/"}"#))
        #expect(execution.idTokenClaims["error"] == .string("TypeError: Invalid URL: not a url"))
    }

    /// What Auth0's Node runtime gives Actions that tenants' code leans on: chained `api` calls, `node:` module
    /// names, `process.env`, `queueMicrotask` and `structuredClone`.
    @Test func apiChainsAndNodeGlobalsAreThere() async throws {
        let execution = try await run("""
            api.idToken.setCustomClaim('a', 1).idToken.setCustomClaim('b', 2).accessToken.setCustomClaim('c', 3)
              .accessToken.addScope('read:x').user.setAppMetadata('plan', 'pro').user.setUserMetadata('theme', 'dark');
            const hash = require('node:crypto').createHash('sha256').update('x').digest('hex');
            api.idToken.setCustomClaim('same', hash === require('crypto').createHash('sha256').update('x').digest('hex'));
            api.idToken.setCustomClaim('env', [typeof process, JSON.stringify(process.env), process.env.NODE_ENV === undefined]);
            const order = [];
            queueMicrotask(() => order.push('micro'));
            setTimeout(() => order.push('timer'), 0);
            order.push('sync');
            await new Promise((resolve) => setTimeout(resolve, 5));
            api.idToken.setCustomClaim('order', order);
            const original = { when: new Date(0), tags: new Set(['x']), nested: { list: [1, { deep: true }] } };
            original.self = original;
            const copy = structuredClone(original);
            api.idToken.setCustomClaim('clone', [copy !== original, copy.self === copy, copy.nested.list[1] !== original.nested.list[1],
              copy.nested.list[1].deep, copy.when instanceof Date && copy.when.getTime() === 0, copy.tags.has('x')]);
            let refused = null;
            try { structuredClone({ f() {} }); } catch (e) { refused = e.name; }
            api.idToken.setCustomClaim('refused', refused);
            """)
        #expect(execution.idTokenClaims["a"] == 1 && execution.idTokenClaims["b"] == 2 && execution.accessTokenClaims["c"] == 3)
        #expect(execution.appMetadata["plan"] == "pro" && execution.userMetadata["theme"] == "dark")
        #expect(execution.idTokenClaims["same"] == true)
        #expect(execution.idTokenClaims["env"] == ["object", "{}", true])
        #expect(execution.idTokenClaims["order"] == ["sync", "micro", "timer"])
        #expect(execution.idTokenClaims["clone"] == [true, true, true, true, true, true])
        #expect(execution.idTokenClaims["refused"] == "DataCloneError")
        #expect(throws: Never.self) { try runner.checkRequires("const c = require('node:crypto');") }
        #expect(throws: ActionError.self) { try runner.checkRequires("const fs = require('node:fs');") }
        #expect(throws: ActionError.self) { try runner.checkRequires("const j = require('node:jsonwebtoken');") }
    }

    @Test func jwtDecodeReadsPayloadAndHeaderWithoutVerifying() async throws {
        let execution = try await run("""
            const token = require('jsonwebtoken').sign({ sub: 'u1', roles: ['a'] }, 'a-secret-of-enough-length-0123456789', { keyid: 'k1' });
            const jwtDecode = require('jwt-decode');
            const { jwtDecode: named, InvalidTokenError } = jwtDecode;
            api.idToken.setCustomClaim('payload', jwtDecode(token).roles);
            api.idToken.setCustomClaim('header', named(token, { header: true }).kid);
            const errors = [];
            for (const bad of ['abc', 'a.%%%.c', 'a.' + btoa('{not json').replace(/=+$/, '') + '.c', 42]) {
              try { jwtDecode(bad); errors.push('decoded'); } catch (e) { errors.push(e instanceof InvalidTokenError ? e.name : 'other'); }
            }
            api.idToken.setCustomClaim('errors', errors);
            """)
        #expect(execution.idTokenClaims["payload"] == ["a"])
        #expect(execution.idTokenClaims["header"] == "k1")
        #expect(execution.idTokenClaims["errors"] == .array(Array(repeating: "InvalidTokenError", count: 4)))
    }

    @Test func timersFireInDueOrderAndCanBeCleared() async throws {
        let execution = try await run("""
            const order = [];
            const started = Date.now();
            setTimeout(() => order.push('late'), 60);
            const cancelled = setTimeout(() => order.push('cancelled'), 10);
            setTimeout((word) => order.push(word), 5, 'early');
            clearTimeout(cancelled);
            await new Promise((resolve) => setTimeout(resolve, 80));
            api.idToken.setCustomClaim('order', order);
            api.idToken.setCustomClaim('waited', Date.now() - started >= 75);
            """)
        #expect(execution.idTokenClaims["order"] == .array([.string("early"), .string("late")]))
        #expect(execution.idTokenClaims["waited"] == .bool(true))
    }

    @Test func timersAreBoundedByTheTimeLimitAndTheirErrorsFailTheAction() async throws {
        await #expect(throws: ActionError.timedOut(seconds: 0.3)) {
            try await run("await new Promise((resolve) => setTimeout(resolve, 60_000));", timeLimit: 0.3)
        }
        let error = await #expect(throws: ActionError.self) {
            try await run("await new Promise(() => setTimeout(() => { throw new Error('timer boom'); }, 1));")
        }
        guard case .failed(let message, _)? = error else { Issue.record("expected a failure"); return }
        #expect(message.contains("timer boom"))
    }

    @Test func hostileCodeCannotHangCrashOrForgeTheOutcome() async throws {
        // Timers that re-arm at 0 ms forever are stopped at the limit.
        await #expect(throws: ActionError.timedOut(seconds: 0.5)) {
            try await run("await new Promise(() => { (function again() { setTimeout(again, 0); })(); });", timeLimit: 0.5)
        }
        // The bridge to Swift is read-only, and replacing JSON.stringify changes nothing Swift reads.
        let forged = try await run("""
            let replaced = true;
            try { globalThis.__tessera = null; replaced = globalThis.__tessera === null; } catch (e) { replaced = false; }
            JSON.stringify = () => '{"idToken":{"sub":"forged"}}';
            api.idToken.setCustomClaim('https://example.com/replaced', replaced);
            """)
        #expect(forged.idTokenClaims == ["https://example.com/replaced": .bool(false)])
        // A thrown value with a NaN line, a claim nested past the parser's limit: failures, not traps.
        for body in ["throw { line: NaN, message: 'odd' };",
                     "let v = 'x'; for (let i = 0; i < 200; i++) v = [v]; api.idToken.setCustomClaim('deep', v);"] {
            await #expect(throws: ActionError.self, "\(body)") { try await run(body) }
        }
        await #expect(throws: ActionError.self) { try await runner.run(code: "throw { line: NaN };", event: postLoginEvent()) }
    }

    @Test func logsAreCappedAndVerifyNeedsAKey() async throws {
        let execution = try await run("""
            console.log('x'.repeat(100000));
            const jwt = require('jsonwebtoken');
            const token = jwt.sign({ a: 1 }, 'a-secret-that-is-long-enough');
            const outcomes = [];
            for (const key of [undefined, '']) { try { jwt.verify(token, key); outcomes.push('accepted'); } catch (e) { outcomes.push(e.message); } }
            api.idToken.setCustomClaim('outcomes', outcomes);
            """)
        #expect(execution.logs.first?.message.count ?? 0 < 9000)
        #expect(execution.idTokenClaims["outcomes"] == .array([.string("secret or public key must be provided"),
                                                               .string("secret or public key must be provided")]))
    }

    @Test func secretsAreMaskedAsWrittenAndAsJSONEscapesThem() {
        let pem = "-----BEGIN KEY-----\nabc\"def\n-----END KEY-----"
        let logged = JSONValue.object(["KEY": .string(pem)]).jsonText()
        let masked = SecretMask.apply(to: "console: \(logged) and raw \(pem)", secrets: ["KEY": .string(pem)])
        #expect(!masked.contains("abc") && masked.components(separatedBy: "[secret]").count == 3, "\(masked)")
    }

    @Test func cacheReadsItsSnapshotAndReturnsWrites() async throws {
        let future = Int64(Date().timeIntervalSince1970 * 1000) + 60_000
        let execution = try await run("""
            api.idToken.setCustomClaim('seen', api.cache.get('kept').value);
            api.idToken.setCustomClaim('expired', api.cache.get('stale') === undefined);
            const set = api.cache.set('fresh', 'value', { ttl: 1000 });
            api.idToken.setCustomClaim('set', set.type);
            api.idToken.setCustomClaim('reread', api.cache.get('fresh').value);
            api.idToken.setCustomClaim('errors', [api.cache.set('n', 42).code, api.cache.set('', 'x').code,
              api.cache.set('big', 'x'.repeat(5000)).code, api.cache.set('past', 'x', { expires_at: 1 }).code]);
            api.cache.delete('kept');
            api.idToken.setCustomClaim('deleted', api.cache.get('kept') === undefined);
            const capped = api.cache.set('long', 'x', { ttl: 365 * 24 * 3600 * 1000 });
            api.idToken.setCustomClaim('capped', capped.record.expires_at - Date.now() <= 24 * 3600 * 1000);
            """, cache: ["kept": .init(value: "from before", expiresAt: future), "stale": .init(value: "old", expiresAt: 1)])
        #expect(execution.idTokenClaims["seen"] == .string("from before"))
        #expect(execution.idTokenClaims["expired"] == .bool(true))
        #expect(execution.idTokenClaims["set"] == .string("success"))
        #expect(execution.idTokenClaims["reread"] == .string("value"))
        #expect(execution.idTokenClaims["errors"] == .array(["invalid_argument", "invalid_argument", "value_too_large", "invalid_argument"].map(JSONValue.string)))
        #expect(execution.idTokenClaims["deleted"] == .bool(true))
        #expect(execution.idTokenClaims["capped"] == .bool(true))
        #expect(execution.cacheWrites["kept"] == .some(nil))
        #expect(execution.cacheWrites["fresh"]??.value == "value")
        #expect(execution.cacheWrites["n"] == nil)
    }

    @Test func cacheExpiresAndStaysBounded() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_000_000))
        let cache = ActionCache(clock: TesseraClock { clock.now })
        let nowMs: Int64 = 1_000_000_000
        await cache.apply("act_1", writes: ["a": .init(value: "1", expiresAt: nowMs + 1_000)])
        #expect(await cache.snapshot("act_1")["a"]?.value == "1")
        #expect(await cache.snapshot("act_2").isEmpty)
        clock.now = clock.now.addingTimeInterval(2)
        #expect(await cache.snapshot("act_1").isEmpty)
        var writes: [String: ActionCache.Entry?] = [:]
        for index in 0..<(ActionCache.maximumEntriesPerAction + 10) {
            writes["k\(index)"] = .init(value: "\(index)", expiresAt: nowMs + 10_000 + Int64(index))
        }
        await cache.apply("act_1", writes: writes)
        let kept = await cache.snapshot("act_1")
        #expect(kept.count == ActionCache.maximumEntriesPerAction)
        #expect(kept["k0"] == nil && kept["k\(ActionCache.maximumEntriesPerAction + 9)"] != nil)
        let removal: [String: ActionCache.Entry?] = ["k73": nil]
        await cache.apply("act_1", writes: removal)
        #expect(await cache.snapshot("act_1")["k73"] == nil)
    }

    @Test func jsonwebtokenSignsAndVerifiesRS256WithPEMKeys() async throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let privatePEM = key.pemRepresentation, publicPEM = key.publicKey.pemRepresentation
        let execution = try await runner.run(code: """
            const jwt = require('jsonwebtoken');
            exports.onExecutePostLogin = async (event, api) => {
              const token = jwt.sign({ sub: 'u1' }, event.secrets.PRIVATE, { algorithm: 'RS256', expiresIn: '1h', keyid: 'k1', issuer: 'tessera' });
              api.idToken.setCustomClaim('token', token);
              api.idToken.setCustomClaim('verified', jwt.verify(token, event.secrets.PUBLIC, { issuer: 'tessera' }).sub);
              const forged = jwt.sign({ sub: 'evil' }, event.secrets.PUBLIC.replace(/-----[A-Z ]+-----/g, ''), { algorithm: 'HS256' });
              const outcomes = [];
              for (const attempt of [
                () => jwt.verify(forged, event.secrets.PUBLIC),
                () => jwt.verify(forged, event.secrets.PUBLIC, { algorithms: ['HS256'] }),
                () => jwt.sign({}, event.secrets.PUBLIC, { algorithm: 'HS256' }),
                () => jwt.sign({}, 'shared-secret', { algorithm: 'RS256' }),
                () => jwt.verify(token.slice(0, -4) + 'AAAA', event.secrets.PUBLIC),
              ]) { try { attempt(); outcomes.push('accepted'); } catch (e) { outcomes.push(e.message); } }
              api.idToken.setCustomClaim('outcomes', outcomes);
            };
            """, event: postLoginEvent(secrets: ["PRIVATE": .string(privatePEM), "PUBLIC": .string(publicPEM)]))
        let token = try #require(execution.idTokenClaims["token"]?.stringValue)
        #expect(execution.idTokenClaims["verified"] == .string("u1"))
        #expect(execution.idTokenClaims["outcomes"] == .array([
            "invalid algorithm", "invalid algorithm", "secretOrPrivateKey must be a symmetric key when using HS256",
            "secretOrPrivateKey must be an asymmetric key when using RS256", "invalid signature",
        ].map(JSONValue.string)))

        // An independent verifier (jwt-kit) accepts the signature with the public key.
        struct Subject: JWTPayload {
            let sub: SubjectClaim
            let iss: IssuerClaim
            func verify(using algorithm: some JWTAlgorithm) async throws {}
        }
        let keys = await JWTKeyCollection().add(rsa: try Insecure.RSA.PublicKey(pem: publicPEM), digestAlgorithm: .sha256, kid: "k1")
        let claims = try await keys.verify(token, as: Subject.self)
        #expect(claims.sub.value == "u1" && claims.iss.value == "tessera")
    }
}

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ start: Date) { current = start }
    var now: Date {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }
}
