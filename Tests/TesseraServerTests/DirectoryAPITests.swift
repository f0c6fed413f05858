import Foundation
import HTTPTypes
import Testing
import Directory
import TesseraCore

/// UserHub's Admin API for users (`/admin/v1/users`), on SQLite and PostgreSQL: what the `userhub-sdk` calls.
@Suite struct DirectoryAPITests {
    static func key(_ harness: Harness, integration: String? = nil) async throws -> String {
        try await harness.services.directory.keys.create(description: "test", integration: integration, expires: nil).key
    }

    @Test(arguments: StoreKind.available)
    func apiKeysAreListedCreatedAndDeletedWithoutShowingThemAgain(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let key = try await Self.key(harness)
        let integration = try await Self.key(harness, integration: "auth0")
        try await harness.test { http in
            let created = try await http.request(.post, "/admin/v1/apiKeys", token: key, json: [
                "description": "<b>sync</b>", "integration": "auth0", "expireTime": "2099-01-01T00:00:00Z"])
            #expect(created.status == .ok, "\(created.text)")
            let value = try #require(created["key"]?.stringValue)
            let id = try #require(created["id"]?.stringValue)
            #expect(value.hasPrefix("userhub_admin_") && created["integration"] == "auth0" && created["expireTime"] != nil)
            let listed = try await http.request(.get, "/admin/v1/apiKeys", token: key)
            #expect(listed.status == .ok && listed.text.contains(id) && listed.text.contains("<b>sync</b>"))
            #expect(!listed.text.contains(value) && !listed.text.contains(key), "no key is ever listed")
            // The new key is known, and held to its integration: refused as limited (403), not as unknown (401).
            #expect(try await http.request(.get, "/admin/v1/apiKeys", token: value).status == .forbidden)
            #expect(try await http.request(.post, "/admin/v1/apiKeys", token: integration, json: ["description": "x"]).status == .forbidden)
            for (body, field) in [(["description": ""] as JSONValue, "description"), (["integration": "auth0"], "description"),
                                  (["description": "x", "integration": "okta"], "integration"), (["description": "x", "expireTime": "tomorrow"], "expireTime"),
                                  (["description": "x", "scopes": ["all"]], "scopes")] {
                let refused = try await http.request(.post, "/admin/v1/apiKeys", token: key, json: body)
                #expect(refused.status == .badRequest && refused.text.contains(field), "\(body.jsonText()): \(refused.text)")
            }
            let own = try #require(try await harness.services.directory.keys.authenticate(key)).id
            #expect(try await http.request(.delete, "/admin/v1/apiKeys/\(own)", token: key).status == .badRequest)
            #expect(try await http.request(.delete, "/admin/v1/apiKeys/\(id)", token: key).status == .ok)
            #expect(try await http.request(.get, "/admin/v1/apiKeys", token: value).status == .unauthorized)
            #expect(try await http.request(.delete, "/admin/v1/apiKeys/\(id)", token: key).status == .notFound)
            #expect(try await http.request(.get, "/admin/v1/apiKeys?page=2", token: key).status == .badRequest)
        }
    }

