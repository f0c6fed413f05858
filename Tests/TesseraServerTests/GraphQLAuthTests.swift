import Crypto
import Foundation
import GraphQLEngine
import HTTPTypes
import Testing
import TesseraCore

/// JWT mode, roles and select permissions, on SQLite and PostgreSQL: what seed 004's `user` role may read.
@Suite struct GraphQLAuthTests {
    static let key = "graphql-auth-test-hs256-key-0123456789abcdef"
    static let settings: JWTSettings = {
        var settings = try! JWTSettings(json: ["type": "HS256", "key": .string(key), "audience": "https://graphql.example/",
                                              "issuer": "https://issuer.example/"])
        settings.allowedSkew = 0
        return settings
    }()

    static let setupSQL = """
        CREATE TABLE "users" ("userId" text PRIMARY KEY, "userName" text, "secret" text);
        CREATE TABLE "posts" ("id" INTEGER PRIMARY KEY, "userId" text REFERENCES "users"("userId"), "body" text, "org" INTEGER);
        INSERT INTO "users" VALUES ('u1', 'Ann', 's1'), ('u2', 'Bob', 's2');
        INSERT INTO "posts" VALUES (1, 'u1', 'a', 7), (2, 'u1', 'b', 8), (3, 'u2', 'c', 7), (4, 'u1', 'd', 7);
        """

    static let metadata: JSONValue = ["version": 3, "sources": [["name": "default", "kind": "postgres", "tables": [
        ["table": ["schema": "public", "name": "users"],
         "array_relationships": [["name": "posts", "using": ["foreign_key_constraint_on": ["table": "posts", "column": "userId"]]]],
         "select_permissions": [["role": "user", "permission": [
            "columns": ["userId", "userName"], "filter": ["userId": ["_eq": "X-Hasura-User-Id"]]]],
            ["role": "anonymous", "permission": ["columns": ["userName"], "filter": [:]]]]],
        ["table": ["schema": "public", "name": "posts"],
         "object_relationships": [["name": "author", "using": ["foreign_key_constraint_on": "userId"]]],
         "select_permissions": [["role": "user", "permission": [
            "columns": "*", "filter": ["$and": [["userId": "X-Hasura-User-Id"], ["org": ["$eq": "x-hasura-org-id"]]]],
            "limit": 2, "allow_aggregations": true]]],
         "insert_permissions": [["role": "user", "permission": [
            "check": ["userId": ["_eq": "X-Hasura-User-Id"]], "set": ["org": "x-hasura-org-id"], "columns": ["id", "body", "userId"]]]],
         "update_permissions": [["role": "user", "permission": [
            "columns": ["body"], "filter": ["userId": ["_eq": "X-Hasura-User-Id"]], "check": ["body": ["_neq": ""]]]]],
         "delete_permissions": [["role": "user", "permission": ["filter": ["userId": ["_eq": "X-Hasura-User-Id"]]]]]],
    ]]]]

    static func setUp(_ http: TestHTTP) async throws {
        _ = try await http.hasura("v2/query", ["type": "run_sql", "args": ["sql": .string(setupSQL)]])
        let replaced = try await http.hasura("v1/metadata", ["type": "replace_metadata", "args": metadata])
        #expect(replaced.json == ["message": "success"], "\(replaced.text)")
    }

