import Foundation
import Hummingbird
import TesseraCore
import TesseraHTTP

/// Tracked tables, relationships and permissions from `/v1/metadata`, and an explorer over `/v1/graphql` as admin or
/// as a chosen role with session variables.
struct GraphQLPages: Sendable {
    let console: Console
    static let introspection = """
        query { __schema { queryType { name } mutationType { name } types { name kind description \
        fields { name description args { name } type { name kind ofType { name kind ofType { name kind ofType { name } } } } } } } }
        """
    static let permissionKinds = ["select", "insert", "update", "delete"]

    func addRoutes(to router: Router<TesseraRequestContext>) {
        console.page(router, "console/graphql") { call in try await overview(call, explored: nil) }
        console.change(router, "console/graphql", bodyLimit: 256 * 1024) { call in try await explore(call) }
        console.page(router, "console/graphql/schema") { call in try await schema(call) }
    }

    func api(_ call: ConsoleCall) throws -> PublicAPI {
        guard let graphQL = console.backend.graphQL else {
            throw DomainError(.unavailable, code: "graphql_off", "No GraphQL engine is configured: set graphql in tessera.yaml")
        }
        return PublicAPI(address: console.address, credentials: graphQL.headers)
    }

    func overview(_ call: ConsoleCall, explored: (query: String, variables: String, role: String, session: String, result: String)?) async throws -> Page {
        guard console.backend.graphQL != nil else {
            return Page(title: "GraphQL", section: .graphql, body: "<p>No GraphQL engine is configured. Add <code>graphql:</code> to tessera.yaml (see README).</p>")
        }
        let metadata = try await api(call).call(.POST, "/v1/metadata", json: .object(["type": .string("export_metadata"), "args": .object([:])]))
        var roles = Set<String>()
        var tableRows: [[HTML]] = []
        for source in metadata["sources"]?.arrayValue ?? [] {
            for table in source["tables"]?.arrayValue ?? [] {
                let name = [table["table"]?["schema"]?.stringValue, table["table"]?["name"]?.stringValue].compactMap { $0 }.joined(separator: ".")
                let relationships = ["object_relationships", "array_relationships"].flatMap { kind in
                    (table[kind]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue.map { "\($0) (\(kind.hasPrefix("object") ? "object" : "array"))" } }
                }
                let permissions = Self.permissionKinds.flatMap { kind -> [String] in
                    (table["\(kind)_permissions"]?.arrayValue ?? []).compactMap { permission in
                        guard let role = permission["role"]?.stringValue else { return nil }
                        roles.insert(role)
                        let filter = permission["permission"]?["filter"] ?? permission["permission"]?["check"]
                        return "\(role) \(kind)" + (filter.map { ": " + $0.jsonText() } ?? "")
                    }
                }
                tableRows.append(["<code>\(name)</code>", "\(relationships.joined(separator: ", "))",
                                  "\(permissions.map { line -> HTML in "<code>\(line)</code><br>" })"])
            }
        }
        let roleOptions = [(value: "admin", label: "admin")] + roles.sorted().map { (value: $0, label: $0) }
        let result: HTML = explored.map { "<section aria-labelledby=\"answer\"><h2 id=\"answer\">Answer</h2>\(Widgets.code($0.result))</section>" } ?? ""
        let body: HTML = """
            \(Widgets.table("Tracked tables", headers: ["Table", "Relationships", "Permissions (role, operation, row filter)"], rows: tableRows,
                            empty: "No tracked table."))\
            \(Widgets.form("/console/graphql", session: call.session, back: "/console/graphql", label: "Explorer", fields: """
            \(Widgets.area("query", "Query", value: explored?.query ?? "query {\n  __typename\n}", rows: 10, code: "graphql"))\
            \(Widgets.area("variables", "Variables (JSON)", value: explored?.variables ?? "{}", rows: 3, code: "json"))\
            \(Widgets.select("role", "Run as role", options: roleOptions, selected: explored?.role))\
            \(Widgets.area("session", "Session variables for a role (JSON, e.g. {\"x-hasura-user-id\": \"1\"})", value: explored?.session ?? "{}", rows: 3, code: "json"))
            """, submit: "Run"))\(result)\
            <p>\(Widgets.link("/console/graphql/schema", "Browse the schema's documentation"))</p>
            """
        return Page(title: "GraphQL", section: .graphql, body: body)
    }

