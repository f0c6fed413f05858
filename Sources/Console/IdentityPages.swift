import Foundation
import Hummingbird
import TesseraCore
import TesseraHTTP

/// Applications, APIs, roles, users and signing keys, over the Management API with the person's own token.
struct IdentityPages: Sendable {
    let console: Console
    static let appTypes = [("spa", "Single-page application"), ("regular_web", "Regular web application"),
                           ("native", "Native application"), ("non_interactive", "Machine to machine")]
    static let usersPerPage = 25

    func addRoutes(to router: Router<TesseraRequestContext>) {
        console.page(router, "console/applications") { call in try await applications(call) }
        console.change(router, "console/applications") { call in try await createApplication(call) }
        console.page(router, "console/applications/:id") { call in try await application(call, secret: nil) }
        console.change(router, "console/applications/:id") { call in try await updateApplication(call) }
        console.change(router, "console/applications/:id/rotate") { call in
            let id = try call.parameter("id")
            let client = try await call.management.call(.POST, "/api/v2/clients/\(segment(id))/rotate-secret")
            return .page(try await application(call, secret: client["client_secret"]?.stringValue))
        }
        console.deletion(router, "console/applications/:id/delete", list: "/console/applications") { "/api/v2/clients/\($0)" }
        console.page(router, "console/apis") { call in try await apis(call) }
        console.change(router, "console/apis") { call in
            let created = try await call.management.call(.POST, "/api/v2/resource-servers", json: .object([
                "name": .string(try call.required("name", "Name")), "identifier": .string(try call.required("identifier", "Identifier")),
                "scopes": .array(Self.scopes(call.form["scopes"])),
            ]))
            return .redirect("/console/apis/\(segment(created["id"]?.stringValue ?? ""))", notice: .created)
        }
        console.page(router, "console/apis/:id") { call in try await api(call) }
        console.change(router, "console/apis/:id") { call in
            let id = try call.parameter("id")
            try await call.management.call(.PATCH, "/api/v2/resource-servers/\(segment(id))", json: .object([
                "name": .string(try call.required("name", "Name")), "scopes": .array(Self.scopes(call.form["scopes"])),
            ]))
            return .redirect("/console/apis/\(segment(id))", notice: .saved)
        }
        console.deletion(router, "console/apis/:id/delete", list: "/console/apis") { "/api/v2/resource-servers/\($0)" }
        console.page(router, "console/roles") { call in try await roles(call) }
        console.change(router, "console/roles") { call in
            let role = try await call.management.call(.POST, "/api/v2/roles", json: .object([
                "name": .string(try call.required("name", "Name")), "description": .string(call.form["description"] ?? ""),
            ]))
            return .redirect("/console/roles/\(segment(role["id"]?.stringValue ?? ""))", notice: .created)
        }
        console.page(router, "console/roles/:id") { call in try await role(call) }
        console.change(router, "console/roles/:id/permissions") { call in
            let id = try call.parameter("id")
            let permission: JSONValue = .object(["permissions": .array([.object([
                "resource_server_identifier": .string(try call.required("api", "API")),
                "permission_name": .string(try call.required("permission", "Permission")),
            ])])])
            let remove = call.form["remove"] == "1"
            try await call.management.call(remove ? .DELETE : .POST, "/api/v2/roles/\(segment(id))/permissions", json: permission)
            return .redirect("/console/roles/\(segment(id))", notice: .saved)
        }
        console.deletion(router, "console/roles/:id/delete", list: "/console/roles") { "/api/v2/roles/\($0)" }
        console.page(router, "console/users") { call in try await users(call) }
        console.page(router, "console/users/:id") { call in try await user(call, draft: nil) }
        console.change(router, "console/users/:id/metadata") { call in try await saveMetadata(call) }
        console.change(router, "console/users/:id/block") { call in
            let id = try call.parameter("id"), block = call.form["blocked"] == "true"
            try await call.management.call(.PATCH, "/api/v2/users/\(segment(id))", json: .object(["blocked": .bool(block)]))
            return .redirect("/console/users/\(segment(id))", notice: block ? .blocked : .unblocked)
        }
        console.change(router, "console/users/:id/roles") { call in
            let id = try call.parameter("id")
            let body: JSONValue = .object(["roles": .array([.string(try call.required("role", "Role"))])])
            try await call.management.call(call.form["remove"] == "1" ? .DELETE : .POST, "/api/v2/users/\(segment(id))/roles", json: body)
            return .redirect("/console/users/\(segment(id))", notice: .saved)
        }
        console.change(router, "console/users/:id/sessions") { call in
            let id = try call.parameter("id")
            try await call.management.call(.DELETE, "/api/v2/users/\(segment(id))/sessions")
            return .redirect("/console/users/\(segment(id))", notice: .sessionsRevoked)
        }
        console.deletion(router, "console/users/:id/delete", list: "/console/users") { "/api/v2/users/\($0)" }
        console.page(router, "console/keys") { call in try await keys(call) }
        console.change(router, "console/keys/rotate") { call in
            try await call.management.call(.POST, "/api/v2/keys/signing/rotate")
            return .redirect("/console/keys", notice: .rotated)
        }
        console.change(router, "console/keys/:kid/revoke") { call in
            try await call.management.call(.PUT, "/api/v2/keys/signing/\(segment(try call.parameter("kid")))/revoke")
            return .redirect("/console/keys", notice: .revoked)
        }
    }

