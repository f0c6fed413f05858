import Hummingbird
import TesseraCore
import TesseraHTTP

/// Connections under `/admin/v1/connections`: Tessera's addition (UserHub configures them in its console), with
/// UserHub's connection shape (`auth0: {domain, clientId}`; the secret is never shown).
extension DirectoryAPI {
    static var connectionVerbs: Set<String> { ["test", "sync"] }

    func addConnectionRoutes(_ admin: RouterGroup<Context>) {
        admin.get("connections") { request, _ in
            try await authorize(request, verb: nil)
            let all = try await directory.connections.list()
            return JSONResponse.text(JSONValue.object(["connections": .array(all.map(\.wire))]).jsonText())
        }
        admin.post("connections") { request, _ in
            try await authorize(request, verb: nil)
            let connection = try Self.connection(from: try await BodyReader.json(request))
            try await directory.connections.save(connection)
            return JSONResponse.text(try await directory.connections.connection(connection.id).wire.jsonText())
        }
        admin.get("connections/:connection") { request, context in
            try await authorize(request, verb: nil)
            let (id, verb) = try context.customMethodPathParameter("connection", verbs: Self.connectionVerbs)
            guard verb == nil else { throw Self.unknownVerb(verb!, method: .get) }
            return JSONResponse.text(try await directory.connections.connection(id).wire.jsonText())
        }
        admin.delete("connections/:connection") { request, context in
            try await authorize(request, verb: nil)
            let (id, verb) = try context.customMethodPathParameter("connection", verbs: Self.connectionVerbs)
            guard verb == nil else { throw Self.unknownVerb(verb!, method: .delete) }
            try await directory.connections.delete(id)
            return JSONResponse.text("{}")
        }
        admin.post("connections/:connection") { request, context in
            try await authorize(request, verb: nil)
            let (id, verb) = try context.customMethodPathParameter("connection", verbs: Self.connectionVerbs)
            guard let verb else { throw Self.unknownVerb("", method: .post) }
            let body = try await BodyReader.json(request)
            guard case .object(let fields) = body else { throw DirectoryError.invalid("body", "The request body must be a JSON object") }
            switch verb {
            case "test":
                try Self.noFields(fields)
                return JSONResponse.text(try await directory.importer.test(id).wire.jsonText())
            default:
                for name in fields.keys.sorted() where name != "wait" { throw DirectoryError.invalid(name, "Unknown field: \(name)") }
                _ = try await directory.connections.connection(id)
                if fields["wait"] == .bool(true) {
                    try await directory.importer.sync(id)
                } else {
                    let importer = directory.importer
                    Task { try? await importer.sync(id) }
                }
                return JSONResponse.text(try await directory.connections.connection(id).wire.jsonText())
            }
        }
    }

    /// `{"id"?, "displayName", "auth0": {"domain", "clientId", "clientSecret"}}`.
    static func connection(from body: JSONValue) throws -> Connection {
        guard case .object(let fields) = body else { throw DirectoryError.invalid("body", "The request body must be a JSON object") }
        for name in fields.keys.sorted() where !["id", "displayName", "type", "auth0"].contains(name) {
            throw DirectoryError.invalid(name, "Unknown field: \(name)")
        }
        if let type = fields["type"], type != "AUTH0" { throw DirectoryError.invalid("type", "type must be AUTH0") }
        guard case .object(let auth0)? = fields["auth0"] else { throw DirectoryError.invalid("auth0", "auth0 {domain, clientId, clientSecret} is required") }
        for name in auth0.keys.sorted() where !["domain", "clientId", "clientSecret"].contains(name) {
            throw DirectoryError.invalid("auth0.\(name)", "Unknown field: auth0.\(name)")
        }
        func text(_ value: JSONValue?, _ param: String, limit: Int) throws -> String {
            guard let string = value?.stringValue, !string.isEmpty, string.utf8.count <= limit else {
                throw DirectoryError.invalid(param, "\(param) must be a non-empty string of at most \(limit) bytes")
            }
            return string
        }
        let id = try fields["id"].map { try text($0, "id", limit: 64) } ?? RandomToken.identifier(prefix: "conn", bytes: 10)
        return Connection(id: id, displayName: try fields["displayName"].map { try text($0, "displayName", limit: 200) } ?? "Auth0",
                          domain: try Connection.checkedDomain(try text(auth0["domain"], "auth0.domain", limit: 255)),
                          clientId: try text(auth0["clientId"], "auth0.clientId", limit: 255),
                          clientSecret: try text(auth0["clientSecret"], "auth0.clientSecret", limit: 1_024))
    }
}
