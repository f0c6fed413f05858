import Foundation
import IdentityManagement
import Testing
import TesseraCore
import TesseraStore

@Suite struct ManagementUsersTests {
    @Test(arguments: StoreKind.available)
    func createReadPatchDelete(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        try await harness.test { http in
            let token = try await http.managementToken()
            let created = try await http.request(.post, "/api/v2/users", token: token, json: newUserBody("Ada@Example.com", extra: [
                "app_metadata": .object(["plan": .string("pro"), "seats": .number(3)]),
                "user_metadata": .object(["theme": .string("dark")]),
                "given_name": .string("Ada"), "email_verified": .bool(true),
            ]))
            #expect(created.status == .created, "\(created.text)")
            let userID = try #require(created["user_id"]?.stringValue)
            #expect(userID.hasPrefix("auth0|"))
            #expect(created["email"] == .string("ada@example.com"))
            #expect(created["name"] == .string("ada@example.com"))
            #expect(created["nickname"] == .string("ada"))
            #expect(created["password"] == nil && !created.text.contains("password_hash") && !created.text.contains("$2"))
            #expect(created["identities"]?.jsonText().contains("Username-Password-Authentication") == true)

            let fetched = try await http.request(.get, "/api/v2/users/\(userID.pathEscaped)", token: token)
            #expect(fetched.status == .ok)
            #expect(fetched["given_name"] == .string("Ada"))

            let patched = try await http.request(.patch, "/api/v2/users/\(userID.pathEscaped)", token: token, json: .object([
                "app_metadata": .object(["seats": .null, "tier": .string("gold")]),
                "name": .string("Ada Lovelace"), "blocked": .bool(true),
            ]))
            #expect(patched.status == .ok, "\(patched.text)")
            #expect(patched["app_metadata"] == .object(["plan": .string("pro"), "tier": .string("gold")]))
            #expect(patched["user_metadata"] == .object(["theme": .string("dark")]))
            #expect(patched["name"] == .string("Ada Lovelace"))
            #expect(patched["blocked"] == .bool(true))
            #expect(patched["given_name"] == .string("Ada"))

            let byEmail = try await http.request(.get, "/api/v2/users-by-email?email=ADA@example.com", token: token)
            #expect(byEmail.json.jsonText().contains(userID))

            let duplicate = try await http.request(.post, "/api/v2/users", token: token, json: newUserBody("ada@example.com"))
            #expect(duplicate.status == .conflict)
            #expect(duplicate["statusCode"] == .number(409))

            let deleted = try await http.request(.delete, "/api/v2/users/\(userID.pathEscaped)", token: token)
            #expect(deleted.status == .noContent)
            let gone = try await http.request(.get, "/api/v2/users/\(userID.pathEscaped)", token: token)
            #expect(gone.status == .notFound)
            #expect(gone.object == [
                "statusCode": .number(404), "error": .string("Not Found"),
                "message": .string("The user does not exist."), "errorCode": .string("inexistent_user"),
            ])
        }
    }

    @Test(arguments: StoreKind.available)
    func searchSpeaksTheLuceneSubset(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let users = harness.tenant.users
        let specs: [(String, String, [String: JSONValue])] = [
            ("alice@acme.test", "Alice Smith", ["plan": .string("pro"), "trial": .bool(true)]),
            ("bob@acme.test", "Bob Stone", ["plan": .string("free"), "org": .object(["id": .string("o-1")])]),
            ("carol@other.test", "Carol Smith", ["plan": .string("pro"), "seats": .number(5)]),
            ("dan_o'hara@other.test", "Dan O'Hara", [:]),
        ]
        for (email, name, metadata) in specs {
            _ = try await users.create(newUserBody(email, extra: ["name": .string(name), "app_metadata": .object(metadata)]))
            harness.clock.advance(seconds: 1)
        }
        try await harness.test { http in
            let token = try await http.managementToken(scopes: ["read:users"])
            func emails(_ query: String, _ extra: String = "") async throws -> [String] {
                let response = try await http.request(.get, "/api/v2/users?q=\(query.pathEscaped)\(extra)", token: token)
                #expect(response.status == .ok, "\(query): \(response.text)")
                guard case .array(let items) = response.json else { return [] }
                return items.compactMap { $0.objectValue?["email"]?.stringValue }
            }
            #expect(try await emails("app_metadata.plan:pro") == ["alice@acme.test", "carol@other.test"])
            #expect(try await emails("app_metadata.trial:true") == ["alice@acme.test"])
            #expect(try await emails("app_metadata.seats:5") == ["carol@other.test"])
            #expect(try await emails("app_metadata.org.id:\"o-1\"") == ["bob@acme.test"])
            #expect(try await emails("email.domain:acme.test") == ["alice@acme.test", "bob@acme.test"])
            #expect(try await emails("email:\"BOB@acme.test\"") == ["bob@acme.test"])
            #expect(try await emails("name:\"Carol Smith\"") == ["carol@other.test"])
            #expect(try await emails("name:ali*") == ["alice@acme.test"])
            #expect(try await emails("email:a* OR email:c*") == ["alice@acme.test", "carol@other.test"])
            #expect(try await emails("app_metadata.plan:pro AND email.domain:other.test") == ["carol@other.test"])
            #expect(try await emails("app_metadata.plan:pro AND NOT name:alice*") == ["carol@other.test"])
            #expect(try await emails("(email:a* OR email:b*) AND app_metadata.plan:free") == ["bob@acme.test"])
            #expect(try await emails("_exists_:app_metadata.seats") == ["carol@other.test"])
            #expect(try await emails("logins_count:[0 TO 5]").count == 4)
            #expect(try await emails("smith*") == ["alice@acme.test", "carol@other.test"])
            #expect(try await emails("name:\"Dan O'Hara\"") == ["dan_o'hara@other.test"])
            // LIKE metacharacters are literal, not wildcards.
            #expect(try await emails("email:dan_*") == ["dan_o'hara@other.test"])
            #expect(try await emails("email:d%*") == [])
            // SQL in values is only ever a value.
            #expect(try await emails("email:\"x' OR '1'='1\"") == [])
            #expect(try await emails("name:x;DROP") == [])
            #expect(try await emails("email.domain:acme.test", "&sort=email:-1") == ["bob@acme.test", "alice@acme.test"])

            let totals = try await http.request(.get, "/api/v2/users?include_totals=true&per_page=2&page=1", token: token)
            #expect(totals["total"] == .number(4))
            #expect(totals["start"] == .number(2))
            #expect(totals["limit"] == .number(2))
            #expect(totals["length"] == .number(2))

            let projected = try await http.request(.get, "/api/v2/users?fields=email,user_id&per_page=1", token: token)
            #expect(projected.json.jsonText().contains("email") && !projected.json.jsonText().contains("app_metadata"))
            let excluded = try await http.request(.get, "/api/v2/users?fields=app_metadata&include_fields=false&per_page=1", token: token)
            #expect(!excluded.json.jsonText().contains("app_metadata") && excluded.json.jsonText().contains("email"))

            // 999 bare terms fit in q's 2,000 characters but would nest the SQL past SQLite's depth (a 500, found by schemathesis).
            let manyTerms = Array(repeating: "a", count: 999).joined(separator: " ")
            for bad in ["((", "email:", "bogus_field:1", "email:a*b", "blocked:maybe", "logins_count:[a TO 3]", "\"open", manyTerms] {
                let response = try await http.request(.get, "/api/v2/users?q=\(bad.pathEscaped)", token: token)
                #expect(response.status == .badRequest, "\(bad)")
                #expect(response["errorCode"] == .string("invalid_query_string"))
            }
            for bad in ["per_page=101", "per_page=0", "page=-1", "sort=password:1", "sort=email", "include_fields=maybe", "from=%25%25"] {
                let response = try await http.request(.get, "/api/v2/users?\(bad)", token: token)
                #expect(response.status == .badRequest, "\(bad): \(response.text)")
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func checkpointPaginationWalksPastOneThousand(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        try await harness.services.store.transaction { db in
            for index in 0..<1_050 {
                try await db.raw("""
                    INSERT INTO users (user_id, connection, email, created_at, updated_at)
                    VALUES (\(bind: String(format: "auth0|u%05d", index)), 'Username-Password-Authentication',
                            \(bind: "u\(index)@bulk.test"), '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')
                    """).run()
            }
        }
        try await harness.test { http in
            let token = try await http.managementToken(scopes: ["read:users"])
            var seen = 0
            var from = ""
            var pages = 0
            repeat {
                let response = try await http.request(.get, "/api/v2/users?take=100&from=\(from)", token: token)
                #expect(response.status == .ok)
                guard case .array(let users)? = response["users"] else { Issue.record("no users"); break }
                seen += users.count
                pages += 1
                from = response["next"]?.stringValue ?? ""
            } while !from.isEmpty && pages < 20
            #expect(seen == 1_050)
            #expect(pages == 11)
            // Offset pages also go past the 1,000th user.
            let deep = try await http.request(.get, "/api/v2/users?per_page=100&page=10&sort=user_id:1", token: token)
            #expect(deep.json.jsonText().contains("auth0|u01049"))
        }
    }

    @Test(arguments: StoreKind.available)
    func refusesBadInputInAuth0Shape(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        try await harness.test { http in
            let token = try await http.managementToken()
            let cases: [(TestResponse, String)] = [
                (try await http.request(.post, "/api/v2/users", token: token, body: "{\"email\":", contentType: "application/json"), "Invalid request payload JSON format"),
                (try await http.request(.post, "/api/v2/users", token: token, json: newUserBody(extra: ["bogus": .number(1)])), "Additional properties not allowed: bogus"),
                (try await http.request(.post, "/api/v2/users", token: token, body: "email=x", contentType: "text/plain"), "Content-Type must be application/json"),
                (try await http.request(.post, "/api/v2/users", token: token, json: newUserBody(extra: ["password": .string("short")])), "PasswordStrengthError"),
                (try await http.request(.post, "/api/v2/users", token: token, json: newUserBody("not-an-email")), "format email"),
                (try await http.request(.post, "/api/v2/users", token: token, json: newUserBody(extra: ["connection": .string("google-oauth2")])), "The connection does not exist."),
                (try await http.request(.post, "/api/v2/users", token: token, json: newUserBody(extra: ["email_verified": .string("yes")])), "Expected type boolean but found type string"),
                (try await http.request(.post, "/api/v2/users", token: token, json: .array([])), "Expected type object"),
                (try await http.request(.post, "/api/v2/users", token: token, json: .object(["connection": .string("Username-Password-Authentication"), "password": .string("Correct-Horse-9")])), "Missing required property: email"),
            ]
            for (response, message) in cases {
                #expect(response.status == .badRequest, "\(response.text)")
                #expect(response["statusCode"] == .number(400))
                #expect(response["error"] == .string("Bad Request"))
                #expect(response["message"]?.stringValue?.contains(message) == true, "\(response.text)")
            }
            let huge = try await http.request(.post, "/api/v2/users", token: token,
                                              json: newUserBody(extra: ["name": .string(String(repeating: "x", count: 70_000))]))
            #expect(huge.status == .contentTooLarge)
            #expect(huge["statusCode"] == .number(413))
            let missing = try await http.request(.patch, "/api/v2/users/auth0%7Cnope", token: token, json: .object(["name": .string("x")]))
            #expect(missing.status == .notFound)
            _ = try await harness.tenant.users.create(newUserBody())
            let weird = try await http.request(.get, "/api/v2/users/'%3B%20DROP%20TABLE%20users%3B--", token: token)
            #expect(weird.status == .notFound)
            let before = try await harness.tenant.users.search(try UserSearch(parameters: [:]), includeTotals: true).total
            #expect((before ?? 0) > 0)
            let still = try await http.request(.get, "/api/v2/users?include_totals=true", token: token)
            #expect(still.status == .ok && still["total"] == .number(Double(before ?? -1)), "the users table is intact: \(still.text)")
            let tables = try await harness.services.store.read { db in
                try await db.raw("SELECT count(*) AS n FROM users").first().map { try $0.integer("n") }
            }
            #expect(tables == before, "every user row is still there")
        }
    }

    @Test(arguments: StoreKind.available)
    func guardsEveryCallWithTokenAndScope(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        try await harness.test { http in
            let readOnly = try await http.managementToken(scopes: ["read:users"])
            #expect(try await http.request(.get, "/api/v2/users", token: readOnly).status == .ok)
            let denied = try await http.request(.post, "/api/v2/users", token: readOnly, json: newUserBody())
            #expect(denied.status == .forbidden)
            #expect(denied.object == [
                "statusCode": .number(403), "error": .string("Forbidden"),
                "message": .string("Insufficient scope, expected any of: create:users"), "errorCode": .string("insufficient_scope"),
            ])
            #expect(try await http.request(.get, "/api/v2/clients", token: readOnly).status == .forbidden)

            let anonymous = try await http.request(.get, "/api/v2/users")
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous["message"] == .string("Missing authentication"))

            // alg: none, a forged HS256 token, a truncated signature, garbage.
            let payload = Data(#"{"iss":"http://tessera.test/","aud":"http://tessera.test/api/v2/","scope":"read:users","exp":9999999999}"#.utf8).base64URLEncoded()
            let none = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64URLEncoded() + "." + payload + "."
            let hs = Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8).base64URLEncoded() + "." + payload + ".c2lnbmF0dXJl"
            let kid = try await harness.services.keyRing.current().currentKid
            let forged = Data(#"{"alg":"RS256","kid":"\#(kid)"}"#.utf8).base64URLEncoded() + "." + payload + ".AAAA"
            for token in [none, hs, forged, "garbage", String(readOnly.dropLast(4)), "a.b.c"] {
                let response = try await http.request(.get, "/api/v2/users", token: token)
                #expect(response.status == .unauthorized, "\(token)")
                #expect(response["errorCode"] == .string("invalid_token"))
            }

            // A token for another audience is refused here.
            let audience = "https://other.test/"
            _ = try await harness.tenant.resourceServers.create(.object(["identifier": .string(audience), "scopes": .array([.object(["value": .string("read:users")])])]))
            let client = try await harness.tenant.clients.create(.object(["name": .string("other"), "app_type": .string("m2m")]))
            _ = try await harness.tenant.clientGrants.create(.object(["client_id": .string(client.clientID), "audience": .string(audience), "scope": .array([.string("read:users")])]))
            let other = try await http.request(.post, "/oauth/token", json: .object([
                "grant_type": .string("client_credentials"), "client_id": .string(client.clientID),
                "client_secret": .string(client.clientSecret!), "audience": .string(audience),
            ]))
            let wrongAudience = try await http.request(.get, "/api/v2/users", token: other["access_token"]?.stringValue)
            #expect(wrongAudience.status == .unauthorized)

            // Expired tokens are refused once the clock passes exp (+ leeway).
            harness.clock.advance(seconds: 86_400 + 60)
            let expired = try await http.request(.get, "/api/v2/users", token: readOnly)
            #expect(expired.status == .unauthorized)
            #expect(expired["message"]?.stringValue?.contains("expired") == true)
        }
    }
}

@Suite struct QueryEncodingTests {
    /// Browsers, requests and authlib write spaces in query strings as `+`.
    @Test(arguments: StoreKind.available)
    func plusInAQueryStringIsASpace(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        _ = try await harness.tenant.users.create(newUserBody("grace@example.com", extra: ["name": .string("Grace Hopper")]))
        try await harness.test { http in
            let token = try await http.managementToken(scopes: ["read:users"])
            let response = try await http.request(.get, "/api/v2/users?q=name:%22Grace+Hopper%22", token: token)
            #expect(response.json.jsonText().contains("grace@example.com"))
        }
    }
}