    // MARK: Applications

    func applications(_ call: ConsoleCall) async throws -> Page {
        let clients = try await call.management.get("/api/v2/clients").arrayValue ?? []
        let rows = clients.map { client -> [HTML] in
            let id = client["client_id"]?.stringValue ?? ""
            return [Widgets.link("/console/applications/\(segment(id))", client["name"]?.stringValue ?? id), "\(client["app_type"])", "<code>\(id)</code>"]
        }
        let create = Widgets.form("/console/applications", session: call.session, back: call.back, label: "Create an application", fields: """
            \(Widgets.field("name", "Name", required: true))\
            \(Widgets.select("app_type", "Type", options: Self.appTypes.map { (value: $0.0, label: $0.1) }))
            """, submit: "Create")
        return Page(title: "Applications", section: .applications,
                    body: "\(Widgets.table("Applications", headers: ["Name", "Type", "Client ID"], rows: rows))\(create)")
    }

    func createApplication(_ call: ConsoleCall) async throws -> Outcome {
        let type = call.form["app_type"] ?? "spa"
        var body: [String: JSONValue] = ["name": .string(try call.required("name", "Name")), "app_type": .string(type)]
        if type == "spa" || type == "native" { body["token_endpoint_auth_method"] = .string("none") }
        let client = try await call.management.call(.POST, "/api/v2/clients", json: .object(body))
        return .page(try await application(call, client: client, secret: client["client_secret"]?.stringValue))
    }

    func application(_ call: ConsoleCall, secret: String?) async throws -> Page {
        let client = try await call.management.get("/api/v2/clients/\(segment(try call.parameter("id")))")
        return try await application(call, client: client, secret: secret)
    }

    func application(_ call: ConsoleCall, client: JSONValue, secret: String?) async throws -> Page {
        let id = client["client_id"]?.stringValue ?? ""
        let path = "/console/applications/\(segment(id))"
        let shown: HTML = secret.map { Widgets.secretOnce("Client secret", $0) } ?? ""
        let confidential = client["token_endpoint_auth_method"]?.stringValue != "none"
        let grants = ["authorization_code", "implicit", "refresh_token", "client_credentials", "password"]
        let held = Set((client["grant_types"]?.arrayValue ?? []).compactMap(\.stringValue))
        let grantBoxes = grants.enumerated().map { index, grant -> HTML in
            let mark: HTML = held.contains(grant) ? " checked" : ""
            return "<span class=\"check\"><input type=\"checkbox\" id=\"g-\(index)\" name=\"grant_types\" value=\"\(grant)\"\(mark)><label for=\"g-\(index)\">\(grant)</label></span>"
        }
        let settings = Widgets.form(path, session: call.session, back: path, label: "Settings", fields: """
            \(Widgets.field("name", "Name", value: client["name"]?.stringValue ?? "", required: true))\
            \(Widgets.select("app_type", "Type", options: Self.appTypes.map { (value: $0.0, label: $0.1) }, selected: client["app_type"]?.stringValue))\
            \(Widgets.area("callbacks", "Allowed callback URLs (one per line)", value: Widgets.lines(client["callbacks"]?.arrayValue), rows: 3))\
            \(Widgets.area("web_origins", "Allowed web origins", value: Widgets.lines(client["web_origins"]?.arrayValue), rows: 2))\
            \(Widgets.area("allowed_origins", "Allowed origins (CORS)", value: Widgets.lines(client["allowed_origins"]?.arrayValue), rows: 2))\
            \(Widgets.area("allowed_logout_urls", "Allowed logout URLs", value: Widgets.lines(client["allowed_logout_urls"]?.arrayValue), rows: 2))\
            <fieldset><legend>Grant types</legend>\(grantBoxes)</fieldset>
            """, submit: "Save")
        let rotate: HTML = confidential
            ? Widgets.button(path + "/rotate", session: call.session, back: path, submit: "Rotate the client secret") : ""
        let delete = Widgets.button(path + "/delete", session: call.session, back: path, submit: "Delete this application", style: "danger")
        let body: HTML = """
            \(shown)<dl><dt>Client ID</dt><dd><code>\(id)</code></dd><dt>Authentication</dt><dd>\(client["token_endpoint_auth_method"])</dd></dl>\
            \(settings)<h2>Credentials</h2><p>The client secret is never shown again after it is created or rotated.</p>\(rotate)\
            <h2>Danger zone</h2>\(delete)
            """
        return Page(title: client["name"]?.stringValue ?? id, section: .applications, body: body, showsSecret: secret != nil)
    }

