import Foundation
import JWTKit
import Testing
import TesseraCore
import _CryptoExtras
@testable import Actions

/// The modules Marketplace Actions require beyond the seeds' (`jose`, `ipaddr.js`, `node:` core modules), the web
/// globals (`crypto`, `Request`, `Response`) and the `api` parts that end a flow differently (redirects, MFA).
@Suite struct ModulesTests {
    let runner: ActionRunner

    init() throws { runner = try ActionRunner() }

    func claims(_ body: String, secrets: [String: JSONValue] = [:], invocation: JSONValue = .object([:]),
                handler: ActionHandler = .execute, event: JSONValue? = nil) async throws -> [String: JSONValue] {
        try await execution(body, secrets: secrets, invocation: invocation, handler: handler, event: event).idTokenClaims
    }

    func execution(_ body: String, secrets: [String: JSONValue] = [:], invocation: JSONValue = .object([:]),
                   handler: ActionHandler = .execute, event: JSONValue? = nil) async throws -> ActionExecution {
        try await runner.run(code: "exports.\(handler.rawValue) = async (event, api) => {\n\(body)\n};",
                             event: event ?? postLoginEvent(secrets: secrets), handler: handler, invocation: invocation)
    }

    @Test func joseSignsVerifiesAndDecodesHMACTokens() async throws {
        let result = try await claims("""
            const jose = require('jose');
            const secret = new TextEncoder().encode(event.secrets.KEY);
            const token = await new jose.SignJWT({ 'urn:role': 'admin' }).setProtectedHeader({ alg: 'HS256' })
              .setIssuedAt().setIssuer('urn:tessera').setAudience('urn:app').setSubject(event.user.user_id).setExpirationTime('2h').sign(secret);
            const { payload, protectedHeader } = await jose.jwtVerify(token, secret, { issuer: 'urn:tessera', audience: 'urn:app' });
            api.idToken.setCustomClaim('token', token).idToken.setCustomClaim('role', payload['urn:role'])
              .idToken.setCustomClaim('alg', protectedHeader.alg).idToken.setCustomClaim('decoded', jose.decodeJwt(token).sub)
              .idToken.setCustomClaim('lifetime', payload.exp - payload.iat);
            const failures = [];
            for (const attempt of [
              () => jose.jwtVerify(token, new TextEncoder().encode('another secret entirely'), {}),
              () => jose.jwtVerify(token, secret, { issuer: 'urn:other' }),
              () => jose.jwtVerify(token, secret, { algorithms: ['RS256'] }),
              async () => jose.jwtVerify(await new jose.SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10 s ago').sign(secret), secret),
              () => jose.decodeJwt('not.a-jwt'),
            ]) {
              try { await attempt(); failures.push('accepted'); } catch (e) { failures.push(e.code); }
            }
            api.idToken.setCustomClaim('failures', failures);
            api.idToken.setCustomClaim('isExpired', (() => { const e = new Error('x'); e.name = 'JWTExpired'; return e instanceof jose.errors.JWTExpired; })());
            """, secrets: ["KEY": "a-shared-secret-with-enough-entropy"])
        #expect(result["role"] == "admin" && result["alg"] == "HS256" && result["decoded"] == "auth0|abc123" && result["lifetime"] == 7200)
        #expect(result["failures"] == ["ERR_JWS_SIGNATURE_VERIFICATION_FAILED", "ERR_JWT_CLAIM_VALIDATION_FAILED", "ERR_JOSE_ALG_NOT_ALLOWED",
                                       "ERR_JWT_EXPIRED", "ERR_JWT_INVALID"])
        #expect(result["isExpired"] == .bool(true))
        // An independent verifier accepts the token.
        struct Claims: JWTPayload {
            let sub: SubjectClaim
            func verify(using algorithm: some JWTAlgorithm) async throws {}
        }
        let keys = await JWTKeyCollection().add(hmac: "a-shared-secret-with-enough-entropy", digestAlgorithm: .sha256)
        #expect(try await keys.verify(try #require(result["token"]?.stringValue), as: Claims.self).sub.value == "auth0|abc123")
    }

    @Test func joseVerifiesRS256WithPEMAndJWKKeys() async throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let parameters = try key.publicKey.getKeyPrimitives()
        let result = try await claims("""
            const jose = require('jose');
            const signer = await jose.importPKCS8(event.secrets.PRIVATE);
            const token = await new jose.SignJWT({ n: 1 }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(signer);
            const pem = await jose.jwtVerify(token, await jose.importSPKI(event.secrets.PUBLIC));
            const viaJWK = await jose.jwtVerify(token, await jose.importJWK({ kty: 'RSA', n: event.secrets.N, e: event.secrets.E }));
            let wrong = 'accepted';
            try { await jose.jwtVerify(token.slice(0, -6) + 'AAAAAA', await jose.importJWK({ kty: 'RSA', n: event.secrets.N, e: event.secrets.E })); }
            catch (e) { wrong = e.code; }
            api.idToken.setCustomClaim('results', [pem.payload.n, viaJWK.payload.n, viaJWK.protectedHeader.kid, wrong]);
            """, secrets: [
                "PRIVATE": .string(key.pkcs8PEMRepresentation), "PUBLIC": .string(key.publicKey.pemRepresentation),
                "N": .string(Data(parameters.modulus).base64URLEncoded()), "E": .string(Data(parameters.publicExponent).base64URLEncoded()),
            ])
        #expect(result["results"] == [1, 1, "k1", "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"])
    }

    @Test func ipaddrParsesClassifiesAndMatches() async throws {
        let result = try await claims("""
            const ipaddr = require('ipaddr.js');
            const ranges = ['10.1.2.3', '127.0.0.1', '8.8.8.8', '100.64.0.1', '::1', 'fe80::1%eth0', '2001:db8::1', '::ffff:192.168.1.9', '2a00:1450::200e']
              .map((text) => ipaddr.parse(text).range());
            const office = ipaddr.parseCIDR('203.0.113.0/24');
            const v6 = ipaddr.parse('2001:0db8:0000:0000:0000:0000:0000:0001');
            api.idToken.setCustomClaim('ranges', ranges)
              .idToken.setCustomClaim('match', [ipaddr.parse('203.0.113.77').match(office), ipaddr.parse('203.0.114.1').match(office)])
              .idToken.setCustomClaim('valid', ['1.2.3.4', '1.2.3.256', '::', '1::2::3', 'abc', '::1.2.3.4'].map(ipaddr.isValid))
              .idToken.setCustomClaim('text', [v6.toString(), v6.toNormalizedString(), ipaddr.process('::ffff:10.0.0.1').toString(), office.toString(),
                                               ipaddr.parse('::1.2.3.4').toString()])
              .idToken.setCustomClaim('subnet', ipaddr.subnetMatch(ipaddr.parse('10.9.9.9'), { corp: [ipaddr.parseCIDR('10.0.0.0/8')] }, 'outside'));
            """)
        #expect(result["ranges"] == ["private", "loopback", "unicast", "carrierGradeNat", "loopback", "linkLocal", "reserved", "ipv4Mapped", "unicast"])
        #expect(result["match"] == [true, false])
        #expect(result["valid"] == [true, false, true, false, false, true])
        #expect(result["text"] == ["2001:db8::1", "2001:db8:0:0:0:0:0:1", "10.0.0.1", "203.0.113.0/24", "::102:304"])
        #expect(result["subnet"] == "corp")
    }

    @Test func webCryptoRequestResponseAndNodeModules() async throws {
        let result = try await claims("""
            const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc'));
            const random = crypto.getRandomValues(new Uint8Array(16));
            const { Buffer: NodeBuffer } = require('node:buffer');
            const { URL: NodeURL } = require('node:url');
            const qs = require('querystring');
            const response = Response.json({ ok: 1 }, { status: 201 });
            const request = new Request('https://api.test/a?b=1', { method: 'post', body: 'x', headers: { 'X-A': '1' } });
            api.idToken.setCustomClaim('digest', NodeBuffer.from(digest).toString('hex'))
              .idToken.setCustomClaim('random', random.length === 16 && random.some((b) => b !== 0))
              .idToken.setCustomClaim('uuid', /^[0-9a-f-]{36}$/.test(crypto.randomUUID()))
              .idToken.setCustomClaim('node', [new NodeURL('http://h.test/p').pathname, qs.stringify({ a: 'x y', b: [1, 2] }), qs.parse('a=1&a=2&c=3')])
              .idToken.setCustomClaim('response', [response.status, response.ok, response.headers.get('content-type'), (await response.json()).ok])
              .idToken.setCustomClaim('request', [request.method, request.url, request.headers.get('x-a'), await request.text()])
              .idToken.setCustomClaim('webcrypto', require('node:crypto').webcrypto === crypto);
            """)
        #expect(result["digest"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(result["random"] == .bool(true) && result["uuid"] == .bool(true) && result["webcrypto"] == .bool(true))
        #expect(result["node"] == ["/p", "a=x+y&b=1&b=2", ["a": ["1", "2"], "c": "3"]])
        #expect(result["response"] == [201, true, "application/json", 1])
        #expect(result["request"] == ["POST", "https://api.test/a?b=1", "1", "x"])
    }

    @Test func redirectAndMultifactorAreAskedForNotPerformed() async throws {
        let asked = try await execution("""
            api.redirect.sendUserTo('https://consent.test/ask?x=1', { query: { lang: 'en', n: 2, skipped: undefined } })
              .multifactor.enable('guardian', { allowRememberBrowser: true })
              .authentication.recordMethod('https://verify.test/kyc');
            api.idToken.setCustomClaim('canRedirect', api.redirect.canRedirect()).idToken.setCustomClaim('rules', api.rules.wasExecuted('rul_1'));
            api.idToken.setCustomClaim('token', api.redirect.encodeToken({ secret: 's3cret-s3cret', payload: { a: 1 } }));
            """, invocation: ["canRedirect": true, "issuerHost": "login.example.com"])
        #expect(asked.redirect == .init(url: "https://consent.test/ask?x=1", query: ["lang": "en", "n": "2"]))
        #expect(asked.multifactor == .init(provider: "guardian", allowRememberBrowser: true))
        #expect(asked.recordedMethods == ["https://verify.test/kyc"])
        #expect(asked.idTokenClaims["canRedirect"] == .bool(true) && asked.idTokenClaims["rules"] == .bool(false))
        let token = decodeJWT(try #require(asked.idTokenClaims["token"]?.stringValue))
        #expect(token["iss"] == "login.example.com" && token["sub"] == "auth0|abc123" && token["a"] == 1)
        #expect(token["exp"]?.numberValue.flatMap { exp in token["iat"]?.numberValue.map { exp - $0 } } == 900)

        let revoked = try await execution("api.session.revoke('Stolen session');")
        #expect(revoked.revokeSession == "Stolen session")

        // Without a browser (a token grant, prompt=none) there is nowhere to redirect.
        await #expect(throws: ActionError.self) { _ = try await execution("api.redirect.sendUserTo('https://x.test');") }
        for target in ["javascript:alert(1)", "/relative", "ftp://files.test/", "https:///nohost"] {
            do {
                _ = try await execution("api.redirect.sendUserTo('\(target)');", invocation: ["canRedirect": true])
                Issue.record("\(target) was accepted")
            } catch let error as ActionError {
                #expect("\(error)".contains("absolute http(s) URL"))
            }
        }
    }

    @Test func validateTokenChecksSignatureExpiryAndState() async throws {
        let secret = "s3cret-s3cret-s3cret"
        func returning(_ claims: JSONValue, signedWith key: String = secret) async throws -> ActionExecution {
            let token = try await runner.run(code: """
                const jwt = require('jsonwebtoken');
                exports.onExecutePostLogin = async (event, api) => { api.idToken.setCustomClaim('t', jwt.sign(\(claims.jsonText()), '\(key)')); };
                """, event: postLoginEvent()).idTokenClaims["t"]?.stringValue ?? ""
            var event = postLoginEvent().objectValue ?? [:]
            event["request"] = ["ip": "203.0.113.7", "query": ["state": "st-9", "session_token": .string(token)], "body": [:]]
            return try await execution("api.idToken.setCustomClaim('ok', api.redirect.validateToken({ secret: '\(secret)' }).ok);",
                                       invocation: ["continueState": "st-9"], handler: .resume, event: .object(event))
        }
        #expect(try await returning(["state": "st-9", "ok": 1]).idTokenClaims["ok"] == 1)
        for (claims, key, message) in [
            (["state": "st-8", "ok": 1] as JSONValue, secret, "state claim"),
            (["ok": 1], secret, "state claim"),
            (["state": "st-9", "ok": 1], "another-secret-entirely", "invalid signature"),
            (["state": "st-9", "exp": 1000], secret, "jwt expired"),
        ] {
            do {
                _ = try await returning(claims, signedWith: key)
                Issue.record("\(claims) was accepted")
            } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
    }

    /// `require('auth0')` reaches Tessera's own Management API on loopback: exactly that origin, nothing beside it.
    @Test func ownOriginIsReachableAndNothingElseIs() async throws {
        let policy = OutboundPolicy().reaching(own: "http://127.0.0.1:8080/")
        let resolver: OutboundPolicy.Resolver = { _ in [IPAddress("127.0.0.1")!] }
        #expect(try await policy.addresses(for: URL(string: "http://127.0.0.1:8080/api/v2/users")!, resolver: resolver) == [IPAddress("127.0.0.1")!])
        for other in ["http://127.0.0.1:8081/", "https://127.0.0.1:8080/", "http://localhost:8080/", "http://10.0.0.1:8080/"] {
            await #expect(throws: DomainError.self) { _ = try await policy.addresses(for: URL(string: other)!, resolver: resolver) }
        }
        #expect(OutboundPolicy(allow: ["*"]).reaching(own: "https://login.example.com/").ownOrigin == "https://login.example.com:443")
    }

    func decodeJWT(_ token: String) -> [String: JSONValue] {
        let part = token.split(separator: ".").dropFirst().first.map(String.init) ?? ""
        return Data(base64URLEncoded: part).flatMap { try? JSONValue.parse(String(decoding: $0, as: UTF8.self)) }?.objectValue ?? [:]
    }
}
