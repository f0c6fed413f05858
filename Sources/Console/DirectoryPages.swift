import Foundation
import Hummingbird
import TesseraCore
import TesseraHTTP

/// The directory's connections (state, last sync, errors, "sync now" with live progress) and its users, over
/// UserHub's `/admin/v1` with a directory API key.
struct DirectoryPages: Sendable {
    let console: Console

    func addRoutes(to router: Router<TesseraRequestContext>) {
        console.page(router, "console/directory") { call in try await overview(call, created: nil) }
        console.change(router, "console/directory/:connection/sync") { call in
            let id = try call.parameter("connection")
            try await calling { try await $0.call(.POST, "/admin/v1/connections/\(segment(id)):sync", json: .object([:])) }
            return .redirect("/console/directory", notice: .synced)
        }
        console.change(router, "console/directory/keys") { call in
            var body: [String: JSONValue] = ["description": .string(try call.required("description", "Description"))]
            if let integration = call.form["integration"], !integration.isEmpty { body["integration"] = .string(integration) }
            if let days = call.form["days"], !days.isEmpty {
                guard let count = Int(days), (1...3650).contains(count) else {
                    throw DomainError(.invalidInput, code: "invalid_expiry", "Expires in is a number of days from 1 to 3650, or empty for never")
                }
                body["expireTime"] = .string(Timestamp.string(console.clock().addingTimeInterval(Double(count) * 86_400)))
            }
            let created = try await calling { try await $0.call(.POST, "/admin/v1/apiKeys", json: .object(body)) }
            return .page(try await overview(call, created: created["key"]?.stringValue))
        }
        console.change(router, "console/directory/keys/:key/delete") { call in
            let id = try call.parameter("key")
            try await calling { try await $0.call(.DELETE, "/admin/v1/apiKeys/\(segment(id))") }
            return .redirect("/console/directory#keys", notice: .deleted)
        }
        // What the page's script polls while a sync runs: the connections' `sync` objects, nothing secret.
        router.get("console/directory/progress") { request, _ in
            guard await console.isSignedInAdmin(request) else {
                return JSONResponse.text(#"{"error":"sign in to the console"}"#, status: .unauthorized)
            }
            guard let answer = try? await api().get("/admin/v1/connections") else {
                return JSONResponse.text(#"{"error":"the directory did not answer"}"#, status: .badGateway)
            }
            let connections = answer["connections"]?.arrayValue ?? []
            return JSONResponse.text(JSONValue.object(["connections": .array(connections.map { connection in
                .object(["id": connection["id"] ?? .null, "state": connection["state"] ?? .null, "sync": connection["sync"] ?? .null])
            })]).jsonText(), headers: [.cacheControl: "no-store"])
        }
    }

    func api() async throws -> PublicAPI {
        guard let key = try await console.backend.directoryKey() else {
            throw DomainError(.unavailable, code: "directory_off", "The directory is not served by this instance")
        }
        return PublicAPI(address: console.address, credentials: [("Authorization", "Bearer " + key)])
    }

    /// A directory call; a refused key (deleted or expired elsewhere) is dropped so that the next page gets a new one.
    func calling<T: Sendable>(_ body: (PublicAPI) async throws -> T) async throws -> T {
        do {
            return try await body(try await api())
        } catch let failure as APIFailure where failure.response.status == 401 {
            await console.backend.forgetDirectoryKey()
            throw failure
        }
    }

    func overview(_ call: ConsoleCall, created: String?) async throws -> Page {
        let (connections, users, keys) = try await calling { api in
            async let connections = api.get("/admin/v1/connections")
            async let users = api.get("/admin/v1/users", query: [("pageSize", "25")])
            async let keys = api.get("/admin/v1/apiKeys")
            return try await (connections, users, keys)
        }
        let rows = (connections["connections"]?.arrayValue ?? []).map { connection -> [HTML] in
            let id = connection["id"]?.stringValue ?? ""
            let sync = connection["sync"]
            let progress: HTML = "<span data-sync=\"\(id)\" aria-live=\"polite\">\(Self.progress(sync))</span>"
            return ["\(connection["displayName"])<br><code>\(id)</code>", "\(connection["state"]) \(connection["stateReason"] ?? .null)",
                    progress, "\(sync?["lastPullTime"])", "<span class=\"error\">\(sync?["lastError"])</span>",
                    Widgets.button("/console/directory/\(segment(id))/sync", session: call.session, back: "/console/directory", submit: "Sync now")]
        }
        let userRows = (users["users"]?.arrayValue ?? []).map { user -> [HTML] in
            ["\(user["displayName"])", "\(user["email"])", "\(user["state"])", "<code>\(user["id"])</code>"]
        }
        let keyRows = (keys["apiKeys"]?.arrayValue ?? []).map { key -> [HTML] in
            let id = key["id"]?.stringValue ?? ""
            return ["\(key["description"])", "\(key["integration"] ?? .string("admin"))", "\(key["expireTime"] ?? .string("never"))", "<code>\(id)</code>",
                    Widgets.button("/console/directory/keys/\(segment(id))/delete", session: call.session, back: "/console/directory",
                                   submit: "Delete", style: "danger")]
        }
        let shown: HTML = created.map { Widgets.secretOnce("API key", $0) } ?? ""
        let body: HTML = """
            \(shown)<div data-progress="/console/directory/progress">\(Widgets.table("Connections", headers: ["Connection", "State", "Sync", "Last sync", "Last error", ""], rows: rows,
                                                             empty: "No connection: add one under directory.connections in tessera.yaml."))</div>\
            <h2>Users</h2>\(Widgets.table("Directory users", headers: ["Name", "Email", "State", "ID"], rows: userRows))\
            <h2 id="keys">API keys</h2>\(Widgets.table("API keys", headers: ["Description", "Kind", "Expires", "ID", ""], rows: keyRows))\
            \(Widgets.form("/console/directory/keys", session: call.session, back: "/console/directory", label: "Create an API key", fields: """
            \(Widgets.field("description", "Description", required: true))\
            \(Widgets.select("integration", "Kind", options: [(value: "", label: "Admin API"), (value: "auth0", label: "Admin API, Auth0 integration only")]))\
            \(Widgets.field("days", "Expires in (days; empty: never)", type: "number"))
            """, submit: "Create the key"))
            """
        return Page(title: "Directory", section: .directory, body: body, showsSecret: created != nil)
    }

    static func progress(_ sync: JSONValue?) -> String {
        guard let sync else { return "" }
        let done = sync["usersDone"]?.displayText ?? "0"
        if sync["running"]?.boolValue == true {
            return "running: \(done)" + (sync["usersTotal"].map { " of \($0.displayText)" } ?? "") + " users"
        }
        return "idle" + (sync["lastPassUsers"].map { "; last pass \($0.displayText) users" } ?? "")
    }
}
