import Foundation
import HTTPTypes
import IdentityManagement
import Testing
import TesseraCore

/// The rules themselves, one row per case: the Lucene subset of user search, the token endpoint's RFC 6749 errors and
/// the Management API's scope checks. The HTTP tests beside these show the same rules in whole flows.
@Suite struct UserQueryRulesTests {
    static let email = UserField.column("email", .caseInsensitiveText)
    static let name = UserField.column("name", .text)
    static let logins = UserField.column("logins_count", .integer)

    static let parsed: [(String, UserQuery)] = [
        ("email:ada@example.com", .match(field: email, value: "ada@example.com")),
        (#"name:"Dan O'Hara""#, .match(field: name, value: "Dan O'Hara")),
        ("email:ad*", .prefix(field: email, value: "ad")),
        ("email:*", .exists(field: email)),
        ("_exists_:app_metadata.plan", .exists(field: .metadata(column: "app_metadata", path: ["plan"]))),
        ("app_metadata.org.id:o-1", .match(field: .metadata(column: "app_metadata", path: ["org", "id"]), value: "o-1")),
        ("user_metadata.theme:dark", .match(field: .metadata(column: "user_metadata", path: ["theme"]), value: "dark")),
        ("logins_count:[1 TO 5]", .range(field: logins, lower: "1", upper: "5")),
        ("logins_count:[* TO 5]", .range(field: logins, lower: nil, upper: "5")),
        ("email.domain:example.com", .match(field: .emailDomain, value: "example.com")),
        ("identities.connection:Username-Password-Authentication",
         .match(field: .column("connection", .text), value: "Username-Password-Authentication")),
        ("smith", .anyText("smith", prefix: false)),
        ("smith*", .anyText("smith", prefix: true)),
        ("a AND b", .and(.anyText("a", prefix: false), .anyText("b", prefix: false))),
        ("a b", .or(.anyText("a", prefix: false), .anyText("b", prefix: false))),
        ("a OR b AND c", .or(.anyText("a", prefix: false), .and(.anyText("b", prefix: false), .anyText("c", prefix: false)))),
        ("(a OR b) AND c", .and(.or(.anyText("a", prefix: false), .anyText("b", prefix: false)), .anyText("c", prefix: false))),
        ("NOT email:x", .not(.match(field: email, value: "x"))),
        (#"email:"x' OR '1'='1""#, .match(field: email, value: "x' OR '1'='1")),
    ]

    @Test(arguments: parsed)
    func parses(_ text: String, _ expected: UserQuery) throws {
        #expect(try UserQuery.parse(text) == expected)
    }

    static let refused: [String] = [
        "password:x", "app_metadata:x", "app_metadata.a..b:x", "app_metadata.\(Array(repeating: "k", count: 9).joined(separator: ".")):x",
        "email:", "email:a*b", "email:**", "(email:a", "email:a)", "logins_count:[1 5]", "logins_count:[1 TO 5",
        "AND", "NOT", "email:\"unterminated",
    ]

    @Test(arguments: refused)
    func refuses(_ text: String) {
        #expect { try UserQuery.parse(text) } throws: { error in
            guard let error = error as? DomainError else { return false }
            return error.kind == .invalidInput && error.message.hasPrefix("Query validation error")
        }
    }
}

@Suite struct TokenEndpointRulesTests {
    /// Each RFC 6749 §5.2 error the token endpoint answers: the request (as a form unless it says otherwise), the status
    /// and the `error` code.
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let fields: [String: String]
        var body: String?
        var contentType = "application/x-www-form-urlencoded"
        var basic: String?
        let status: HTTPResponse.Status
        let error: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no grant_type", fields: ["client_id": "$m2m", "client_secret": "$secret"], status: .badRequest, error: "invalid_request"),
        Case(name: "unknown grant_type", fields: ["grant_type": "magic", "client_id": "$m2m"], status: .badRequest, error: "unsupported_grant_type"),
        Case(name: "implicit at the token endpoint", fields: ["grant_type": "implicit", "client_id": "$m2m"], status: .badRequest,
             error: "unsupported_grant_type"),
        Case(name: "no client_id", fields: ["grant_type": "client_credentials"], status: .badRequest, error: "invalid_request"),
        Case(name: "unknown client", fields: ["grant_type": "client_credentials", "client_id": "nope", "client_secret": "x",
                                              "audience": "$api"], status: .unauthorized, error: "invalid_client"),
        Case(name: "wrong secret", fields: ["grant_type": "client_credentials", "client_id": "$m2m", "client_secret": "wrong",
                                            "audience": "$api"], status: .unauthorized, error: "invalid_client"),
        Case(name: "two authentication methods", fields: ["grant_type": "client_credentials", "client_secret": "$secret", "audience": "$api"],
             basic: "$m2m:$secret", status: .badRequest, error: "invalid_request"),
        Case(name: "malformed Basic header", fields: ["grant_type": "client_credentials", "audience": "$api"], basic: "%%%",
             status: .unauthorized, error: "invalid_client"),
        Case(name: "grant not allowed for the client", fields: ["grant_type": "client_credentials", "client_id": "$spa", "audience": "$api"],
             status: .unauthorized, error: "invalid_client"),
        Case(name: "client_credentials not enabled", fields: ["grant_type": "client_credentials", "client_id": "$web",
                                                               "client_secret": "$websecret", "audience": "$api"],
             status: .forbidden, error: "unauthorized_client"),
        Case(name: "password grant not enabled", fields: ["grant_type": "password", "client_id": "$spa", "username": "a@b.c",
                                                          "password": "x"], status: .forbidden, error: "unauthorized_client"),
        Case(name: "no code", fields: ["grant_type": "authorization_code", "client_id": "$spa", "code_verifier": "v"],
             status: .badRequest, error: "invalid_request"),
        Case(name: "unknown code", fields: ["grant_type": "authorization_code", "client_id": "$spa", "code": "nope",
                                            "code_verifier": String(repeating: "v", count: 43)], status: .badRequest, error: "invalid_grant"),
        Case(name: "public client without a verifier", fields: ["grant_type": "authorization_code", "client_id": "$spa", "code": "nope"],
             status: .badRequest, error: "invalid_request"),
        Case(name: "no refresh_token", fields: ["grant_type": "refresh_token", "client_id": "$spa"], status: .badRequest, error: "invalid_request"),
        Case(name: "unknown refresh_token", fields: ["grant_type": "refresh_token", "client_id": "$spa", "refresh_token": "nope"],
             status: .badRequest, error: "invalid_grant"),
        Case(name: "no audience", fields: ["grant_type": "client_credentials", "client_id": "$m2m", "client_secret": "$secret"],
             status: .forbidden, error: "access_denied"),
        Case(name: "unknown audience", fields: ["grant_type": "client_credentials", "client_id": "$m2m", "client_secret": "$secret",
                                                "audience": "https://nowhere.test/"], status: .forbidden, error: "access_denied"),
        Case(name: "scope beyond the grant", fields: ["grant_type": "client_credentials", "client_id": "$m2m", "client_secret": "$secret",
                                                      "audience": "$api", "scope": "admin:things"], status: .forbidden, error: "access_denied"),
        Case(name: "text body", fields: [:], body: "grant_type=client_credentials", contentType: "text/plain", status: .badRequest,
             error: "invalid_request"),
        Case(name: "JSON number", fields: [:], body: #"{"grant_type":"client_credentials","client_id":1}"#, contentType: "application/json",
             status: .badRequest, error: "invalid_request"),
        Case(name: "JSON array", fields: [:], body: "[]", contentType: "application/json", status: .badRequest, error: "invalid_request"),
        Case(name: "malformed escape", fields: [:], body: "grant_type=client%ZZcredentials&client_id=x", status: .badRequest,
             error: "invalid_request"),
        Case(name: "oversize body", fields: [:], body: "grant_type=" + String(repeating: "x", count: 70_000), status: .contentTooLarge,
             error: "invalid_request"),
    ]