    func updateApplication(_ call: ConsoleCall) async throws -> Outcome {
        let id = try call.parameter("id")
        let urls: (String) -> JSONValue = { .array(Widgets.lines(call.form[$0]).map(JSONValue.string)) }
        try await call.management.call(.PATCH, "/api/v2/clients/\(segment(id))", json: .object([
            "name": .string(try call.required("name", "Name")), "app_type": .string(call.form["app_type"] ?? "spa"),
            "callbacks": urls("callbacks"), "web_origins": urls("web_origins"), "allowed_origins": urls("allowed_origins"),
            "allowed_logout_urls": urls("allowed_logout_urls"),
            "grant_types": .array(call.form.all("grant_types").map(JSONValue.string)),
        ]))
        return .redirect("/console/applications/\(segment(id))", notice: .saved)
    }

    // MARK: APIs

    /// `read:rows Reads rows` per line: the scope, then its description.
    static func scopes(_ text: String?) -> [JSONValue] {
        (text ?? "").split(whereSeparator: \.isNewline).compactMap { line in
            let parts = line.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
            guard let value = parts.first else { return nil }
            return .object(["value": .string(String(value)), "description": .string(parts.count > 1 ? String(parts[1]) : String(value))])
        }
    }

    func apis(_ call: ConsoleCall) async throws -> Page {
        let servers = try await call.management.get("/api/v2/resource-servers").arrayValue ?? []
        let rows = servers.map { server -> [HTML] in
            let id = server["id"]?.stringValue ?? ""
            let system: HTML = server["is_system"]?.boolValue == true ? " <span class=\"tag\">system</span>" : ""
            return ["\(Widgets.link("/console/apis/\(segment(id))", server["name"]?.stringValue ?? id))\(system)",
                    "<code>\(server["identifier"])</code>", "\(server["scopes"]?.arrayValue?.count ?? 0)"]
        }
        let create = Widgets.form("/console/apis", session: call.session, back: call.back, label: "Create an API", fields: """
            \(Widgets.field("name", "Name", required: true))\
            \(Widgets.field("identifier", "Identifier (the audience)", required: true, placeholder: "https://api.example.com/"))\
            \(Widgets.area("scopes", "Scopes, one per line: the scope, a space, its description", rows: 3))
            """, submit: "Create")
        return Page(title: "APIs", section: .apis, body: "\(Widgets.table("APIs", headers: ["Name", "Identifier", "Scopes"], rows: rows))\(create)")
    }

