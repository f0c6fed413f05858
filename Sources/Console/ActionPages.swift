import Foundation
import Hummingbird
import TesseraCore
import TesseraHTTP

/// Actions: the list, the editor (code, write-only secrets, configuration), Test, Deploy, versions and roll-back, the
/// post-login flow and recent executions, over `/api/v2/actions` with the person's own token.
struct ActionPages: Sendable {
    let console: Console
    static let starter = """
        /**
         * @param {Event} event - Details about the user and the context in which they are logging in.
         * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
         */
        exports.onExecutePostLogin = async (event, api) => {
          console.log(`signing in ${event.user.email}`);
        };
        """
    static let sampleEvent = """
        {
          "user": { "email": "jane@example.com", "app_metadata": {}, "user_metadata": {} },
          "client": { "name": "My App" },
          "request": { "ip": "203.0.113.7" }
        }
        """

    func addRoutes(to router: Router<TesseraRequestContext>) {
        console.page(router, "console/actions") { call in try await list(call) }
        console.change(router, "console/actions") { call in
            let action = try await call.management.call(.POST, "/api/v2/actions/actions", json: .object([
                "name": .string(try call.required("name", "Name")),
                "supported_triggers": .array([.object(["id": .string("post-login"), "version": .string("v3")])]),
                "code": .string(Self.starter),
            ]))
            return .redirect("/console/actions/\(segment(action["id"]?.stringValue ?? ""))", notice: .created)
        }
        console.page(router, "console/actions/:id") { call in try await editor(call, test: nil) }
        console.change(router, "console/actions/:id", bodyLimit: 512 * 1024) { call in try await save(call) }
        console.change(router, "console/actions/:id/test", bodyLimit: 512 * 1024) { call in try await test(call) }
        console.change(router, "console/actions/:id/deploy") { call in
            let id = try call.parameter("id")
            try await call.management.call(.POST, "/api/v2/actions/actions/\(segment(id))/deploy")
            return .redirect("/console/actions/\(segment(id))", notice: .deployed)
        }
        console.change(router, "console/actions/:id/rollback") { call in
            let id = try call.parameter("id")
            let version = try call.required("version", "Version")
            try await call.management.call(.POST, "/api/v2/actions/actions/\(segment(id))/versions/\(segment(version))/deploy")
            return .redirect("/console/actions/\(segment(id))", notice: .deployed)
        }
        console.deletion(router, "console/actions/:id/delete", list: "/console/actions") { "/api/v2/actions/actions/\($0)" }
        console.change(router, "console/flow") { call in
            let names = Widgets.list(call.form["order"])
            try await call.management.call(.PATCH, "/api/v2/actions/triggers/post-login/bindings", json: .object([
                "bindings": .array(names.map { .object(["ref": .object(["type": .string("action_name"), "value": .string($0)]),
                                                        "display_name": .string($0)]) }),
            ]))
            return .redirect("/console/actions", notice: .saved)
        }
    }

    func list(_ call: ConsoleCall) async throws -> Page {
        async let actions = call.management.get("/api/v2/actions/actions")
        async let bindings = call.management.get("/api/v2/actions/triggers/post-login/bindings")
        async let executions = call.management.get("/api/v2/actions/executions", query: [("per_page", "20")])
        let rows = (try await actions["actions"]?.arrayValue ?? []).map { action -> [HTML] in
            let id = action["id"]?.stringValue ?? ""
            let deployed = action["deployed_version"]?["number"].map { "v\($0.displayText)" } ?? "not deployed"
            let pending: HTML = action["all_changes_deployed"]?.boolValue == false ? " <span class=\"tag\">undeployed changes</span>" : ""
            return [Widgets.link("/console/actions/\(segment(id))", action["name"]?.stringValue ?? id), "\(deployed)\(pending)"]
        }
        let flow = (try await bindings["bindings"]?.arrayValue ?? []).compactMap { $0["display_name"]?.stringValue }
        let create = Widgets.form("/console/actions", session: call.session, back: call.back, label: "Create an Action (post-login)",
                                  fields: Widgets.field("name", "Name", required: true), submit: "Create")
        let order = Widgets.form("/console/flow", session: call.session, back: call.back, label: "Post-login flow", fields: """
            <ol class="flow">\(flow.map { name -> HTML in "<li>\(name)</li>" })</ol>\
            \(Widgets.area("order", "Deployed Actions run in this order at every sign-in, one name per line", value: flow.joined(separator: "\n"), rows: 4))
            """, submit: "Save the flow")
        let body: HTML = """
            \(Widgets.table("Actions", headers: ["Name", "Deployed"], rows: rows))\(create)\(order)\
            <h2>Recent executions</h2>\(Self.executions(try await executions["executions"]?.arrayValue ?? []))
            """
        return Page(title: "Actions", section: .actions, body: body)
    }

