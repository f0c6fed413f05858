import Foundation
import HTTPTypes
import IdentityManagement
import JWTKit
import Testing
import TesseraCore
@testable import TesseraServer

@Suite struct TokenEndpointTests {
    /// A confidential client with a grant on an API of its own, as most callers set one up.
    func setUp(_ harness: Harness, alg: String = "RS256", scopes: [String] = ["read:things", "write:things"])
        async throws -> (client: Client, audience: String)
    {
        let audience = "https://api.test/\(RandomToken.hex(bytes: 3))"
        _ = try await harness.tenant.resourceServers.create(.object([
            "name": .string("Things"), "identifier": .string(audience), "signing_alg": .string(alg),
            "token_lifetime": .number(3600),
            "scopes": .array(["read:things", "write:things", "admin:things"].map { .object(["value": .string($0)]) }),
        ]))
        let client = try await harness.tenant.clients.create(.object(["name": .string("svc"), "app_type": .string("m2m")]))
        _ = try await harness.tenant.clientGrants.create(.object([
            "client_id": .string(client.clientID), "audience": .string(audience),
            "scope": .array(scopes.map(JSONValue.string)),
        ]))
        return (client, audience)
    }

    func form(_ fields: [String: String]) -> String {
        fields.map { "\($0.key)=\($0.value.pathEscaped)" }.sorted().joined(separator: "&")
    }

    @Test(arguments: StoreKind.available)
    func issuesVerifiableRS256TokenWithAuth0Claims(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let (client, audience) = try await setUp(harness)
        try await harness.test { http in
            let response = try await http.request(.post, "/oauth/token", body: form([
                "grant_type": "client_credentials", "client_id": client.clientID,
                "client_secret": client.clientSecret!, "audience": audience,
            ]), contentType: "application/x-www-form-urlencoded")
            #expect(response.status == .ok)
            #expect(response["token_type"] == .string("Bearer"))
            #expect(response["expires_in"] == .number(3600))
            #expect(response["scope"] == .string("read:things write:things"))
            #expect(response.headers[.cacheControl] == "no-store")
            let token = try #require(response["access_token"]?.stringValue)

            // Verify with nothing but the published JWKS, as any third-party verifier would.
            let jwks = try await http.request(.get, "/.well-known/jwks.json")
            let keys = try await JWTKeyCollection().add(jwksJSON: jwks.text)
            let verified = try await keys.verify(token, as: ClaimSetForTests.self)
            #expect(verified.sub == "\(client.clientID)@clients")

            let claims = decodeJWTPart(token, 1)
            #expect(claims["iss"] == .string(Harness.issuer))
            #expect(claims["aud"] == .string(audience))
            #expect(claims["gty"] == .string("client-credentials"))
            #expect(claims["azp"] == .string(client.clientID))
            #expect(claims["jti"]?.stringValue?.isEmpty == false)
            let iat = try #require(claims["iat"]), exp = try #require(claims["exp"])
            if case .number(let issued) = iat, case .number(let expires) = exp {
                #expect(issued.rounded() == issued)
                #expect(expires - issued == 3600)
            } else {
                Issue.record("iat/exp are not numbers")
            }
            #expect(!token.contains("\\/"))
            let header = decodeJWTPart(token, 0)
            #expect(header["alg"] == .string("RS256"))
            #expect(header["kid"] == .string(try await harness.services.keyRing.current().currentKid))
        }
    }

    @Test(arguments: StoreKind.available)
    func acceptsJSONBodyAndBasicAuthentication(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let (client, audience) = try await setUp(harness)
        try await harness.test { http in
            let json = try await http.request(.post, "/oauth/token", json: .object([
                "grant_type": .string("client_credentials"), "client_id": .string(client.clientID),
                "client_secret": .string(client.clientSecret!), "audience": .string(audience),
                "scope": .string("read:things"),
            ]))
            #expect(json.status == .ok)
            #expect(json["scope"] == .string("read:things"))

            let basic = Data("\(client.clientID):\(client.clientSecret!)".utf8).base64EncodedString()
            let viaBasic = try await http.request(.post, "/oauth/token",
                body: form(["grant_type": "client_credentials", "audience": audience]),
                contentType: "application/x-www-form-urlencoded", headers: [.authorization: "Basic \(basic)"])
            #expect(viaBasic.status == .ok)

            let both = try await http.request(.post, "/oauth/token",
                body: form(["grant_type": "client_credentials", "audience": audience, "client_secret": "x"]),
                contentType: "application/x-www-form-urlencoded", headers: [.authorization: "Basic \(basic)"])
            #expect(both.status == .badRequest)
            #expect(both["error"] == .string("invalid_request"))
        }
    }