    func explore(_ call: ConsoleCall) async throws -> Outcome {
        let query = call.form["query"] ?? "", variablesText = call.form["variables"] ?? "{}", role = call.form["role"] ?? "admin"
        let sessionText = call.form["session"] ?? "{}"
        var headers: [(String, String)] = []
        var result: String
        let variables = try? JSONValue.parse(variablesText.isEmpty ? "{}" : variablesText)
        let session = try? JSONValue.parse(sessionText.isEmpty ? "{}" : sessionText)
        let headerName = /[xX]-[hH][aA][sS][uU][rR][aA]-[A-Za-z0-9_-]+/
        let clean: (String) -> Bool = { !$0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } && $0.utf8.count <= 4096 }
        if variables?.objectValue == nil {
            result = "Variables must be a JSON object."
        } else if session?.objectValue == nil {
            result = "Session variables must be a JSON object."
        } else if !clean(role) || role.isEmpty {
            result = "The role must be one line of text."
        } else if let bad = session?.objectValue?.first(where: { (try? headerName.wholeMatch(in: $0.key)) == nil || !clean($0.value.displayText) }) {
            result = "Session variable \(bad.key) is not usable: names are x-hasura-… (letters, digits, - and _) and values one line of text."
        } else {
            if role != "admin" {
                headers.append(("x-hasura-role", role))
                for (name, value) in session?.objectValue ?? [:] {
                    headers.append((name, value.displayText))
                }
            }
            let answer = try await api(call).send(.POST, "/v1/graphql", json: .object(["query": .string(query), "variables": variables!]),
                                                  headers: headers)
            result = answer.json?.prettyText ?? answer.text
        }
        return .page(try await overview(call, explored: (query, variablesText, role, sessionText, result)))
    }

    func schema(_ call: ConsoleCall) async throws -> Page {
        let answer = try await api(call).call(.POST, "/v1/graphql", json: .object(["query": .string(Self.introspection)]))
        let types = (answer["data"]?["__schema"]?["types"]?.arrayValue ?? []).filter {
            !($0["name"]?.stringValue ?? "").hasPrefix("__") && $0["kind"]?.stringValue == "OBJECT"
        }
        let sections = types.map { type -> HTML in
            let name = type["name"]?.stringValue ?? ""
            let fields = (type["fields"]?.arrayValue ?? []).map { field -> [HTML] in
                let args = (field["args"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
                return ["<code>\(field["name"])</code>", "<code>\(Self.typeName(field["type"]))</code>",
                        "\(args.joined(separator: ", "))", "\(field["description"])"]
            }
            return "<section><h2 id=\"type-\(name)\">\(name)</h2><p>\(type["description"])</p>\(Widgets.table(name, headers: ["Field", "Type", "Arguments", "Description"], rows: fields))</section>"
        }
        let index = types.compactMap { $0["name"]?.stringValue }.map { name -> HTML in "<li><a href=\"#type-\(name)\">\(name)</a></li>" }
        return Page(title: "GraphQL schema", section: .graphql, body: "<nav aria-label=\"Types\"><ul class=\"inline\">\(index)</ul></nav>\(sections)")
    }

    /// `[users!]!` from introspection's nested `ofType`.
    static func typeName(_ type: JSONValue?) -> String {
        guard let type else { return "" }
        switch type["kind"]?.stringValue {
        case "NON_NULL": return typeName(type["ofType"]) + "!"
        case "LIST": return "[" + typeName(type["ofType"]) + "]"
        default: return type["name"]?.stringValue ?? ""
        }
    }
}