    func api(_ call: ConsoleCall) async throws -> Page {
        let id = try call.parameter("id")
        let server = try await call.management.get("/api/v2/resource-servers/\(segment(id))")
        let path = "/console/apis/\(segment(id))"
        let scopes = (server["scopes"]?.arrayValue ?? []).map { scope -> String in
            [scope["value"]?.stringValue, scope["description"]?.stringValue].compactMap { $0 }.joined(separator: " ")
        }
        let edit: HTML = server["is_system"]?.boolValue == true ? "<p>The Management API is Tessera's own; it cannot be edited.</p>" : """
            \(Widgets.form(path, session: call.session, back: path, label: "Settings", fields: """
            \(Widgets.field("name", "Name", value: server["name"]?.stringValue ?? "", required: true))\
            \(Widgets.area("scopes", "Scopes, one per line: the scope, a space, its description", value: scopes.joined(separator: "\n"), rows: 6))
            """, submit: "Save"))\
            <h2>Danger zone</h2>\(Widgets.button(path + "/delete", session: call.session, back: path, submit: "Delete this API", style: "danger"))
            """
        let rows = (server["scopes"]?.arrayValue ?? []).map { scope -> [HTML] in ["<code>\(scope["value"])</code>", "\(scope["description"])"] }
        let body: HTML = """
            <dl><dt>Identifier</dt><dd><code>\(server["identifier"])</code></dd><dt>Signing</dt><dd>\(server["signing_alg"])</dd>\
            <dt>Token lifetime</dt><dd>\(server["token_lifetime"]) s</dd></dl>\
            \(Widgets.table("Scopes", headers: ["Scope", "Description"], rows: rows))\(edit)
            """
        return Page(title: server["name"]?.stringValue ?? id, section: .apis, body: body)
    }

    // MARK: Roles

    func roles(_ call: ConsoleCall) async throws -> Page {
        let roles = try await call.management.get("/api/v2/roles", query: [("per_page", "100")]).arrayValue ?? []
        let rows = roles.map { role -> [HTML] in
            [Widgets.link("/console/roles/\(segment(role["id"]?.stringValue ?? ""))", role["name"]?.stringValue ?? ""), "\(role["description"])"]
        }
        let create = Widgets.form("/console/roles", session: call.session, back: call.back, label: "Create a role", fields: """
            \(Widgets.field("name", "Name", required: true))\(Widgets.field("description", "Description"))
            """, submit: "Create")
        return Page(title: "Roles", section: .roles, body: "\(Widgets.table("Roles", headers: ["Name", "Description"], rows: rows))\(create)")
    }

    func role(_ call: ConsoleCall) async throws -> Page {
        let id = try call.parameter("id")
        let path = "/console/roles/\(segment(id))"
        async let described = call.management.get("/api/v2/roles/\(segment(id))")
        async let permissions = call.management.get("/api/v2/roles/\(segment(id))/permissions", query: [("per_page", "100")])
        async let servers = call.management.get("/api/v2/resource-servers")
        let rows = (try await permissions.arrayValue ?? []).map { permission -> [HTML] in
            let api = permission["resource_server_identifier"]?.stringValue ?? "", name = permission["permission_name"]?.stringValue ?? ""
            return ["<code>\(name)</code>", "<code>\(api)</code>",
                    Widgets.button(path + "/permissions", session: call.session, back: path, submit: "Remove",
                                   hidden: [("api", api), ("permission", name), ("remove", "1")])]
        }
        let options = (try await servers.arrayValue ?? []).flatMap { server -> [(value: String, label: String)] in
            (server["scopes"]?.arrayValue ?? []).compactMap { scope in
                guard let value = scope["value"]?.stringValue, let api = server["identifier"]?.stringValue else { return nil }
                return (value: api + "\u{1F}" + value, label: "\(server["name"]?.stringValue ?? api): \(value)")
            }
        }
        let add = Widgets.form(path + "/permissions", session: call.session, back: path, label: "Add a permission", fields: """
            \(Widgets.field("api", "API identifier", required: true))\(Widgets.field("permission", "Permission (a scope of that API)", required: true))
            <p class="hint">Known scopes: \(options.prefix(40).map { option -> HTML in "<code>\(option.label)</code> " })</p>
            """, submit: "Add")
        let role = try await described
        let body: HTML = """
            <p>\(role["description"])</p>\(Widgets.table("Permissions", headers: ["Permission", "API", ""], rows: rows))\(add)\
            <h2>Danger zone</h2>\(Widgets.button(path + "/delete", session: call.session, back: path, submit: "Delete this role", style: "danger"))
            """
        return Page(title: "Role \(role["name"]?.stringValue ?? id)", section: .roles, body: body)
    }

    // MARK: Users