    @Test(arguments: cases)
    func answers(_ rule: Case) async throws {
        let harness = try await Harness.make()
        let api = "https://api.rules.test/"
        _ = try await harness.tenant.resourceServers.create(.object([
            "identifier": .string(api), "scopes": .array([.object(["value": .string("read:things")]), .object(["value": .string("admin:things")])]),
        ]))
        let m2m = try await harness.tenant.clients.create(.object(["name": .string("svc"), "app_type": .string("m2m")]))
        _ = try await harness.tenant.clientGrants.create(.object([
            "client_id": .string(m2m.clientID), "audience": .string(api), "scope": .array([.string("read:things")]),
        ]))
        let spa = try await harness.tenant.clients.create(.object(["name": .string("spa"), "app_type": .string("spa"),
                                                                   "callbacks": .array([.string("https://app.test/cb")])]))
        let web = try await harness.tenant.clients.create(.object(["name": .string("web"), "app_type": .string("regular_web"),
                                                                   "grant_types": .array([.string("authorization_code")])]))
        @Sendable func fill(_ text: String) -> String {
            text.replacingOccurrences(of: "$websecret", with: web.clientSecret!).replacingOccurrences(of: "$web", with: web.clientID)
                .replacingOccurrences(of: "$m2m", with: m2m.clientID).replacingOccurrences(of: "$secret", with: m2m.clientSecret!)
                .replacingOccurrences(of: "$spa", with: spa.clientID).replacingOccurrences(of: "$api", with: api)
        }
        try await harness.test { http in
            let body = rule.body ?? rule.fields.map { "\($0.key)=\(fill($0.value).pathEscaped)" }.sorted().joined(separator: "&")
            var headers: HTTPFields = [:]
            if let basic = rule.basic {
                headers[.authorization] = basic == "%%%" ? "Basic %%%" : "Basic " + Data(fill(basic).utf8).base64EncodedString()
            }
            let response = try await http.request(.post, "/oauth/token", body: body, contentType: rule.contentType, headers: headers)
            #expect(response.status == rule.status, "\(response.text)")
            #expect(response["error"] == .string(rule.error), "\(response.text)")
            #expect(response["error_description"]?.stringValue?.isEmpty == false)
            #expect(response["access_token"] == nil)
            if rule.status == .unauthorized { #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true) }
        }
    }
}

@Suite struct ManagementScopeRulesTests {
    /// Which scopes open which call: any one of the listed scopes is enough, and nothing else is.
    static let rules: [(HTTPRequest.Method, String, [ManagementScope])] = [
        (.get, "/api/v2/users", [.readUsers]),
        (.post, "/api/v2/users", [.createUsers]),
        (.patch, "/api/v2/users/auth0%7Cx", [.updateUsers, .updateUsersAppMetadata]),
        (.delete, "/api/v2/users/auth0%7Cx", [.deleteUsers]),
        (.get, "/api/v2/clients", [.readClients]),
        (.get, "/api/v2/resource-servers", [.readResourceServers]),
        (.get, "/api/v2/client-grants", [.readClientGrants]),
        (.get, "/api/v2/roles", [.readRoles]),
        (.get, "/api/v2/keys/signing", [.readSigningKeys]),
        (.get, "/api/v2/actions/actions", [.readActions]),
    ]