    @Test(arguments: StoreKind.available)
    func usersLiveDieAndComeBack(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let key = try await Self.key(harness)
        try await harness.test { http in
            let created = try await http.request(.post, "/admin/v1/users", token: key, json: [
                "uniqueId": "ann-1", "displayName": "Ann Lee", "email": "Ann@Example.com", "emailVerified": true,
                "phoneNumber": "+12125550123", "address": ["city": "Paris", "country": "FR"], "signupTime": "2024-05-01T10:00:00+02:00"])
            #expect(created.status == .ok, "\(created.text)")
            let id = try #require(created["id"]?.stringValue)
            #expect(id.hasPrefix("usr_"))
            #expect(created["state"] == "ACTIVE" && created["displayName"] == "Ann Lee" && created["disabled"] == false)
            #expect(created["signupTime"] == "2024-05-01T08:00:00.000Z")
            #expect(created["accountConnections"] == .array([]))
            // By id and by uniqueId.
            #expect(try await http.request(.get, "/admin/v1/users/\(id)", token: key)["email"] == "Ann@Example.com")
            #expect(try await http.request(.get, "/admin/v1/users/ann-1", token: key)["id"] == .string(id))
            // PATCH changes what it names; null clears.
            let patched = try await http.request(.patch, "/admin/v1/users/\(id)", token: key, json: ["displayName": "Ann B. Lee", "phoneNumber": .null, "disabled": true])
            #expect(patched["displayName"] == "Ann B. Lee" && patched["phoneNumber"] == nil && patched["email"] == "Ann@Example.com")
            #expect(patched["state"] == "DISABLED")
            // allowMissing creates a user under the uniqueId, then updates it.
            let upserted = try await http.request(.patch, "/admin/v1/users/bob-2?allowMissing=True", token: key, json: ["displayName": "Bob"])
            #expect(upserted.status == .ok && upserted["uniqueId"] == "bob-2", "\(upserted.text)")
            let again = try await http.request(.patch, "/admin/v1/users/bob-2?allowMissing=true", token: key, json: ["email": "bob@example.com"])
            #expect(again["id"] == upserted["id"] && again["displayName"] == "Bob")
            let missing = try await http.request(.patch, "/admin/v1/users/carl-3", token: key, json: ["displayName": "Carl"])
            #expect(missing.status == .notFound && missing["code"] == "NOT_FOUND")
            let duplicate = try await http.request(.post, "/admin/v1/users", token: key, json: ["uniqueId": "bob-2"])
            #expect(duplicate.status == .conflict && duplicate["code"] == "ALREADY_EXISTS" && duplicate["param"] == "uniqueId")
            // Delete is soft: hidden from lists unless showDeleted, refused edits, undeleted, then purged.
            let deleted = try await http.request(.delete, "/admin/v1/users/\(id)", token: key)
            #expect(deleted["state"] == "PENDING_DELETION" && deleted["deleteTime"] != nil)
            #expect(try await http.request(.get, "/admin/v1/users", token: key)["users"]?.arrayValue?.count == 1)
            #expect(try await http.request(.get, "/admin/v1/users?showDeleted=True", token: key)["users"]?.arrayValue?.count == 2)
            let edit = try await http.request(.patch, "/admin/v1/users/\(id)", token: key, json: ["displayName": "x"])
            #expect(edit.status == .badRequest && edit["code"] == "FAILED_PRECONDITION" && edit["reason"] == "USER_PENDING_DELETION")
            let restored = try await http.request(.post, "/admin/v1/users/\(id):undelete", token: key, json: [:])
            #expect(restored["state"] == "DISABLED" && restored["deleteTime"] == nil)
            let early = try await http.request(.post, "/admin/v1/users/\(id):purge", token: key, json: [:])
            #expect(early.status == .badRequest && early["code"] == "FAILED_PRECONDITION")
            _ = try await http.request(.delete, "/admin/v1/users/\(id)", token: key)
            let purged = try await http.request(.post, "/admin/v1/users/\(id):purge", token: key, json: [:])
            #expect(purged.status == .ok && purged.json == .object([:]))
            #expect(try await http.request(.get, "/admin/v1/users/\(id)", token: key).status == .notFound)
        }
    }