    func users(_ call: ConsoleCall) async throws -> Page {
        let q = call.query["q"] ?? ""
        // `page` counts from 0 as the Management API's does; the "Go to page" box counts from 1, as people do.
        let asked = call.query["page-number"].flatMap(Int.init).map { min(max($0, 1), Int(Int32.max)) - 1 } ?? Int(call.query["page"] ?? "0") ?? 0
        let page = min(max(0, asked), Int(Int32.max))
        var query: [(String, String)] = [("page", String(page)), ("per_page", String(Self.usersPerPage)), ("include_totals", "true"),
                                         ("search_engine", "v3")]
        if !q.isEmpty { query.append(("q", q)) }
        let found = try await call.management.get("/api/v2/users", query: query)
        let users = found["users"]?.arrayValue ?? []
        let total = Int(found["total"]?.numberValue ?? Double(users.count))
        let rows = users.map { user -> [HTML] in
            let id = user["user_id"]?.stringValue ?? ""
            let blocked: HTML = user["blocked"]?.boolValue == true ? " <span class=\"tag\">blocked</span>" : ""
            return ["\(Widgets.link("/console/users/\(segment(id))", user["email"]?.stringValue ?? id))\(blocked)", "\(user["name"])",
                    "\(user["logins_count"])", "\(user["last_login"])"]
        }
        let pages = max(1, (total + Self.usersPerPage - 1) / Self.usersPerPage)
        let link: (Int, String) -> HTML = { target, label in
            var parameters = [(name: "page", value: String(target))]
            if !q.isEmpty { parameters.append((name: "q", value: q)) }
            return "<a href=\"/console/users?\(RequestParameters(parameters).urlEncoded)\">\(label)</a>"
        }
        let previous: HTML = page > 0 ? "\(link(0, "First page")) \(link(page - 1, "Previous page"))" : ""
        let next: HTML = page + 1 < pages ? "\(link(page + 1, "Next page")) \(link(pages - 1, "Last page"))" : ""
        let body: HTML = """
            <form method="get" action="/console/users" role="search"><p><label for="f-q">Search (Lucene syntax, as Auth0's <code>q</code>)</label>\
            <input id="f-q" name="q" type="search" value="\(q)" placeholder="app_metadata.plan:pro OR email:*@example.com">\
            </p><button type="submit">Search</button></form>\
            <p>\(total) user\(total == 1 ? "" : "s"); page \(page + 1) of \(pages).</p>\
            \(Widgets.table("Users", headers: ["Email", "Name", "Logins", "Last login"], rows: rows, empty: "No users match."))\
            <nav class="pager" aria-label="Pages">\(previous) \(next)</nav>\
            <form method="get" action="/console/users" class="jump"><input type="hidden" name="q" value="\(q)">\
            <p><label for="f-page">Go to page (1 to \(pages))</label><input id="f-page" name="page-number" type="number" min="1" max="\(pages)" value="\(page + 1)"></p>\
            <button type="submit">Go</button></form>
            """
        return Page(title: "Users", section: .users, body: body)
    }