    @Test(arguments: StoreKind.available)
    func refusesBadClientsAndGrantsWithRFC6749Errors(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let (client, audience) = try await setUp(harness)
        let spa = try await harness.tenant.clients.create(.object(["name": .string("spa"), "app_type": .string("spa")]))
        let web = try await harness.tenant.clients.create(.object([
            "name": .string("web"), "app_type": .string("regular_web"), "grant_types": .array([.string("authorization_code")]),
        ]))
        try await harness.test { http in
            func token(_ fields: [String: String]) async throws -> TestResponse {
                var all = ["grant_type": "client_credentials"]
                all.merge(fields) { $1 }
                return try await http.request(.post, "/oauth/token", body: form(all), contentType: "application/x-www-form-urlencoded")
            }
            let secret = client.clientSecret!
            let cases: [([String: String], HTTPResponse.Status, String)] = [
                (["client_id": client.clientID, "client_secret": "wrong", "audience": audience], .unauthorized, "invalid_client"),
                (["client_id": "nobody", "client_secret": secret, "audience": audience], .unauthorized, "invalid_client"),
                (["client_id": spa.clientID, "audience": audience], .unauthorized, "invalid_client"),
                (["client_id": web.clientID, "client_secret": web.clientSecret!, "audience": audience], .forbidden, "unauthorized_client"),
                (["client_id": client.clientID, "client_secret": secret], .forbidden, "access_denied"),
                (["client_id": client.clientID, "client_secret": secret, "audience": "https://nope.test/"], .forbidden, "access_denied"),
                (["client_id": client.clientID, "client_secret": secret, "audience": harness.tenant.managementAudience], .forbidden, "access_denied"),
                (["client_id": client.clientID, "client_secret": secret, "audience": audience, "scope": "admin:things"], .forbidden, "access_denied"),
                (["client_id": client.clientID, "client_secret": secret, "audience": audience, "grant_type": "magic"], .badRequest, "unsupported_grant_type"),
                (["client_secret": secret, "audience": audience], .badRequest, "invalid_request"),
            ]
            for (fields, status, error) in cases {
                let response = try await token(fields)
                #expect(response.status == status, "\(fields)")
                #expect(response["error"] == .string(error), "\(fields): \(response.text)")
                #expect(response["error_description"]?.stringValue?.isEmpty == false)
            }
            let unauthorized = try await token(["client_id": client.clientID, "client_secret": "wrong", "audience": audience])
            #expect(unauthorized.headers[.wwwAuthenticate] != nil)

            let wrongType = try await http.request(.post, "/oauth/token", body: "grant_type=client_credentials", contentType: "text/plain")
            #expect(wrongType.status == .badRequest)
            #expect(wrongType["error"] == .string("invalid_request"))
            let huge = try await http.request(.post, "/oauth/token", body: String(repeating: "a", count: 70_000),
                                              contentType: "application/x-www-form-urlencoded")
            #expect(huge.status == .contentTooLarge)
            let notJSON = try await http.request(.post, "/oauth/token", body: "{nope", contentType: "application/json")
            #expect(notJSON.status == .badRequest)
        }
    }

    @Test(arguments: StoreKind.available)
    func hs256APIsSignWithTheirSecret(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let (client, audience) = try await setUp(harness, alg: "HS256")
        let secret = try #require(try await harness.tenant.resourceServers.get(audience).signingSecret)
        try await harness.test { http in
            let response = try await http.request(.post, "/oauth/token", json: .object([
                "grant_type": .string("client_credentials"), "client_id": .string(client.clientID),
                "client_secret": .string(client.clientSecret!), "audience": .string(audience),
            ]))
            let token = try #require(response["access_token"]?.stringValue)
            #expect(decodeJWTPart(token, 0)["alg"] == .string("HS256"))
            let keys = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            let claims = try await keys.verify(token, as: ClaimSetForTests.self)
            #expect(claims.sub == "\(client.clientID)@clients")
        }
    }

    @Test(arguments: StoreKind.available)
    func discoveryListsWhatExists(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        try await harness.test { http in
            let discovery = try await http.request(.get, "/.well-known/openid-configuration")
            #expect(discovery["issuer"] == .string(Harness.issuer))
            #expect(discovery["jwks_uri"] == .string(Harness.issuer + ".well-known/jwks.json"))
            #expect(discovery["token_endpoint"] == .string(Harness.issuer + "oauth/token"))
            #expect(discovery["grant_types_supported"]?.jsonText().contains("client_credentials") == true)
            #expect(discovery["userinfo_endpoint"] == .string(Harness.issuer + "userinfo"))
            let health = try await http.request(.get, "/healthz")
            #expect(health.status == .ok)
            let ready = try await http.request(.get, "/readyz")
            #expect(ready.status == .ok)
        }
    }
}

/// Just enough of a payload for jwt-kit to verify a signature and hand back `sub`.
struct ClaimSetForTests: JWTPayload {
    var sub: String
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