    @Test(arguments: StoreKind.available)
    func listsPageWithoutLosingAnyone(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let key = try await Self.key(harness)
        try await harness.test { http in
            for index in 0..<45 {
                let created = try await http.request(.post, "/admin/v1/users", token: key, json: [
                    "displayName": .string("User \(index % 7)"), "email": .string("user\(index)@\(index % 2 == 0 ? "even" : "odd").example")])
                #expect(created.status == .ok)
            }
            var seen: [String] = []
            var token: String?
            var pages = 0
            var tokens: [String?] = []
            repeat {
                let page = try await http.request(.get, "/admin/v1/users?pageSize=20" + (token.map { "&pageToken=\($0)" } ?? ""), token: key)
                #expect(page.status == .ok, "\(page.text)")
                // UserHub's previousPageToken: absent on the first page, "" when the previous page is the first.
                #expect(page["previousPageToken"]?.stringValue == (pages == 0 ? nil : pages == 1 ? "" : tokens[pages - 1]))
                tokens.append(token)
                let users = page["users"]?.arrayValue ?? []
                let names = users.compactMap { $0.objectValue?["displayName"]?.stringValue }
                #expect(names == names.sorted())
                seen += users.compactMap { $0.objectValue?["id"]?.stringValue }
                token = page["nextPageToken"]?.stringValue
                pages += 1
            } while token != nil && pages < 10
            #expect(pages == 3 && seen.count == 45 && Set(seen).count == 45)
            let back = try await http.request(.get, "/admin/v1/users?pageSize=20&pageToken=\(tokens[2]!)", token: key)
            let again = try await http.request(.get, "/admin/v1/users?pageSize=20&pageToken=\(back["previousPageToken"]?.stringValue ?? "")", token: key)
            #expect(again["users"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue } == Array(seen[20..<40]))
            #expect(back["users"]?.arrayValue?.first?.objectValue?["accountConnections"] == nil && back["users"]?.arrayValue?.first?.objectValue?["view"] == "BASIC")
            let full = try await http.request(.get, "/admin/v1/users?pageSize=1&view=FULL", token: key)
            #expect(full["users"]?.arrayValue?.first?.objectValue?["accountConnections"] == .array([]))
            let prefix = try await http.request(.get, "/admin/v1/users?email=USER1*&orderBy=email+asc&pageSize=500", token: key)
            let emails = prefix["users"]?.arrayValue?.compactMap { $0.objectValue?["email"]?.stringValue } ?? []
            #expect(emails.count == 11 && emails == emails.sorted() && emails.allSatisfy { $0.hasPrefix("user1") })
            let exact = try await http.request(.get, "/admin/v1/users?email=user3%40odd.example", token: key)
            #expect(exact["users"]?.arrayValue?.count == 1)
            let newest = try await http.request(.get, "/admin/v1/users?orderBy=createTime+desc&pageSize=30", token: key)
            let times = newest["users"]?.arrayValue?.compactMap { $0.objectValue?["createTime"]?.stringValue } ?? []
            #expect(times.count == 30 && times == times.sorted(by: >))
            // A token is bound to its query.
            let first = try await http.request(.get, "/admin/v1/users?pageSize=5", token: key)
            let other = try await http.request(.get, "/admin/v1/users?pageSize=5&orderBy=email+asc&pageToken=\(first["nextPageToken"]?.stringValue ?? "")", token: key)
            #expect(other.status == .badRequest && other["param"] == "pageToken")
            for (query, param) in [("orderBy=height+asc", "orderBy"), ("email=ab*", "email"), ("pageSize=-1", "pageSize"),
                                   ("pageToken=%25%25", "pageToken"), ("showDeleted=maybe", "showDeleted"), ("color=red", "color")] {
                let refused = try await http.request(.get, "/admin/v1/users?\(query)", token: key)
                #expect(refused.status == .badRequest && refused["code"] == "INVALID_ARGUMENT" && refused["param"] == .string(param), "\(query): \(refused.text)")
            }
        }
    }

    /// Connections through the API: created, listed, tested (a source that does not answer is FAILED, with the
    /// reason), refused when malformed, deleted; the secret is never shown.
    @Test(arguments: StoreKind.available)
    func connectionsAreManagedAndTested(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let key = try await Self.key(harness)
        try await harness.test { http in
            let created = try await http.request(.post, "/admin/v1/connections", token: key, json: [
                "id": "conn_nowhere", "displayName": "Nowhere", "auth0": ["domain": "http://127.0.0.1:1", "clientId": "c", "clientSecret": "super-secret-value"]])
            #expect(created.status == .ok && created["state"] == "PENDING_SETUP" && created["type"] == "AUTH0", "\(created.text)")
            #expect(!created.text.contains("super-secret-value"))
            let listed = try await http.request(.get, "/admin/v1/connections", token: key)
            #expect(listed["connections"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue } == ["conn_nowhere"])
            #expect(try await http.request(.get, "/admin/v1/connections/conn_nowhere", token: key)["auth0"]?.objectValue?["domain"] == "http://127.0.0.1:1")
            let tested = try await http.request(.post, "/admin/v1/connections/conn_nowhere:test", token: key, json: [:])
            #expect(tested["state"] == "FAILED" && tested["stateReason"]?.stringValue?.contains("127.0.0.1:1") == true, "\(tested.text)")
            for (body, param) in [(["auth0": ["domain": "ftp://x", "clientId": "c", "clientSecret": "s"]] as JSONValue, "domain"),
                                  (["auth0": ["domain": "x.auth0.com", "clientId": "c"]], "auth0.clientSecret"),
                                  (["id": "nope", "auth0": ["domain": "x.auth0.com", "clientId": "c", "clientSecret": "s"]], "id"),
                                  (["type": "OKTA", "auth0": [:]], "type")] {
                let refused = try await http.request(.post, "/admin/v1/connections", token: key, json: body)
                #expect(refused.status == .badRequest && refused["param"] == .string(param), "\(refused.text)")
            }
            #expect(try await http.request(.get, "/admin/v1/connections/conn_missing", token: key).status == .notFound)
            #expect(try await http.request(.delete, "/admin/v1/connections/conn_nowhere", token: key).json == .object([:]))
            #expect(try await http.request(.get, "/admin/v1/connections/conn_nowhere", token: key).status == .notFound)
        }
    }