    static func executions(_ executions: [JSONValue]) -> HTML {
        let rows = executions.map { execution -> [HTML] in
            let results = execution["results"]?.arrayValue ?? []
            let logs = results.map { result -> HTML in
                let lines = (result["logs"]?.arrayValue ?? []).compactMap(\.stringValue)
                let error: HTML = result["error"].map { "<br><span class=\"error\">\($0)</span>" } ?? ""
                return "<strong>\(result["action_name"])</strong>: \(lines.joined(separator: " · "))\(error)<br>"
            }
            return ["\(execution["created_at"])", "\(execution["status"])", "\(logs)", "<code>\(execution["id"])</code>"]
        }
        return Widgets.table("Recent executions", headers: ["When", "Status", "Actions and their logs", "Execution"], rows: rows,
                             empty: "No sign-in has run an Action yet.")
    }

    func editor(_ call: ConsoleCall, test: (event: String, result: HTML)?) async throws -> Page {
        let id = try call.parameter("id")
        let path = "/console/actions/\(segment(id))"
        async let action = call.management.get("/api/v2/actions/actions/\(segment(id))")
        async let versions = call.management.get("/api/v2/actions/actions/\(segment(id))/versions")
        let record = try await action
        let secrets = (record["secrets"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let configuration = (record["configuration"]?.objectValue ?? [:]).keys.sorted()
        let dependencies = (record["dependencies"]?.arrayValue ?? []).map { "\($0["name"]?.stringValue ?? "")@\($0["version"]?.stringValue ?? "")" }
        let edit = Widgets.form(path, session: call.session, back: path, label: "Code", fields: """
            \(Widgets.area("code", "Code", value: record["code"]?.stringValue ?? "", rows: 18, code: "javascript"))\
            <h3>Secrets</h3><p>Values are write-only: set one again to change it; an empty value keeps it.</p>\
            \(secrets.map { name -> HTML in Widgets.field("secret:\(name)", "Secret \(name)", type: "password") })\
            \(Widgets.field("new_secret_name", "New secret's name"))\(Widgets.field("new_secret_value", "New secret's value", type: "password"))\
            \(Widgets.area("configuration", "Configuration (JSON object, readable in event.configuration)", value: JSONValue.object(record["configuration"]?.objectValue ?? [:]).prettyText, rows: 3, code: "json"))\
            <p>Configuration keys: \(configuration.joined(separator: ", "))</p>\
            <h3>Dependencies</h3><p>Built in: \(dependencies.joined(separator: ", "))</p>
            """, submit: "Save")
        let deploy = Widgets.button(path + "/deploy", session: call.session, back: path, submit: "Deploy")
        let testForm = Widgets.form(path + "/test", session: call.session, back: path, label: "Test", fields: """
            \(Widgets.area("event", "Sample event (merged over a full post-login event)", value: test?.event ?? Self.sampleEvent, rows: 8, code: "json"))
            """, submit: "Run the test")
        let versionRows = (try await versions["versions"]?.arrayValue ?? []).map { version -> [HTML] in
            let number = version["number"]?.displayText ?? ""
            let current = version["deployed"]?.boolValue == true
            return ["v\(number)", "\(version["created_at"])", current ? "deployed" : Widgets.button(
                path + "/rollback", session: call.session, back: path, submit: "Roll back to v\(number)", hidden: [("version", version["id"]?.stringValue ?? "")])]
        }
        let body: HTML = """
            <p>Trigger: post-login. \(record["all_changes_deployed"]?.boolValue == false ? "Saved changes are not deployed yet." : "Everything saved is deployed.")</p>\
            \(edit)\(deploy)\(testForm)\(test.map { "<section aria-labelledby=\"test-result\"><h2 id=\"test-result\">Test result</h2>\($0.result)</section>" as HTML } ?? "")\
            <h2>Versions</h2>\(Widgets.table("Versions", headers: ["Version", "Created", ""], rows: versionRows, empty: "Not deployed yet."))\
            <h2>Danger zone</h2>\(Widgets.button(path + "/delete", session: call.session, back: path, submit: "Delete this Action", style: "danger"))
            """
        return Page(title: "Action \(record["name"]?.stringValue ?? id)", section: .actions, body: body)
    }

    func save(_ call: ConsoleCall) async throws -> Outcome {
        let id = try call.parameter("id")
        let record = try await call.management.get("/api/v2/actions/actions/\(segment(id))")
        var secrets: [JSONValue] = []
        for name in (record["secrets"]?.arrayValue ?? []).compactMap({ $0["name"]?.stringValue }) {
            if let value = call.form["secret:\(name)"], !value.isEmpty { secrets.append(.object(["name": .string(name), "value": .string(value)])) }
        }
        if let name = call.form["new_secret_name"]?.trimmingCharacters(in: .whitespaces), !name.isEmpty {
            secrets.append(.object(["name": .string(name), "value": .string(call.form["new_secret_value"] ?? "")]))
        }
        var body: [String: JSONValue] = ["code": .string(call.form["code"] ?? "")]
        if !secrets.isEmpty { body["secrets"] = .array(secrets) }
        if let text = call.form["configuration"], !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            guard case .object(let configuration)? = try? JSONValue.parse(text) else {
                throw DomainError(.invalidInput, code: "invalid_configuration", "The configuration must be a JSON object; nothing was saved")
            }
            body["configuration"] = .object(configuration)
        }
        try await call.management.call(.PATCH, "/api/v2/actions/actions/\(segment(id))", json: .object(body))
        return .redirect("/console/actions/\(segment(id))", notice: .saved)
    }

    func test(_ call: ConsoleCall) async throws -> Outcome {
        let id = try call.parameter("id")
        let text = call.form["event"] ?? "{}"
        guard case .object(let event)? = try? JSONValue.parse(text) else {
            return .page(try await editor(call, test: (text, "<p class=\"error\" role=\"alert\">The sample event must be a JSON object.</p>")))
        }
        let answer = try await call.management.call(.POST, "/api/v2/actions/actions/\(segment(id))/test", json: .object(["payload": .object(event)]))
        let payload = answer["payload"] ?? .null
        let commands = (payload["commands"]?.arrayValue ?? []).map { command -> [HTML] in
            var detail = command.objectValue ?? [:]
            detail["name"] = nil
            return ["<code>\(command["name"])</code>", "<code>\(JSONValue.object(detail).jsonText())</code>"]
        }
        let error: HTML = payload["error"].map { "<p class=\"error\" role=\"alert\">Error: \($0["message"])</p>" } ?? ""
        let result: HTML = """
            \(error)\(Widgets.table("What the Action did", headers: ["Command", "Details"], rows: commands, empty: "It changed nothing."))\
            <h3>Console output</h3>\(Widgets.code(payload["logs"]?.stringValue ?? ""))
            """
        return .page(try await editor(call, test: (text, result)))
    }
}