    /// An HS256 token, signed as any issuer would sign it.
    static func token(_ claims: [String: JSONValue], header: JSONValue = ["alg": "HS256", "typ": "JWT"], key: String = key) -> String {
        func encode(_ value: JSONValue) -> String {
            Data(value.jsonText().utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let input = encode(header) + "." + encode(.object(claims))
        let signature = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(key.utf8)))
        return input + "." + Data(signature).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func claims(user: String = "u1", roles: JSONValue = ["user"], extra: [String: JSONValue] = ["x-hasura-org-id": "7"],
                       expires: TimeInterval = 600) -> [String: JSONValue] {
        var namespace: [String: JSONValue] = ["x-hasura-default-role": "user", "x-hasura-allowed-roles": roles, "x-hasura-user-id": .string(user)]
        namespace.merge(extra) { $1 }
        return ["sub": .string(user), "aud": "https://graphql.example/", "iss": "https://issuer.example/",
                "exp": .number((Date().timeIntervalSince1970 + expires).rounded()), "https://hasura.io/jwt/claims": .object(namespace)]
    }

    static func query(_ http: TestHTTP, _ query: String, token: String?, headers extra: HTTPFields = [:]) async throws -> JSONValue {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        let response = try await http.request(.post, "/v1/graphql", json: ["query": .string(query)], headers: headers)
        #expect(response.status == .ok, "\(response.text)")
        return response.json
    }

    @Test(arguments: StoreKind.available)
    func aUserReadsOnlyTheirRows(_ kind: StoreKind) async throws {
        try await Harness.make(kind, graphql: true, graphQLJWT: Self.settings).test { http in
            try await Self.setUp(http)
            let token = Self.token(Self.claims())
            #expect(try await Self.query(http, "{ users { userId userName } }", token: token) ==
                    ["data": ["users": [["userId": "u1", "userName": "Ann"]]]])
            #expect(try await Self.query(http, #"{ me: users_by_pk(userId: "u1") { userName } other: users_by_pk(userId: "u2") { userName } }"#, token: token) ==
                    ["data": ["me": ["userName": "Ann"], "other": .null]])
            // Through relationships, the remote table's permission holds too: posts of u1 in org 7, at most 2.
            #expect(try await Self.query(http, "{ users { posts(order_by: {id: asc}) { id author { userId } } } }", token: token) ==
                    ["data": ["users": [["posts": [["id": 1, "author": ["userId": "u1"]], ["id": 4, "author": ["userId": "u1"]]]]]]])
            #expect(try await Self.query(http, "{ posts(order_by: {id: desc}, limit: 10) { id } }", token: token) ==
                    ["data": ["posts": [["id": 4], ["id": 1]]]])
            #expect(try await Self.query(http, "{ posts_aggregate { aggregate { count } } }", token: token) ==
                    ["data": ["posts_aggregate": ["aggregate": ["count": 2]]]])
            // Filters cannot reach rows the permission hides, even through a relationship.
            #expect(try await Self.query(http, #"{ posts(where: {author: {userId: {_eq: "u2"}}}) { id } }"#, token: token) ==
                    ["data": ["posts": []]])
            // What the role may not use does not exist for it.
            #expect(try await Self.query(http, "{ users { secret } }", token: token) ==
                    Self.error("field 'secret' not found in type: 'users'", "validation-failed", "$.selectionSet.users.selectionSet.secret"))
            #expect(try await Self.query(http, "{ users_aggregate { aggregate { count } } }", token: token) ==
                    Self.error("field 'users_aggregate' not found in type: 'query_root'", "validation-failed", "$.selectionSet.users_aggregate"))
            #expect(try await Self.query(http, #"mutation { delete_users(where: {}) { affected_rows } }"#, token: token) ==
                    Self.error("field 'delete_users' not found in type: 'mutation_root'", "validation-failed", "$.selectionSet.delete_users"))
            let introspected = try await Self.query(http, #"{ __type(name: "users") { fields { name } } }"#, token: token)
            let names = introspected.objectValue?["data"]?.objectValue?["__type"]?.objectValue?["fields"]?.arrayValue?
                .compactMap { $0.objectValue?["name"]?.stringValue }
            #expect(Set(names ?? []) == ["userId", "userName", "posts", "posts_aggregate"])
            // A session variable the filter needs but the token lacks.
            let noOrg = Self.token(Self.claims(extra: [:]))
            #expect(try await Self.query(http, "{ posts { id } }", token: noOrg) ==
                    Self.error("missing session variables: \"x-hasura-org-id\"", "not-found", "$"))
            // The admin secret still reads everything, and may act as a role.
            let asAdmin = try await http.graphql("{ users_aggregate { aggregate { count } } }")
            #expect(asAdmin == ["data": ["users_aggregate": ["aggregate": ["count": 2]]]])
            let asUser = try await http.request(.post, "/v1/graphql", json: ["query": "{ users { userId } }"],
                                                headers: [.init("x-hasura-admin-secret")!: Harness.graphQLAdminSecret, .init("x-hasura-role")!: "user",
                                                          .init("x-hasura-user-id")!: "u2"])
            #expect(asUser.json == ["data": ["users": [["userId": "u2"]]]])
        }
    }

    @Test(arguments: StoreKind.available)
    func writesFollowTheRolesPermissions(_ kind: StoreKind) async throws {
        try await Harness.make(kind, graphql: true, graphQLJWT: Self.settings).test { http in
            try await Self.setUp(http)
            let token = Self.token(Self.claims())
            // Insert: the check holds for the user's own rows; `org` is preset from the session, not from the request.
            #expect(try await Self.query(http, #"mutation { insert_posts_one(object: {id: 10, body: "mine", userId: "u1"}) { id body org } }"#, token: token) ==
                    ["data": ["insert_posts_one": ["id": 10, "body": "mine", "org": 7]]])
            #expect(try await Self.query(http, #"mutation { insert_posts_one(object: {id: 11, body: "theirs", userId: "u2"}) { id } }"#, token: token) ==
                    Self.error("check constraint of an insert/update permission has failed", "permission-error", "$"))
            #expect(try await Self.query(http, #"mutation { insert_posts_one(object: {id: 12, org: 8, userId: "u1"}) { id } }"#, token: token) ==
                    Self.error("field 'org' not found in type: 'posts_insert_input'", "validation-failed", "$.selectionSet.insert_posts_one.args.object.org"))
            // Update: only the permitted column, only the user's rows, and the check afterwards.
            #expect(try await Self.query(http, #"mutation { update_posts(where: {}, _set: {body: "edited"}) { affected_rows } }"#, token: token) ==
                    ["data": ["update_posts": ["affected_rows": 4]]])
            #expect(try await Self.query(http, #"mutation { update_posts_by_pk(pk_columns: {id: 3}, _set: {body: "x"}) { id } }"#, token: token) ==
                    ["data": ["update_posts_by_pk": .null]])
            #expect(try await Self.query(http, #"mutation { update_posts(where: {id: {_eq: 1}}, _set: {body: ""}) { affected_rows } }"#, token: token) ==
                    Self.error("check constraint of an insert/update permission has failed", "permission-error", "$"))
            #expect(try await Self.query(http, #"mutation { update_posts(where: {}, _set: {userId: "u2"}) { affected_rows } }"#, token: token) ==
                    Self.error("field 'userId' not found in type: 'posts_set_input'", "validation-failed", "$.selectionSet.update_posts.args._set.userId"))
            // Upsert where the role may update.
            #expect(try await Self.query(http, #"mutation { insert_posts_one(object: {id: 10, body: "again", userId: "u1"}, on_conflict: {constraint: posts_pkey, update_columns: [body]}) { body } }"#, token: token) ==
                    ["data": ["insert_posts_one": ["body": "again"]]])
            // Delete: only the user's rows.
            #expect(try await Self.query(http, #"mutation { delete_posts(where: {id: {_in: [3, 4]}}) { affected_rows } }"#, token: token) ==
                    ["data": ["delete_posts": ["affected_rows": 1]]])
            // Nothing the refusals tried was written.
            let rows = try await http.graphql("{ posts(order_by: {id: asc}) { id userId body org } }")
            #expect(rows == ["data": ["posts": [["id": 1, "userId": "u1", "body": "edited", "org": 7], ["id": 2, "userId": "u1", "body": "edited", "org": 8],
                                                ["id": 3, "userId": "u2", "body": "c", "org": 7], ["id": 10, "userId": "u1", "body": "again", "org": 7]]]])
        }
    }

    @Test func permissionsThroughTheMetadataAPI() async throws {
        try await Harness.make(graphql: true, graphQLJWT: Self.settings).test { http in
            try await Self.setUp(http)
            let token = Self.token(Self.claims())
            let dropped = try await http.hasura("v1/metadata", ["type": "pg_drop_select_permission", "args": ["table": "users", "role": "user"]])
            #expect(dropped.json == ["message": "success"], "\(dropped.text)")
            #expect(try await Self.query(http, "{ users { userId } }", token: token) ==
                    Self.error("field 'users' not found in type: 'query_root'", "validation-failed", "$.selectionSet.users"))
            let created = try await http.hasura("v1/metadata", ["type": "pg_create_select_permission", "args": [
                "source": "default", "table": "users", "role": "user",
                "permission": ["columns": "*", "filter": ["userId": ["_eq": "X-Hasura-User-Id"]]]]])
            #expect(created.json == ["message": "success"], "\(created.text)")
            #expect(try await Self.query(http, "{ users { userId secret } }", token: token) ==
                    ["data": ["users": [["userId": "u1", "secret": "s1"]]]])
            let twice = try await http.hasura("v1/metadata", ["type": "pg_create_select_permission", "args": [
                "table": "users", "role": "user", "permission": ["columns": "*", "filter": [:]]]])
            #expect(twice.status == .badRequest && twice["code"] == "already-exists")
            let admin = try await http.hasura("v1/metadata", ["type": "pg_create_insert_permission", "args": [
                "table": "users", "role": "admin", "permission": ["check": [:]]]])
            #expect(admin.status == .badRequest)
        }
    }

    @Test func tokensAreRefusedInHasurasWords() async throws {
        try await Harness.make(graphql: true, graphQLJWT: Self.settings).test { http in
            try await Self.setUp(http)
            let query = "{ users { userId } }"
            let cases: [(String?, HTTPFields, JSONValue)] = [
                (nil, [:], Self.error("Missing 'Authorization' or 'Cookie' header in JWT authentication mode", "invalid-headers", "$")),
                (nil, [.authorization: "Token abc"], Self.error("Malformed Authorization header", "invalid-headers", "$")),
                (Self.token(Self.claims(expires: -60)), [:], Self.error("Could not verify JWT: JWTExpired", "invalid-jwt", "$")),
                (Self.token(Self.claims(), key: String(repeating: "w", count: 48)), [:],
                 Self.error("Could not verify JWT: JWSError JWSInvalidSignature", "invalid-jwt", "$")),
                (Self.token(Self.claims(), header: ["alg": "none"]), [:], Self.error("Could not verify JWT: JWSError JWSInvalidSignature", "invalid-jwt", "$")),
                (Self.token(Self.claims().merging(["aud": "https://other.example/"]) { $1 }), [:],
                 Self.error("Could not verify JWT: JWTNotInAudience", "invalid-jwt", "$")),
                (Self.token(Self.claims().merging(["iss": "https://evil.example/"]) { $1 }), [:],
                 Self.error("Could not verify JWT: JWTNotInIssuer", "invalid-jwt", "$")),
                (Self.token(Self.claims().filter { $0.key != "https://hasura.io/jwt/claims" }), [:],
                 Self.error("claims key: 'https://hasura.io/jwt/claims' not found", "jwt-invalid-claims", "$")),
                (Self.token(Self.claims(roles: "user")), [:],
                 Self.error("invalid x-hasura-allowed-roles; should be a list of roles: parsing [] failed, expected Array, but encountered String", "jwt-invalid-claims", "$")),
                (Self.token(Self.claims(), header: ["alg": "HS256"]), [.init("x-hasura-role")!: "editor"],
                 Self.error("Your requested role is not in allowed roles", "access-denied", "$")),
                ("not.a.jwt", [:], Self.error("Could not verify JWT: JWSError JWSInvalidSignature", "invalid-jwt", "$")),
            ]
            for (token, headers, expected) in cases {
                #expect(try await Self.query(http, query, token: token, headers: headers) == expected, "\(String(describing: token)) \(headers)")
            }
            var noAllowed = Self.claims()
            noAllowed["https://hasura.io/jwt/claims"] = ["x-hasura-default-role": "user", "x-hasura-user-id": "u1"]
            #expect(try await Self.query(http, query, token: Self.token(noAllowed)) ==
                    Self.error("JWT claim does not contain x-hasura-allowed-roles", "jwt-missing-role-claims", "$"))
        }
    }

    @Test func unauthorizedRoleAndOtherTokenLocations() async throws {
        var settings = Self.settings
        settings.location = .cookie("hasura_token")
        try await Harness.make(graphql: true, graphQLJWT: settings, graphQLUnauthorizedRole: "anonymous").test { http in
            try await Self.setUp(http)
            #expect(try await Self.query(http, "{ users(order_by: {userName: asc}) { userName } }", token: nil) ==
                    ["data": ["users": [["userName": "Ann"], ["userName": "Bob"]]]])
            let cookie = try await http.request(.post, "/v1/graphql", json: ["query": "{ users { userId } }"],
                                                headers: [.cookie: "other=1; hasura_token=\(Self.token(Self.claims(user: "u2")))"])
            #expect(cookie.json == ["data": ["users": [["userId": "u2"]]]])
        }
    }

    /// Beyond Hasura: a claim holding a JSON array (or a number) is usable with `_in`/`_nin` as it is; Hasura's own
    /// form, a PostgreSQL array literal in a header or string claim, works too.
    @Test(arguments: StoreKind.available)
    func sessionListsFilterWithInAndNin(_ kind: StoreKind) async throws {
        try await Harness.make(kind, graphql: true, graphQLJWT: Self.settings).test { http in
            try await Self.setUp(http)
            for (role, op) in [("reader", "_in"), ("outsider", "_nin")] {
                let created = try await http.hasura("v1/metadata", ["type": "pg_create_select_permission", "args": [
                    "table": "posts", "role": .string(role),
                    "permission": ["columns": ["id"], "filter": ["id": .object([op: "X-Hasura-Post-Ids"])]]]])
                #expect(created.json == ["message": "success"], "\(created.text)")
            }
            func posts(role: String, ids: JSONValue) async throws -> JSONValue {
                let token = Self.token(Self.claims(roles: ["reader", "outsider"], extra: ["x-hasura-post-ids": ids]))
                return try await Self.query(http, "{ posts(order_by: {id: asc}) { id } }", token: token,
                                            headers: [.init("x-hasura-role")!: role])
            }
            func rows(_ ids: [Int]) -> JSONValue { ["data": ["posts": .array(ids.map { ["id": .number(Double($0))] })]] }
            #expect(try await posts(role: "reader", ids: [1, 3]) == rows([1, 3]))
            #expect(try await posts(role: "reader", ids: ["2", "4", "99"]) == rows([2, 4]))
            #expect(try await posts(role: "reader", ids: 3) == rows([3]))
            #expect(try await posts(role: "reader", ids: []) == rows([]))
            #expect(try await posts(role: "reader", ids: "{1, 4}") == rows([1, 4]))
            #expect(try await posts(role: "outsider", ids: [1, 3]) == rows([2, 4]))
            #expect(try await posts(role: "outsider", ids: "{}") == rows([1, 2, 3, 4]))
            let bad = try await posts(role: "reader", ids: ["x"])
            #expect(bad == Self.error("expected a 32-bit integer for type 'Int', but found a string", "validation-failed", "$.session.x-hasura-post-ids"), "\(bad)")
            #expect(try await posts(role: "reader", ids: "{1,") ==
                    Self.error("session variable \"x-hasura-post-ids\": malformed array literal: {1,", "parse-failed", "$"))
            // Hasura's header form, through the admin secret acting as the role.
            let header = try await http.request(.post, "/v1/graphql", json: ["query": "{ posts(order_by: {id: asc}) { id } }"],
                                                headers: [.init("x-hasura-admin-secret")!: Harness.graphQLAdminSecret,
                                                          .init("x-hasura-role")!: "reader", .init("X-Hasura-Post-Ids")!: "{\"2\",3}"])
            #expect(header.json == rows([2, 3]))
        }
    }

    /// `backend_only` write permissions: only the admin secret with `x-hasura-use-backend-only-permissions: true`
    /// gets them, and then not the role's other write permissions (Hasura's backend schema); a token never does.
    @Test func backendOnlyPermissionsNeedTheAdminSecretAndTheHeader() async throws {
        try await Harness.make(graphql: true, graphQLJWT: Self.settings).test { http in
            try await Self.setUp(http)
            for (role, backendOnly) in [("service", true), ("editor", false)] {
                let created = try await http.hasura("v1/metadata", ["type": "pg_create_insert_permission", "args": [
                    "table": "users", "role": .string(role),
                    "permission": ["check": [:], "columns": "*", "backend_only": .bool(backendOnly)]]])
                #expect(created.json == ["message": "success"], "\(created.text)")
            }
            let insert = #"mutation { insert_users(objects: [{userId: "u9", userName: "Zed"}]) { affected_rows } }"#
            func run(role: String, backend: String?) async throws -> JSONValue {
                var headers: HTTPFields = [.init("x-hasura-admin-secret")!: Harness.graphQLAdminSecret, .init("x-hasura-role")!: role]
                if let backend { headers[.init("X-Hasura-Use-Backend-Only-Permissions")!] = backend }
                return try await http.request(.post, "/v1/graphql", json: ["query": .string(insert)], headers: headers).json
            }
            #expect(try await run(role: "service", backend: nil) == Self.error("no mutations exist", "validation-failed", "$"))
            #expect(try await run(role: "service", backend: "no") == Self.error("no mutations exist", "validation-failed", "$"))
            #expect(try await run(role: "service", backend: "TRUE") == ["data": ["insert_users": ["affected_rows": 1]]])
            #expect(try await run(role: "editor", backend: "y") == Self.error("no mutations exist", "validation-failed", "$"))
            #expect(try await run(role: "service", backend: "maybe") == Self.error(
                #"x-hasura-use-backend-only-permissions:  Not a valid boolean text. True values are ["true","t","yes","y"] and  False values are ["false","f","no","n"]. All values are case insensitive"#,
                "bad-request", "$"))
            // A token's role never gets backend-only permissions, whatever it sends.
            let token = Self.token(Self.claims(roles: ["service"], extra: ["x-hasura-default-role": "service"]))
            #expect(try await Self.query(http, insert, token: token, headers: [.init("x-hasura-use-backend-only-permissions")!: "true"]) ==
                    Self.error("no mutations exist", "validation-failed", "$"))
        }
    }

    /// A role may insert into a table it cannot select (Hasura's `affected_rows`-only mutation), and a permission may
    /// require that some row of another table exists (`_exists`).
    @Test(arguments: StoreKind.available)
    func insertWithoutSelectAndExists(_ kind: StoreKind) async throws {
        try await Harness.make(kind, graphql: true, graphQLJWT: Self.settings).test { http in
            try await Self.setUp(http)
            let created = try await http.hasura("v1/metadata", ["type": "pg_create_insert_permission", "args": [
                "table": "posts", "role": "guest", "permission": ["columns": ["id", "body"], "set": ["userId": "X-Hasura-User-Id"],
                    "check": ["_exists": ["_table": ["schema": "public", "name": "users"], "_where": ["userId": "X-Hasura-User-Id", "userName": ["$eq": "Bob"]]]]]]])
            #expect(created.json == ["message": "success"], "\(created.text)")
            func guest(_ user: String, _ query: String) async throws -> JSONValue {
                try await Self.query(http, query, token: Self.token(Self.claims(user: user, roles: ["guest"], extra: ["x-hasura-default-role": "guest"])))
            }
            let insert = #"mutation { insert_posts(objects: [{id: 20, body: "hi"}]) { affected_rows } }"#
            #expect(try await guest("u2", insert) == ["data": ["insert_posts": ["affected_rows": 1]]])
            #expect(try await guest("u1", #"mutation { insert_posts(objects: [{id: 21, body: "x"}]) { affected_rows } }"#) ==
                    Self.error("check constraint of an insert/update permission has failed", "permission-error", "$"))
            #expect(try await guest("u2", #"mutation { insert_posts(objects: [{id: 22}]) { returning { id } } }"#) ==
                    Self.error("field 'returning' not found in type: 'posts_mutation_response'", "validation-failed",
                               "$.selectionSet.insert_posts.selectionSet.returning"))
            #expect(try await guest("u2", #"mutation { insert_posts_one(object: {id: 23}) { id } }"#) ==
                    Self.error("field 'insert_posts_one' not found in type: 'mutation_root'", "validation-failed", "$.selectionSet.insert_posts_one"))
            #expect(try await guest("u2", "{ posts { id } }") ==
                    Self.error("field 'posts' not found in type: 'query_root'", "validation-failed", "$.selectionSet.posts"))
            let written = try await http.graphql("{ posts_by_pk(id: 20) { userId body } }")
            #expect(written == ["data": ["posts_by_pk": ["userId": "u2", "body": "hi"]]])
        }
    }

    @Test func jwtSettingsAreCheckedAtStart() throws {
        #expect(throws: DomainError.self) { try JWTSettings(json: ["type": "HS256", "key": "short"]) }
        #expect(throws: DomainError.self) { try JWTSettings(json: ["type": "RS256"]) }
        #expect(throws: DomainError.self) { try JWTSettings(json: ["type": "HS256", "key": .string(Self.key), "jwk_url": "https://x/"]) }
        #expect(throws: DomainError.self) { try JWTSettings(json: ["type": "XS256", "key": .string(Self.key)]) }
        let mapped = try JWTSettings(jsonText: #"{"jwk_url":"https://issuer.example/.well-known/jwks.json","claims_map":{"x-hasura-allowed-roles":{"path":"$.roles"},"x-hasura-default-role":"user","x-hasura-user-id":{"path":"$.sub"}},"header":{"type":"CustomHeader","name":"X-Token"}}"#)
        #expect(mapped.location == .customHeader("x-token"))
        #expect(mapped.claimsMap?["x-hasura-user-id"] == .path("$.sub", fallback: nil))
        // Hasura's own claims_map examples put a dot before the bracket; a path that names nothing is refused.
        let hasuraStyle = try JWTSettings(jsonText: #"{"type":"HS256","key":"\#(Self.key)","claims_map":{"x-hasura-allowed-roles":{"path":"$.['https://myapp.com/jwt/claims'].role.allowed"},"x-hasura-default-role":"user","x-hasura-user-id":{"path":"$.['https://myapp.com/jwt/claims'].user.id"}}}"#)
        #expect(hasuraStyle.claimsMap?["x-hasura-user-id"] != nil)
        #expect(throws: DomainError.self) { try JWTSettings(jsonText: #"{"type":"HS256","key":"\#(Self.key)","claims_map":{"x-hasura-allowed-roles":["user"],"x-hasura-default-role":"user","x-hasura-user-id":{"path":"$..id"}}}"#) }
    }

    static func error(_ message: String, _ code: String, _ path: String) -> JSONValue {
        ["errors": [["message": .string(message), "extensions": ["path": .string(path), "code": .string(code)]]]]
    }
}
