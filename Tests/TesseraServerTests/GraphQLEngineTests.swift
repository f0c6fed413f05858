import Foundation
import GraphQLEngine
import HTTPTypes
import Testing
import TesseraCore

/// Hasura's HTTP API served by Tessera's GraphQL engine, in process, on SQLite and PostgreSQL.
@Suite struct GraphQLEngineTests {
    static let setupSQL = """
        CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, email TEXT);
        CREATE TABLE article (id INTEGER PRIMARY KEY, title TEXT NOT NULL, rating INTEGER,
                              published BOOLEAN NOT NULL DEFAULT false, author_id INTEGER REFERENCES author(id));
        INSERT INTO author (id, name, email) VALUES (1, 'Ann', 'ann@example.com'), (2, 'Bob', NULL), (3, 'Cy', 'cy@example.com');
        INSERT INTO article (id, title, rating, published, author_id) VALUES
            (1, 'First', 5, true, 1), (2, 'Second', 3, false, 1), (3, 'Third', NULL, true, 2);
        """

    /// The tables above, tracked, with `article.author` and `author.articles`.
    static func setUp(_ http: TestHTTP) async throws {
        let created = try await http.hasura("v2/query", ["type": "run_sql", "args": ["sql": .string(setupSQL)]])
        #expect(created.status == .ok, "\(created.text)")
        let tracked = try await http.hasura("v1/metadata", ["type": "bulk", "args": [
            ["type": "pg_track_table", "args": ["source": "default", "table": ["schema": "public", "name": "author"]]],
            ["type": "pg_track_table", "args": ["table": "article"]],
            ["type": "pg_create_object_relationship", "args": ["table": "article", "name": "author",
                                                              "using": ["foreign_key_constraint_on": "author_id"]]],
            ["type": "pg_create_array_relationship", "args": ["table": "author", "name": "articles",
                                                             "using": ["foreign_key_constraint_on": ["table": "article", "column": "author_id"]]]],
        ]])
        #expect(tracked.status == .ok && tracked["message"] == .array([.object(["message": "success"])]) || tracked["message"] == "success",
                "\(tracked.text)")
    }

    @Test(arguments: StoreKind.available)
    func adminSecretGuardsEveryEndpoint(_ kind: StoreKind) async throws {
        try await Harness.make(kind, graphql: true).test { http in
            let version = try await http.request(.get, "/v1/version")
            #expect(version.json == ["version": "v2.48.0", "server_type": "ce"])
            let query: JSONValue = ["query": "{ __typename }"]
            let missing = try await http.request(.post, "/v1/graphql", json: query)
            #expect(missing.status == .ok)
            #expect(missing.json == Self.error("x-hasura-admin-secret/x-hasura-access-key required, but not found", code: "access-denied", path: "$"))
            let wrong = try await http.request(.post, "/v1/graphql", json: query, headers: [.init("x-hasura-admin-secret")!: "nope"])
            #expect(wrong.json == Self.error("invalid x-hasura-admin-secret/x-hasura-access-key", code: "access-denied", path: "$"))
            let oldHeader = try await http.request(.post, "/v1/graphql", json: query,
                                                   headers: [.init("x-hasura-access-key")!: Harness.graphQLAdminSecret])
            #expect(oldHeader.json == ["data": ["__typename": "query_root"]])
            let metadata = try await http.request(.post, "/v1/metadata", json: ["type": "export_metadata", "args": [:]])
            #expect(metadata.status == .unauthorized)
            #expect(metadata.json == ["path": "$", "error": "x-hasura-admin-secret/x-hasura-access-key required, but not found", "code": "access-denied"])
            let sql = try await http.request(.post, "/v2/query", json: ["type": "run_sql", "args": ["sql": "SELECT 1"]],
                                             headers: [.init("x-hasura-admin-secret")!: "nope"])
            #expect(sql.status == .unauthorized && sql["code"] == "access-denied")
        }
    }

    @Test(arguments: StoreKind.available)
    func queriesAnswerAsHasuraDoes(_ kind: StoreKind) async throws {
        try await Harness.make(kind, graphql: true).test { http in
            try await Self.setUp(http)
            let rows = try await http.graphql("""
                { author(order_by: {id: asc}) { id name email } author_by_pk(id: 2) { name __typename } missing: author_by_pk(id: 9) { name } }
                """)
            #expect(rows == ["data": [
                "author": [["id": 1, "name": "Ann", "email": "ann@example.com"], ["id": 2, "name": "Bob", "email": .null],
                           ["id": 3, "name": "Cy", "email": "cy@example.com"]],
                "author_by_pk": ["name": "Bob", "__typename": "author"], "missing": .null,
            ]])
            let filtered = try await http.graphql("""
                { a: author(where: {_or: [{name: {_like: "A%"}}, {email: {_is_null: true}}]}, order_by: {name: desc}) { name }
                  b: author(where: {name: {_ilike: "c%"}, _not: {id: {_in: [1, 2]}}}) { name }
                  c: author(where: {name: {_nin: ["Ann"]}, id: {_gte: 2, _lt: 3}}) { name }
                  d: author(where: {name: {_nlike: "%n%", _neq: "Cy"}}) { name }
                  e: article(where: {author: {name: {_eq: "Bob"}}}) { title }
                  f: author(where: {articles: {rating: {_gt: 4}}}) { name }
                  g: author(where: {name: {_like: "a%"}}) { name } }
                """)
            #expect(filtered == ["data": [
                "a": [["name": "Bob"], ["name": "Ann"]], "b": [["name": "Cy"]], "c": [["name": "Bob"]], "d": [["name": "Bob"]],
                "e": [["title": "Third"]], "f": [["name": "Ann"]], "g": [],
            ]])
            let ordered = try await http.graphql("""
                { byRating: article(order_by: [{rating: desc_nulls_last}, {id: asc}]) { id }
                  nullsFirst: article(order_by: {rating: asc_nulls_first}) { id }
                  byAuthor: article(order_by: {author: {name: desc}, id: desc}, limit: 2, offset: 1) { id }
                  byCount: author(order_by: {articles_aggregate: {count: desc}, id: asc}) { id }
                  distinct: article(distinct_on: author_id, order_by: [{author_id: asc}, {rating: asc}]) { id } }
                """)
            #expect(ordered == ["data": [
                "byRating": [["id": 1], ["id": 2], ["id": 3]], "nullsFirst": [["id": 3], ["id": 2], ["id": 1]],
                "byAuthor": [["id": 2], ["id": 1]], "byCount": [["id": 1], ["id": 2], ["id": 3]],
                "distinct": [["id": 2], ["id": 3]],
            ]])
            let nested = try await http.graphql("""
                query Nested($published: Boolean!) {
                  author(where: {id: {_eq: 1}}) {
                    ...names
                    articles(where: {published: {_eq: $published}}, order_by: {id: asc}) { title author { name } }
                    articles_aggregate { aggregate { count sum { rating } max { rating title } min { rating } } nodes { id } }
                    skipped: email @skip(if: true)
                    kept: email @include(if: true)
                  }
                  article_aggregate(where: {rating: {_is_null: false}}) { aggregate { count(columns: rating, distinct: true) avg { rating } } }
                }
                fragment names on author { id name }
                """, variables: ["published": true])
            #expect(nested == ["data": [
                "author": [[
                    "id": 1, "name": "Ann", "articles": [["title": "First", "author": ["name": "Ann"]]],
                    "articles_aggregate": ["aggregate": ["count": 2, "sum": ["rating": 8], "max": ["rating": 5, "title": "Second"],
                                                         "min": ["rating": 3]], "nodes": [["id": 1], ["id": 2]]],
                    "kept": "ann@example.com",
                ]],
                "article_aggregate": ["aggregate": ["count": 2, "avg": ["rating": 4]]],
            ]])
            // Another role, through the admin secret, sees only what permissions give it: nothing yet.
            let asUser = try await http.request(.post, "/v1/graphql", json: ["query": "{ author { id } }"],
                                                headers: [.init("x-hasura-admin-secret")!: Harness.graphQLAdminSecret, .init("x-hasura-role")!: "user"])
            #expect(asUser.json == Self.error("field 'author' not found in type: 'query_root'", code: "validation-failed", path: "$.selectionSet.author"))
            // A GET with the query in the URL, as GraphiQL's history links send it.
            let get = try await http.request(.get, "/v1/graphql?query=\("{ author_by_pk(id: 3) { name } }".pathEscaped)",
                                             headers: [.init("x-hasura-admin-secret")!: Harness.graphQLAdminSecret])
            #expect(get.json == ["data": ["author_by_pk": ["name": "Cy"]]])
            // A batch answers an array, each operation on its own.
            let batch = try await http.request(.post, "/v1/graphql", json: [["query": "{ author_by_pk(id: 1) { name } }"], ["query": "{ nope }"]],
                                               headers: [.init("x-hasura-admin-secret")!: Harness.graphQLAdminSecret])
            #expect(batch.json == [["data": ["author_by_pk": ["name": "Ann"]]],
                                   Self.error("field 'nope' not found in type: 'query_root'", code: "validation-failed", path: "$.selectionSet.nope")])
        }
    }

    @Test(arguments: StoreKind.available)
    func mutationsWriteAndReturn(_ kind: StoreKind) async throws {
        try await Harness.make(kind, graphql: true).test { http in
            try await Self.setUp(http)
            let inserted = try await http.graphql("""
                mutation Add($name: String!) {
                  insert_author(objects: [{id: 4, name: $name}, {id: 5, name: "Eve", email: "eve@example.com"}]) {
                    affected_rows returning { id name articles { id } }
                  }
                  insert_author_one(object: {id: 6, name: "O'Brien; DROP TABLE author; --"}) { id name }
                }
                """, variables: ["name": "Dee"])
            #expect(inserted == ["data": [
                "insert_author": ["affected_rows": 2, "returning": [["id": 4, "name": "Dee", "articles": []],
                                                                    ["id": 5, "name": "Eve", "articles": []]]],
                "insert_author_one": ["id": 6, "name": "O'Brien; DROP TABLE author; --"],
            ]])
            let upserts = try await http.graphql("""
                mutation {
                  changed: insert_author_one(object: {id: 2, name: "Bob", email: "bob@example.com"},
                                             on_conflict: {constraint: author_pkey, update_columns: [email]}) { id email }
                  ignored: insert_author(objects: [{id: 7, name: "Ann"}], on_conflict: {constraint: author_name_key, update_columns: []}) { affected_rows }
                  filtered: insert_author_one(object: {id: 3, name: "Cy", email: "new@example.com"},
                                              on_conflict: {constraint: author_pkey, update_columns: email, where: {email: {_is_null: true}}}) { id }
                }
                """)
            #expect(upserts == ["data": ["changed": ["id": 2, "email": "bob@example.com"], "ignored": ["affected_rows": 0], "filtered": .null]])
            let updated = try await http.graphql("""
                mutation {
                  update_article(where: {author_id: {_eq: 1}}, _inc: {rating: 1}, _set: {published: true}) { affected_rows returning { id rating published } }
                  update_article_by_pk(pk_columns: {id: 3}, _set: {title: "Third, edited"}) { title }
                  update_author_many(updates: [{where: {id: {_eq: 4}}, _set: {email: "dee@example.com"}}, {where: {id: {_eq: 99}}, _set: {email: "x"}}]) { affected_rows }
                }
                """)
            #expect(updated == ["data": [
                "update_article": ["affected_rows": 2, "returning": [["id": 1, "rating": 6, "published": true], ["id": 2, "rating": 4, "published": true]]],
                "update_article_by_pk": ["title": "Third, edited"],
                "update_author_many": [["affected_rows": 1], ["affected_rows": 0]],
            ]])
            let deleted = try await http.graphql("""
                mutation { delete_article(where: {rating: {_gte: 5}}) { affected_rows returning { title author { name } } }
                           delete_author_by_pk(id: 6) { name } gone: delete_author_by_pk(id: 6) { name } }
                """)
            #expect(deleted == ["data": [
                "delete_article": ["affected_rows": 1, "returning": [["title": "First", "author": ["name": "Ann"]]]],
                "delete_author_by_pk": ["name": "O'Brien; DROP TABLE author; --"], "gone": .null,
            ]])
            let duplicate = try await http.graphql(#"mutation { insert_author_one(object: {id: 8, name: "Ann"}) { id } }"#)
            #expect(duplicate == Self.error("Uniqueness violation. duplicate key value violates unique constraint \"author_name_key\"",
                                            code: "constraint-violation", path: "$.selectionSet.insert_author_one.args.object"))
            // A failed mutation writes nothing: the first root field is rolled back with the second.
            let rolledBack = try await http.graphql(#"mutation { a: insert_author_one(object: {id: 9, name: "Zed"}) { id } b: insert_author_one(object: {id: 9, name: "Zed2"}) { id } }"#)
            #expect(rolledBack.objectValue?["errors"] != nil)
            #expect(try await http.graphql("{ author_by_pk(id: 9) { id } }") == ["data": ["author_by_pk": .null]])
            let notNull = try await http.graphql(#"mutation { insert_article_one(object: {id: 10}) { id } }"#)
            #expect(notNull.objectValue?["errors"]?.arrayValue?.first?.objectValue?["extensions"]?.objectValue?["code"] == "constraint-violation")
        }
    }

    @Test(arguments: StoreKind.available)
    func badRequestsGetHasuraErrors(_ kind: StoreKind) async throws {
        try await Harness.make(kind, graphql: true).test { http in
            try await Self.setUp(http)
            let cases: [(String, [String: JSONValue], JSONValue)] = [
                ("{ author { nope } }", [:], Self.error("field 'nope' not found in type: 'author'", code: "validation-failed", path: "$.selectionSet.author.selectionSet.nope")),
                ("{ author(whom: 1) { id } }", [:], Self.error("'author' has no argument named 'whom'", code: "validation-failed", path: "$.selectionSet.author.args.whom")),
                ("{ author(where: {nope: {_eq: 1}}) { id } }", [:], Self.error("field 'nope' not found in type: 'author_bool_exp'", code: "validation-failed", path: "$.selectionSet.author.args.where.nope")),
                ("{ author(where: {name: {_regex: \"x\"}}) { id } }", [:], Self.error("field '_regex' not found in type: 'String_comparison_exp'", code: "validation-failed", path: "$.selectionSet.author.args.where.name._regex")),
                ("{ author { id ", [:], Self.error("not a valid graphql query", code: "validation-failed", path: "$.query")),
                ("query Q($id: Int!) { author_by_pk(id: $id) { id } }", [:], Self.error("expecting a value for non-nullable variable: \"id\"", code: "validation-failed", path: "$")),
                ("{ author { id } }", ["extra": 1], Self.error("unexpected variables in variableValues: extra", code: "validation-failed", path: "$")),
                ("query Q($id: Int!) { author_by_pk(id: $id) { id } }", ["id": "one"], Self.error("expected a 32-bit integer for type 'Int', but found a string", code: "validation-failed", path: "$.selectionSet.author_by_pk.args.id")),
                ("query A { author { id } } query B { article { id } }", [:], Self.error("exactly one operation has to be present in the document when operationName is not specified", code: "validation-failed", path: "$")),
                ("subscription { author { id } }", [:], Self.error("subscriptions are not supported over HTTP; Tessera serves queries and mutations", code: "not-supported", path: "$")),
                ("{ author(limit: -1) { id } }", [:], Self.error("unexpected negative value", code: "not-supported", path: "$.selectionSet.author.args.limit")),
            ]
            for (query, variables, expected) in cases {
                #expect(try await http.graphql(query, variables: variables) == expected, "\(query)")
            }
            // Depth and size are bounded before any SQL is written.
            var deep = "id"
            for _ in 0..<30 { deep = "articles { author { \(deep) } }" }
            let tooDeep = try await http.graphql("{ author { \(deep) } }")
            #expect(tooDeep.objectValue?["errors"]?.arrayValue?.first?.objectValue?["message"]?.stringValue?.contains("maximum depth") == true)
            var fragments = "fragment f0 on author { id name }\n"
            for level in 1...12 { fragments += "fragment f\(level) on author { a: author_by_pk(id: 1) { ...f\(level - 1) } b: author_by_pk(id: 2) { ...f\(level - 1) } }\n" }
            let fanOut = try await http.graphql("{ author { ...f12 } }\n" + fragments.replacingOccurrences(of: "author_by_pk(id: 1)", with: "articles").replacingOccurrences(of: "author_by_pk(id: 2)", with: "articles"))
            #expect(fanOut.objectValue?["errors"] != nil)
            let cyclic = try await http.graphql("{ author { ...a } } fragment a on author { ...b } fragment b on author { ...a }")
            #expect(cyclic.objectValue?["errors"] != nil)
            let operation = try await http.graphql("query A { author { id } } query B { article { id } }", operationName: "C")
            #expect(operation == Self.error("no such operation found in the document: \"C\"", code: "validation-failed", path: "$"))
            // Malformed bodies: Hasura's codes, status 200, nothing of the server's internals.
            let malformed = try await http.request(.post, "/v1/graphql", body: "{not json", contentType: "application/json",
                                                   headers: [.init("x-hasura-admin-secret")!: Harness.graphQLAdminSecret])
            #expect(malformed.status == .ok && malformed.json == Self.error("invalid json", code: "invalid-json", path: "$"))
            let noQuery = try await http.request(.post, "/v1/graphql", json: ["variables": [:]],
                                                 headers: [.init("x-hasura-admin-secret")!: Harness.graphQLAdminSecret])
            #expect(noQuery.json == Self.error("the key 'query' was not found", code: "parse-failed", path: "$"))
            let huge = String(repeating: "x", count: 1 << 21)
            let tooLarge = try await http.request(.post, "/v1/graphql", json: ["query": "{ author { id } }", "variables": ["v": .string(huge)]],
                                                  headers: [.init("x-hasura-admin-secret")!: Harness.graphQLAdminSecret])
            #expect(tooLarge.status == .ok && tooLarge.json == Self.error("Request body is larger than 1048576 bytes", code: "payload-too-large", path: "$"))
            // Metacharacters in every kind of argument are values, never SQL.
            let hostile = "1' OR '1'='1\"; DROP TABLE author; --"
            let probe = try await http.graphql("""
                query($s: String!) { author(where: {name: {_eq: $s}, email: {_like: $s, _nilike: $s}}) { id }
                                     byLiteral: author(where: {name: {_in: ["\(hostile.replacingOccurrences(of: "\"", with: "\\\""))"]}}) { id } }
                """, variables: ["s": .string(hostile)])
            #expect(probe == ["data": ["author": [], "byLiteral": []]])
            #expect(try await http.graphql("{ author_aggregate { aggregate { count } } }") == ["data": ["author_aggregate": ["aggregate": ["count": 3]]]])
        }
    }

    /// Timestamps read back in ISO 8601 and compare as instants on both databases, whatever form the client wrote.
    @Test(arguments: StoreKind.available)
    func timestampsCompareAndReadAsISO8601(_ kind: StoreKind) async throws {
        try await Harness.make(kind, graphql: true).test { http in
            _ = try await http.hasura("v2/query", ["type": "run_sql", "args": ["sql": "CREATE TABLE event (id INTEGER PRIMARY KEY, at timestamp, logged timestamptz)"]])
            _ = try await http.hasura("v1/metadata", ["type": "pg_track_table", "args": ["table": "event"]])
            let inserted = try await http.graphql("""
                mutation($at: timestamp) { insert_event(objects: [{id: 1, at: $at, logged: "2024-05-01T10:00:00Z"}, {id: 2, at: "2024-05-01 08:30:00", logged: "2024-05-01T08:30:00+00:00"}]) {
                  returning { id at logged } } }
                """, variables: ["at": "2024-05-01T10:00:00"])
            #expect(inserted == ["data": ["insert_event": ["returning": [
                ["id": 1, "at": "2024-05-01T10:00:00", "logged": "2024-05-01T10:00:00+00:00"],
                ["id": 2, "at": "2024-05-01T08:30:00", "logged": "2024-05-01T08:30:00+00:00"]]]]])
            let later = try await http.graphql("""
                { event(where: {at: {_gt: "2024-05-01T09:00:00"}}) { id } event_aggregate { aggregate { max { at } } } }
                """)
            #expect(later == ["data": ["event": [["id": 1]], "event_aggregate": ["aggregate": ["max": ["at": "2024-05-01T10:00:00"]]]]])
        }
    }

    @Test(arguments: StoreKind.available)
    func introspectionLoadsTheGeneratedSchema(_ kind: StoreKind) async throws {
        try await Harness.make(kind, graphql: true).test { http in
            try await Self.setUp(http)
            let result = try await http.graphql(Self.introspectionQuery)
            let schema = try #require(result.objectValue?["data"]?.objectValue?["__schema"]?.objectValue, "\(result)")
            #expect(schema["queryType"] == ["name": "query_root"] && schema["mutationType"] == ["name": "mutation_root"])
            let types = Dictionary(uniqueKeysWithValues: (schema["types"]?.arrayValue ?? []).compactMap { type -> (String, [String: JSONValue])? in
                guard let object = type.objectValue, let name = object["name"]?.stringValue else { return nil }
                return (name, object)
            })
            for name in ["author", "author_bool_exp", "author_order_by", "author_insert_input", "author_on_conflict", "author_constraint",
                         "author_update_column", "author_set_input", "author_inc_input", "author_pk_columns_input", "author_mutation_response",
                         "author_aggregate", "author_aggregate_fields", "author_select_column", "String_comparison_exp", "Int_comparison_exp",
                         "order_by", "query_root", "mutation_root"] {
                #expect(types[name] != nil, "\(name) is missing")
            }
            let onConflict = types["author_on_conflict"]?["inputFields"]?.arrayValue?.first { $0.objectValue?["name"] == "update_columns" }
            #expect(onConflict?.objectValue?["defaultValue"] == "[]", "the SDL's default is introspected")
            let constraints = types["author_constraint"]?["enumValues"]?.arrayValue?.compactMap { $0.objectValue?["name"]?.stringValue }
            #expect(Set(constraints ?? []) == ["author_pkey", "author_name_key"])
            let roots = types["mutation_root"]?["fields"]?.arrayValue?.compactMap { $0.objectValue?["name"]?.stringValue } ?? []
            #expect(Set(roots).isSuperset(of: ["insert_author", "insert_author_one", "update_author", "update_author_by_pk", "update_author_many",
                                               "delete_author", "delete_author_by_pk"]))
            let mixed = try await http.graphql("{ __type(name: \"author\") { name fields { name } } author_by_pk(id: 1) { name } }")
            #expect(mixed.objectValue?["data"]?.objectValue?["author_by_pk"] == ["name": "Ann"])
            #expect(mixed.objectValue?["data"]?.objectValue?["__type"]?.objectValue?["name"] == "author")
        }
    }

    @Test(arguments: StoreKind.available)
    func metadataAPIAndRunSQL(_ kind: StoreKind) async throws {
        try await Harness.make(kind, graphql: true).test { http in
            try await Self.setUp(http)
            let rows = try await http.hasura("v2/query", ["type": "run_sql", "args": ["source": "default", "sql": "SELECT id, name, email FROM author ORDER BY id"]])
            #expect(rows.json == ["result_type": "TuplesOk", "result": [["id", "name", "email"], ["1", "Ann", "ann@example.com"], ["2", "Bob", .null], ["3", "Cy", "cy@example.com"]]])
            let command = try await http.hasura("v2/query", ["type": "run_sql", "args": ["sql": "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"]])
            #expect(command.json == ["result_type": "CommandOk", "result": .null])
            let failed = try await http.hasura("v2/query", ["type": "run_sql", "args": ["sql": "SELECT * FROM nowhere"]])
            #expect(failed.status == .badRequest && failed["path"] == "$")
            let exported = try await http.hasura("v1/metadata", ["type": "export_metadata", "version": 2, "args": [:]])
            let version = try #require(exported["resource_version"]?.numberValue)
            let metadata = try #require(exported["metadata"])
            let tables = metadata.objectValue?["sources"]?.arrayValue?.first?.objectValue?["tables"]?.arrayValue ?? []
            #expect(tables.count == 2)
            let stale = try await http.hasura("v1/metadata", ["type": "pg_track_table", "resource_version": .number(version - 1), "args": ["table": "note"]])
            #expect(stale.status == .conflict)
            #expect(stale.json == ["path": "$", "error": .string("metadata resource version referenced (\(Int(version - 1))) did not match current version"), "code": "conflict"])
            let track = try await http.hasura("v1/metadata", ["type": "pg_track_table", "resource_version": .number(version), "args": ["table": "note"]])
            #expect(track.json == ["message": "success"])
            let again = try await http.hasura("v1/metadata", ["type": "pg_track_table", "args": ["table": "note"]])
            #expect(again.status == .badRequest && again["code"] == "already-tracked")
            let missing = try await http.hasura("v1/metadata", ["type": "pg_track_table", "args": ["table": "nowhere"]])
            #expect(missing.status == .badRequest && missing["error"] == "no such table/view exists in source: \"nowhere\"")
            let unknown = try await http.hasura("v1/metadata", ["type": "pg_frobnicate", "args": [:]])
            #expect(unknown.status == .badRequest && unknown["code"] == "parse-failed")
            #expect(try await http.graphql("{ note { id } }") == ["data": ["note": []]])
            let dropped = try await http.hasura("v1/metadata", ["type": "pg_drop_relationship", "args": ["table": "author", "relationship": "articles"]])
            #expect(dropped.json == ["message": "success"])
            #expect(try await http.graphql("{ author { articles { id } } }") ==
                    Self.error("field 'articles' not found in type: 'author'", code: "validation-failed", path: "$.selectionSet.author.selectionSet.articles"))
            // replace_metadata puts the exported metadata back, relationships included.
            let replaced = try await http.hasura("v1/metadata", ["type": "replace_metadata", "version": 2, "args": ["metadata": metadata]])
            #expect(replaced.json == ["message": "success"])
            #expect(try await http.graphql("{ author_by_pk(id: 1) { articles_aggregate { aggregate { count } } } }") ==
                    ["data": ["author_by_pk": ["articles_aggregate": ["aggregate": ["count": 2]]]]])
            let untracked = try await http.hasura("v1/metadata", ["type": "pg_untrack_table", "args": ["table": "article", "cascade": true]])
            #expect(untracked.json == ["message": "success"])
            let reloaded = try await http.hasura("v1/metadata", ["type": "reload_metadata", "args": [:]])
            #expect(reloaded.json == ["message": "success", "is_consistent": true])
            let relationships = try await http.hasura("v1/metadata", ["type": "export_metadata", "args": [:]])
            #expect(relationships.text.contains("articles") == false, "a relationship to an untracked table goes with it")
        }
    }

    @Test func projectLayoutAppliesAndExports() async throws {
        let project = FileManager.default.temporaryDirectory.appendingPathComponent("hasura-project-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: project) }
        try Self.write(project, "migrations/default/1000_init/up.sql", "CREATE TABLE \"users\" (\"userId\" text PRIMARY KEY, \"userName\" text);")
        try Self.write(project, "migrations/default/2000_more/up.sql", "INSERT INTO \"users\" VALUES ('u1', 'Ann'); -- a comment; with a semicolon\n")
        try Self.write(project, "migrations/default/README", "not a migration")
        try Self.write(project, "metadata/version.yaml", "version: 3\n")
        try Self.write(project, "metadata/databases/databases.yaml", """
            - name: default
              kind: postgres
              configuration: {connection_info: {database_url: {from_env: HASURA_GRAPHQL_DATABASE_URL}}}
              tables: "!include default/tables/tables.yaml"
            """)
        try Self.write(project, "metadata/databases/default/tables/tables.yaml", "- \"!include public_users.yaml\"\n")
        try Self.write(project, "metadata/databases/default/tables/public_users.yaml", "table:\n  name: users\n  schema: public\n")
        try await Harness.make(graphql: true, graphQLProject: project.path).test { http in
            #expect(try await http.graphql("{ users { userId userName } }") == ["data": ["users": [["userId": "u1", "userName": "Ann"]]]])
            let upsert = "mutation { insert_users_one(object: {userId: \"u1\", userName: \"Bea\"}, on_conflict: {constraint: users_pkey, update_columns: userName}) { userName } }"
            #expect(try await http.graphql(upsert) == ["data": ["insert_users_one": ["userName": "Bea"]]])
            let exported = try await http.hasura("v1/metadata", ["type": "export_metadata", "args": [:]])
            let metadata = try Metadata(json: exported.json)
            let folder = project.appendingPathComponent("exported").path
            try HasuraProject.write(metadata, to: folder)
            #expect(try HasuraProject(directory: folder).metadata() == metadata, "export round-trips through the metadata folder")
            #expect(FileManager.default.fileExists(atPath: folder + "/metadata/databases/default/tables/public_users.yaml"))
        }
    }

    /// Metadata set through the API survives a restart; the project's files are applied again only when they change.
    @Test func metadataSurvivesRestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("graphql-restart-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = GraphQLConfiguration(dataDirectory: directory, adminSecret: "restart-secret")
        let first = try await GraphQLService.open(configuration, logger: Harness.logger)
        _ = try await first.schemaCommand(["type": "run_sql", "args": ["sql": "CREATE TABLE thing (id INTEGER PRIMARY KEY)"]])
        _ = try await first.metadataCommand(["type": "pg_track_table", "args": ["table": "thing"]])
        await first.shutdown()
        let second = try await GraphQLService.open(configuration, logger: Harness.logger)
        #expect(await second.execute(GraphQLRequest(query: "{ thing { id } }"), session: .admin) == #"{"data":{"thing":[]}}"#)
        await second.shutdown()
        await #expect(throws: DomainError.self) {
            _ = try await GraphQLService.open(GraphQLConfiguration(dataDirectory: directory), logger: Harness.logger)
        }
    }

    /// `HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES=true`: bigint, numeric and double precision come back as strings.
    @Test func stringifiedNumericTypes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("graphql-numbers-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = try #require(try GraphQLConfiguration.from(
            project: nil, adminSecret: "numbers-secret", databaseURL: nil, dataDirectory: directory, developmentMode: false,
            environment: ["HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES": "true"]))
        let service = try await GraphQLService.open(configuration, logger: Harness.logger)
        _ = try await service.schemaCommand(["type": "run_sql", "args": ["sql": "CREATE TABLE n (id INTEGER PRIMARY KEY, big bigint, ratio float8, small int)"]])
        _ = try await service.metadataCommand(["type": "pg_track_table", "args": ["table": "n"]])
        let inserted = await service.execute(GraphQLRequest(query: #"mutation { insert_n_one(object: {id: 1, big: "9007199254740993", ratio: 0.5, small: 7}) { big ratio small } }"#),
                                             session: .admin)
        #expect(try JSONValue.parse(inserted) == ["data": ["insert_n_one": ["big": "9007199254740993", "ratio": "0.5", "small": 7]]])
        await service.shutdown()
    }

    static func write(_ root: URL, _ path: String, _ text: String) throws {
        let file = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
    }

    static func error(_ message: String, code: String, path: String) -> JSONValue {
        ["errors": [["message": .string(message), "extensions": ["path": .string(path), "code": .string(code)]]]]
    }

    /// The query GraphiQL and graphql-js's getIntrospectionQuery() send.
    static let introspectionQuery = """
        query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name }
          types { ...FullType } directives { name description locations args { ...InputValue } } } }
        fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description args { ...InputValue }
          type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue } interfaces { ...TypeRef }
          enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } }
        fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
        fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
          ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
        """
}

extension TestHTTP {
    func graphql(_ query: String, variables: [String: JSONValue] = [:], operationName: String? = nil) async throws -> JSONValue {
        var body: [String: JSONValue] = ["query": .string(query)]
        if !variables.isEmpty { body["variables"] = .object(variables) }
        if let operationName { body["operationName"] = .string(operationName) }
        let response = try await request(.post, "/v1/graphql", json: .object(body),
                                         headers: [.init("x-hasura-admin-secret")!: Harness.graphQLAdminSecret])
        #expect(response.status == .ok, "\(response.text)")
        return response.json
    }

    func hasura(_ path: String, _ body: JSONValue) async throws -> TestResponse {
        try await request(.post, "/" + path, json: body, headers: [.init("x-hasura-admin-secret")!: Harness.graphQLAdminSecret])
    }
}