    @Test func keysAndBadInputAreRefusedInUserHubsWords() async throws {
        let harness = try await Harness.make()
        let key = try await Self.key(harness)
        let auth0Key = try await Self.key(harness, integration: "auth0")
        try await harness.test { http in
            let none = try await http.request(.get, "/admin/v1/users")
            #expect(none.status == .unauthorized && none["code"] == "UNAUTHENTICATED")
            #expect(try await http.request(.get, "/admin/v1/users", token: "userhub_admin_not-a-real-key").status == .unauthorized)
            let limited = try await http.request(.get, "/admin/v1/users", token: auth0Key)
            #expect(limited.status == .forbidden && limited["code"] == "PERMISSION_DENIED")
            // The integration key passes for the provider paths (there is no connection yet, so the user is not found).
            let event = try await http.request(.post, "/admin/v1/users/auth0%7C123@conn_none:event", token: auth0Key, json: ["type": "SIGNIN"])
            #expect(event.status == .notFound && event["reason"] == "CONNECTION_NOT_FOUND", "\(event.text)")
            let cases: [(HTTPRequest.Method, String, JSONValue?, String?)] = [
                (.post, "/admin/v1/users", ["nickname": "x"], "nickname"),
                (.post, "/admin/v1/users", ["phoneNumber": "555-0123"], "phoneNumber"),
                (.post, "/admin/v1/users", ["displayName": .string(String(repeating: "x", count: 201))], "displayName"),
                (.post, "/admin/v1/users", ["email": "not-an-email"], "email"),
                (.post, "/admin/v1/users", ["uniqueId": "usr_reserved"], "uniqueId"),
                (.post, "/admin/v1/users", ["disabled": "yes"], "disabled"),
                (.post, "/admin/v1/users", ["imageUrl": "javascript:alert(1)"], "imageUrl"),
                (.post, "/admin/v1/users", ["address": ["planet": "Mars"]], "address.planet"),
                (.post, "/admin/v1/users", .array([]), "body"),
                (.get, "/admin/v1/users/a%20b", nil, "userId"),
                (.get, "/admin/v1/users/auth0%7C1@", nil, "userId"),
                (.get, "/admin/v1/users/@conn_x", nil, "userId"),
                (.post, "/admin/v1/users/usr_x:undelete", ["force": true], "force"),
            ]
            for (method, path, body, param) in cases {
                let response = try await http.request(method, path, token: key, json: body)
                #expect(response.status == .badRequest && response["code"] == "INVALID_ARGUMENT" && response["param"] == param.map(JSONValue.string),
                        "\(method) \(path): \(response.text)")
            }
            let malformed = try await http.request(.post, "/admin/v1/users", token: key, body: "{\"displayName\":", contentType: "application/json")
            #expect(malformed.status == .badRequest && malformed["code"] == "INVALID_ARGUMENT")
            let verb = try await http.request(.post, "/admin/v1/users/usr_x:explode", token: key, json: [:])
            #expect(verb.status == .notFound && verb["code"] == "NOT_FOUND")
            let unknown = try await http.request(.get, "/admin/v1/organizations", token: key)
            #expect(unknown.status == .notFound && unknown["code"] == "NOT_FOUND")
            let quote = try await http.request(.get, "/admin/v1/users?displayName=O%27Brien%25%3B--", token: key)
            #expect(quote.status == .ok && quote["users"] == .array([]))
        }
    }
}