    @Test(arguments: StoreKind.available)
    func eachCallNeedsOneOfItsScopes(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        try await harness.test { http in
            for (method, path, needed) in Self.rules {
                let others = ManagementScope.allCases.filter { !needed.contains($0) }.map(\.rawValue)
                let without = try await http.managementToken(scopes: others)
                let refused = try await http.request(method, path, token: without, json: .object([:]))
                #expect(refused.status == .forbidden && refused["errorCode"] == .string("insufficient_scope"), "\(path): \(refused.text)")
                #expect(refused["message"] == .string("Insufficient scope, expected any of: " + needed.map(\.rawValue).joined(separator: ",")))
                for scope in needed {
                    let with = try await http.managementToken(scopes: [scope.rawValue])
                    let allowed = try await http.request(method, path, token: with, json: .object([:]))
                    #expect(allowed.status != .forbidden && allowed.status != .unauthorized, "\(method) \(path) with \(scope.rawValue): \(allowed.text)")
                }
            }
            let anonymous = try await http.request(.get, "/api/v2/users")
            #expect(anonymous.status == .unauthorized && anonymous["statusCode"] == .number(401))

            // `update:users_app_metadata` alone changes the metadata and nothing else.
            let admin = try await http.managementToken()
            let user = try await http.request(.post, "/api/v2/users", token: admin, json: newUserBody())
            let userID = try #require(user["user_id"]?.stringValue, "\(user.text)")
            let metadataOnly = try await http.managementToken(scopes: [ManagementScope.updateUsersAppMetadata.rawValue])
            let path = "/api/v2/users/\(userID.pathEscaped)"
            let metadata = try await http.request(.patch, path, token: metadataOnly, json: .object(["app_metadata": .object(["plan": .string("pro")])]))
            #expect(metadata.status == .ok, "\(metadata.text)")
            for body: JSONValue in [.object(["blocked": .bool(true)]), .object(["email": .string("x@example.com"), "app_metadata": .object([:])])] {
                let refused = try await http.request(.patch, path, token: metadataOnly, json: body)
                #expect(refused.status == .forbidden && refused["errorCode"] == .string("insufficient_scope"), "\(refused.text)")
            }
            #expect(try await http.request(.get, path, token: admin)["blocked"] != .bool(true))
        }
    }
}