    func user(_ call: ConsoleCall, draft: (field: String, text: String, error: String)?) async throws -> Page {
        let id = try call.parameter("id")
        let path = "/console/users/\(segment(id))"
        async let user = call.management.get("/api/v2/users/\(segment(id))")
        async let held = call.management.get("/api/v2/users/\(segment(id))/roles")
        async let all = call.management.get("/api/v2/roles", query: [("per_page", "100")])
        let profile = try await user
        let editor: (String, String) -> HTML = { field, label in
            let text = draft?.field == field ? draft!.text : (profile[field] ?? .object([:])).prettyText
            let error: HTML = draft?.field == field ? "<p class=\"error\" role=\"alert\" id=\"\(field)-error\">\(draft!.error)</p>" : ""
            return Widgets.form(path + "/metadata", session: call.session, back: path, label: label, fields: """
                \(error)<input type="hidden" name="field" value="\(field)">\
                \(Widgets.area("json", "\(label) (JSON object; saved as a merge, as the Management API's PATCH does)", value: text, rows: 8, code: "json", id: "f-\(field)"))
                """, submit: "Save \(label)")
        }
        let roleRows = (try await held.arrayValue ?? []).map { role -> [HTML] in
            ["\(role["name"])", Widgets.button(path + "/roles", session: call.session, back: path, submit: "Remove",
                                              hidden: [("role", role["id"]?.stringValue ?? ""), ("remove", "1")])]
        }
        let assign = Widgets.form(path + "/roles", session: call.session, back: path, label: nil, fields: Widgets.select(
            "role", "Assign a role", options: (try await all.arrayValue ?? []).map { (value: $0["id"]?.stringValue ?? "", label: $0["name"]?.stringValue ?? "") }),
            submit: "Assign")
        let blocked = profile["blocked"]?.boolValue == true
        let facts: [(String, JSONValue?)] = [("User ID", profile["user_id"]), ("Email", profile["email"]), ("Verified", profile["email_verified"]),
                                             ("Name", profile["name"]), ("Logins", profile["logins_count"]), ("Last login", profile["last_login"]),
                                             ("Last IP", profile["last_ip"]), ("Created", profile["created_at"]), ("Blocked", .bool(blocked))]
        let body: HTML = """
            <dl>\(facts.map { fact -> HTML in "<dt>\(fact.0)</dt><dd>\(fact.1)</dd>" })</dl>\
            \(editor("app_metadata", "app_metadata"))\(editor("user_metadata", "user_metadata"))\
            <h2>Roles</h2>\(Widgets.table("Roles", headers: ["Role", ""], rows: roleRows))\(assign)\
            <h2>Access</h2>\
            \(Widgets.button(path + "/block", session: call.session, back: path, submit: blocked ? "Unblock" : "Block", hidden: [("blocked", blocked ? "false" : "true")]))\
            \(Widgets.button(path + "/sessions", session: call.session, back: path, submit: "Revoke every session"))\
            <h2>Danger zone</h2>\(Widgets.button(path + "/delete", session: call.session, back: path, submit: "Delete this user", style: "danger"))
            """
        return Page(title: profile["email"]?.stringValue ?? id, section: .users, body: body,
                    status: draft == nil ? .ok : .unprocessableContent)
    }

    func saveMetadata(_ call: ConsoleCall) async throws -> Outcome {
        let id = try call.parameter("id")
        let field = call.form["field"] == "user_metadata" ? "user_metadata" : "app_metadata"
        let text = call.form["json"] ?? ""
        let value: JSONValue
        do {
            value = try JSONValue.parse(text.isEmpty ? "{}" : text)
        } catch {
            return .page(try await user(call, draft: (field, text, "Not valid JSON: \(error.localizedDescription). Nothing was saved.")))
        }
        guard case .object = value else {
            return .page(try await user(call, draft: (field, text, "\(field) must be a JSON object. Nothing was saved.")))
        }
        do {
            try await call.management.call(.PATCH, "/api/v2/users/\(segment(id))", json: .object([field: value]))
        } catch let failure as APIFailure where failure.response.status == 400 {
            return .page(try await user(call, draft: (field, text, failure.message)))
        }
        return .redirect("/console/users/\(segment(id))", notice: .saved)
    }

    // MARK: Signing keys

    func keys(_ call: ConsoleCall) async throws -> Page {
        async let keys = call.management.get("/api/v2/keys/signing")
        async let jwks = PublicAPI(address: call.console.address, credentials: []).get("/.well-known/jwks.json")
        let rows = (try await keys.arrayValue ?? []).map { key -> [HTML] in
            let kid = key["kid"]?.stringValue ?? ""
            let state = key["revoked"]?.boolValue == true ? "revoked" : key["current"]?.boolValue == true ? "current"
                : key["next"]?.boolValue == true ? "next" : key["previous"]?.boolValue == true ? "previous" : ""
            let revoke: HTML = state == "previous"
                ? Widgets.button("/console/keys/\(segment(kid))/revoke", session: call.session, back: "/console/keys", submit: "Revoke", style: "danger") : ""
            return ["<code>\(kid)</code>", "\(state)", "\(key["current_since"] ?? key["created_at"])", revoke]
        }
        let body: HTML = """
            \(Widgets.table("Signing keys", headers: ["Key ID", "State", "Since", ""], rows: rows))\
            <p>Rotating makes the next key current; the previous one still verifies the tokens it signed until it is revoked. \
            Revoking it ends every session and token it signed, this console's included.</p>\
            \(Widgets.button("/console/keys/rotate", session: call.session, back: "/console/keys", submit: "Rotate the signing key"))\
            <h2>The JWKS as served</h2><p><a href="/.well-known/jwks.json">/.well-known/jwks.json</a></p>\(Widgets.code(try await jwks.prettyText))
            """
        return Page(title: "Signing keys", section: .keys, body: body)
    }
}
