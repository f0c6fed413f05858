import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TesseraCore
import TesseraHTTP

/// Workspaces, data sources, pipes, tokens and charts, over Tinybird's `/v0` with each workspace's admin token.
struct AnalyticsPages: Sendable {
    let console: Console
    static let chartTypes = ["bar", "line", "area", "pie", "table"]

    /// The workspace a path names and a `/v0` client holding its admin token.
    struct Scope: Sendable {
        let workspace: ConsoleWorkspace
        let api: PublicAPI
        var path: String { "/console/analytics/\(segment(workspace.id))" }
    }

    func scope(_ call: ConsoleCall) async throws -> Scope {
        let id = try call.parameter("ws")
        guard let workspace = try await console.backend.analyticsWorkspaces().first(where: { $0.id == id || $0.name == id }) else {
            throw DomainError.notFound("No analytics workspace \(id)")
        }
        return Scope(workspace: workspace, api: PublicAPI(address: console.address, credentials: [("Authorization", "Bearer " + workspace.adminToken)]))
    }

    func addRoutes(to router: Router<TesseraRequestContext>) {
        console.page(router, "console/analytics") { call in try await workspaces(call) }
        console.page(router, "console/analytics/:ws") { call in try await workspace(call, minted: nil) }
        console.change(router, "console/analytics/:ws/datasources") { call in
            let scope = try await scope(call)
            let name = try call.required("name", "Name")
            try await scope.api.call(.POST, "/v0/datasources", query: RequestParameters([
                ("name", name), ("mode", "create"), ("schema", try call.required("schema", "Schema")),
                ("description", call.form["description"] ?? ""),
            ]))
            return .redirect("\(scope.path)/datasources/\(segment(name))", notice: .created)
        }
        console.page(router, "console/analytics/:ws/datasources/:name") { call in try await dataSource(call) }
        console.change(router, "console/analytics/:ws/datasources/:name/append") { call in
            let scope = try await scope(call)
            let name = try call.parameter("name")
            guard let file = call.files.first, !file.body.isEmpty else {
                throw DomainError(.invalidInput, code: "missing_file", "Choose a CSV or NDJSON file to append")
            }
            let format = (file.filename ?? "").lowercased().hasSuffix(".csv") ? "csv" : "ndjson"
            try await scope.api.call(.POST, "/v0/datasources", query: RequestParameters([("name", name), ("mode", "append"), ("format", format)]),
                                     body: file.body, contentType: format == "csv" ? "text/csv" : "application/x-ndjson")
            return .redirect("\(scope.path)/datasources/\(segment(name))", notice: .appended)
        }
        console.change(router, "console/analytics/:ws/pipes") { call in
            let scope = try await scope(call)
            let name = try call.required("name", "Name")
            var sql = try call.required("sql", "SQL")
            // Tinybird reads `{{ }}` only in SQL that starts with a `%` line; the console adds it rather than fail.
            if sql.contains("{{"), !sql.hasPrefix("%") { sql = "%\n" + sql }
            try await scope.api.call(.POST, "/v0/pipes", json: .object([
                "name": .string(name), "description": .string(call.form["description"] ?? ""),
                "nodes": .array([.object(["name": .string(name + "_0"), "sql": .string(sql), "type": .string("standard")])]),
            ]))
            return .redirect("\(scope.path)/pipes/\(segment(name))", notice: .created)
        }
        console.page(router, "console/analytics/:ws/pipes/:name") { call in try await pipe(call) }
        console.change(router, "console/analytics/:ws/pipes/:name/publish") { call in
            let scope = try await scope(call)
            let name = try call.parameter("name")
            try await scope.api.call(.POST, "/v0/pipes/\(segment(name))/nodes/\(segment(try call.required("node", "Node")))/endpoint")
            return .redirect("\(scope.path)/pipes/\(segment(name))", notice: .saved)
        }
        console.change(router, "console/analytics/:ws/pipes/:name/charts") { call in
            let scope = try await scope(call)
            let name = try call.parameter("name")
            var spec: [String: JSONValue] = [
                "title": .string(try call.required("title", "Title")), "type": .string(call.form["type"] ?? "bar"),
                "index": .string(try call.required("index", "Index column")),
                "categories": .array(Widgets.list(call.form["categories"]).map(JSONValue.string)),
            ]
            if let description = call.form["description"], !description.isEmpty { spec["description"] = .string(description) }
            if let id = call.form["id"], !id.isEmpty {
                try await scope.api.call(.PUT, "/v0/pipes/\(segment(name))/charts/\(segment(id))", json: .object(spec))
            } else {
                try await scope.api.call(.POST, "/v0/pipes/\(segment(name))/charts", json: .object(spec))
            }
            return .redirect("\(scope.path)/pipes/\(segment(name))#charts", notice: .saved)
        }
        router.get("console/analytics/:ws/pipes/:name/charts/:id/preview") { request, context in
            try await preview(request, context)
        }
        router.get("console/analytics/:ws/pipes/:name/draft-chart") { request, context in
            try await draft(request, context)
        }
        console.change(router, "console/analytics/:ws/tokens") { call in
            let scope = try await scope(call)
            let name = try call.required("name", "Name")
            // `/v0/tokens` would add the scopes to a token of that name, which someone already holds: refuse instead.
            let existing = try await scope.api.get("/v0/tokens")["tokens"]?.arrayValue ?? []
            guard !existing.contains(where: { $0["name"]?.stringValue == name }) else {
                throw DomainError(.conflict, code: "token_exists", "A token named \(name) already exists; nothing was changed. Choose another name.")
            }
            let created = try await scope.api.call(.POST, "/v0/tokens", query: RequestParameters(
                [("name", name)] + Widgets.list(call.form["scopes"]).map { (name: "scope", value: $0) }))
            guard let value = created["token"]?.stringValue else {
                // `/v0/tokens` extends a token of that name rather than making a second one; its value was shown when it was made.
                throw DomainError(.conflict, code: "token_exists",
                                  "A token named \(name) was made at the same moment: it now also has these scopes, and its value is not shown here.")
            }
            return .page(try await workspace(call, minted: (label: "Token \(created["name"]?.stringValue ?? "")", value: value, pipe: nil)))
        }
        console.change(router, "console/analytics/:ws/jwt") { call in try await mintJWT(call) }
    }

    func workspaces(_ call: ConsoleCall) async throws -> Page {
        let rows = try await console.backend.analyticsWorkspaces().map { workspace -> [HTML] in
            [Widgets.link("/console/analytics/\(segment(workspace.id))", workspace.name), "<code>\(workspace.id)</code>"]
        }
        return Page(title: "Analytics", section: .analytics, body: """
            \(Widgets.table("Workspaces", headers: ["Workspace", "ID"], rows: rows, empty: "No workspace yet: add one to tessera.yaml (analytics.workspaces)."))
            """)
    }

    func workspace(_ call: ConsoleCall, minted: (label: String, value: String, pipe: String?)?) async throws -> Page {
        let scope = try await scope(call)
        async let sources = scope.api.get("/v0/datasources")
        async let pipes = scope.api.get("/v0/pipes")
        async let tokens = scope.api.get("/v0/tokens")
        let sourceList = try await sources["datasources"]?.arrayValue ?? []
        let pipeList = try await pipes["pipes"]?.arrayValue ?? []
        let sourceRows = sourceList.map { source -> [HTML] in
            let name = source["name"]?.stringValue ?? ""
            return [Widgets.link("\(scope.path)/datasources/\(segment(name))", name), "\(source["statistics"]?["row_count"])",
                    "\(source["statistics"]?["quarantine_rows"])", "\(source["description"])"]
        }
        let pipeRows = pipeList.map { pipe -> [HTML] in
            let name = pipe["name"]?.stringValue ?? ""
            return [Widgets.link("\(scope.path)/pipes/\(segment(name))", name), "\(pipe["endpoint"] ?? .string("not published"))", "\(pipe["description"])"]
        }
        // Token values are never listed: a static token was shown once, when it was made.
        let tokenRows = (try await tokens["tokens"]?.arrayValue ?? []).map { token -> [HTML] in
            let scopes = (token["scopes"]?.arrayValue ?? []).map { [$0["type"]?.stringValue, $0["resource"]?.stringValue].compactMap { $0 }.joined(separator: ":") }
            return ["\(token["name"])", "<code>\(scopes.joined(separator: " "))</code>"]
        }
        let shown: HTML = minted.map { minted in
            let charts: HTML = minted.pipe.map { pipe in "<p>\(Widgets.link("\(scope.path)/pipes/\(segment(pipe))#charts", "Open the pipe's charts with this JWT"))</p>" } ?? ""
            return "\(Widgets.secretOnce(minted.label, minted.value))\(charts)"
        } ?? ""
        let pipeOptions = pipeList.compactMap { $0["name"]?.stringValue }.map { (value: $0, label: $0) }
        let body: HTML = """
            \(shown)<h2>Data sources</h2>\(Widgets.table("Data sources", headers: ["Name", "Rows", "Quarantined", "Description"], rows: sourceRows))\
            \(Widgets.form("\(scope.path)/datasources", session: call.session, back: scope.path, label: "Create a data source", fields: """
            \(Widgets.field("name", "Name", required: true, id: "f-ds-name"))\
            \(Widgets.area("schema", "Schema", rows: 3, hint: "As in a .datasource file: `city` String `json:$.city`, `amount` Float64 `json:$.amount`"))\
            \(Widgets.field("description", "Description", id: "f-ds-description"))
            """, submit: "Create the data source"))\
            <h2>Pipes</h2>\(Widgets.table("Pipes", headers: ["Name", "Endpoint", "Description"], rows: pipeRows))\
            \(Widgets.form("\(scope.path)/pipes", session: call.session, back: scope.path, label: "Create a pipe", fields: """
            \(Widgets.field("name", "Name", required: true, id: "f-pipe-name"))\(Widgets.field("description", "Description", id: "f-pipe-description"))\
            \(Widgets.area("sql", "SQL of its first node (Tinybird templates: {{String(city, 'Paris')}})", rows: 5, code: "sql"))
            """, submit: "Create the pipe"))\
            <h2 id="tokens">Tokens</h2>\(Widgets.table("Static tokens", headers: ["Name", "Scopes"], rows: tokenRows))\
            \(Widgets.form("\(scope.path)/tokens", session: call.session, back: scope.path, label: "Create a static token", fields: """
            \(Widgets.field("name", "Name", required: true, id: "f-token-name"))\
            \(Widgets.area("scopes", "Scopes, one per line", rows: 2, hint: "PIPES:READ:name, DATASOURCES:APPEND:name, DATASOURCES:READ:name"))
            """, submit: "Create the token"))\
            \(Widgets.form("\(scope.path)/jwt", session: call.session, back: scope.path, label: "Mint a JWT", fields: """
            \(Widgets.field("name", "Name", value: "console", required: true, id: "f-jwt-name"))\
            \(Widgets.select("pipe", "Pipes it may read (PIPES:READ; hold Ctrl or Shift to choose several)", options: pipeOptions, multiple: true))\
            \(Widgets.area("fixed_params", "fixed_params (JSON object; the endpoint ignores the caller's values for these)", value: "{}", rows: 2, code: "json"))\
            \(Widgets.field("minutes", "Expires in (minutes)", value: "60", type: "number"))\
            \(Widgets.field("rps", "limits.rps (empty: no limit)", type: "number"))
            """, submit: "Mint the JWT"))
            """
        return Page(title: "Workspace \(scope.workspace.name)", section: .analytics, body: body, showsSecret: minted != nil)
    }

    func mintJWT(_ call: ConsoleCall) async throws -> Outcome {
        let scope = try await scope(call)
        let pipes = call.form.all("pipe").filter { !$0.isEmpty }
        guard let pipe = pipes.first else { throw DomainError(.invalidInput, code: "missing_field", "Choose at least one pipe") }
        guard case .object(let fixed)? = try? JSONValue.parse(call.form["fixed_params"].flatMap { $0.isEmpty ? nil : $0 } ?? "{}") else {
            throw DomainError(.invalidInput, code: "invalid_fixed_params", "fixed_params must be a JSON object")
        }
        guard let minutes = Int(call.form["minutes"] ?? "60"), (1...527_040).contains(minutes) else {
            throw DomainError(.invalidInput, code: "invalid_expiry", "The expiry is a number of minutes from 1 to 527040 (a year)")
        }
        // The same fixed_params hold on every pipe the token may read.
        let scopes = pipes.map { name -> JSONValue in
            var scope: [String: JSONValue] = ["type": .string("PIPES:READ"), "resource": .string(name)]
            if !fixed.isEmpty { scope["fixed_params"] = .object(fixed) }
            return .object(scope)
        }
        var body: [String: JSONValue] = ["scopes": .array(scopes)]
        if let rps = call.form["rps"].flatMap(Int.init) { body["limits"] = .object(["rps": .number(Double(rps))]) }
        let expires = Int(console.clock().timeIntervalSince1970) + minutes * 60
        let minted = try await scope.api.call(.POST, "/v0/tokens", query: RequestParameters([
            ("name", try call.required("name", "Name")), ("expiration_time", String(expires)),
        ]), json: .object(body))
        return .page(try await workspace(call, minted: (label: "JWT for \(pipes.joined(separator: ", "))", value: minted["token"]?.stringValue ?? "", pipe: pipe)))
    }

    func dataSource(_ call: ConsoleCall) async throws -> Page {
        let scope = try await scope(call)
        let name = try call.parameter("name")
        let source = try await scope.api.get("/v0/datasources/\(segment(name))")
        async let sample = scope.api.send(.GET, "/v0/sql", query: RequestParameters([("q", "SELECT * FROM \(name) LIMIT 20 FORMAT JSON")]))
        async let quarantine = scope.api.send(.GET, "/v0/sql", query: RequestParameters([("q", "SELECT * FROM \(name)_quarantine LIMIT 20 FORMAT JSON")]))
        async let ingestion = scope.api.get("/v0/datasources/\(segment(name))/ingestion", query: [("minutes", "60")])
        let columns = (source["schema"]?["columns"]?.arrayValue ?? []).map { column -> [HTML] in
            ["<code>\(column["name"])</code>", "<code>\(column["type"])</code>", "<code>\(column["jsonpath"])</code>"]
        }
        let path = "\(scope.path)/datasources/\(segment(name))"
        let sampled = try await sample, quarantined = try await quarantine
        let body: HTML = """
            <p>\(source["description"])</p>\
            <dl><dt>Rows</dt><dd>\(source["statistics"]?["row_count"])</dd><dt>Quarantined rows</dt><dd>\(source["statistics"]?["quarantine_rows"])</dd>\
            <dt>Engine</dt><dd>\(source["engine"]?["engine"])</dd></dl>\
            \(Widgets.table("Schema", headers: ["Column", "Type", "JSON path"], rows: columns))\
            <h2>Ingestion, rows per minute (last hour, UTC)</h2>\(Self.ingestionChart(try await ingestion))\
            <h2>Sample</h2>\(sampled.ok ? Widgets.resultTable("The first rows", sampled.json) : "<p class=\"error\">\(sampled.problem)</p>")\
            <h2>Quarantine</h2><p>Rows that did not fit the schema, with the reason in <code>c__error</code>.</p>\
            \(quarantined.ok ? Widgets.resultTable("Quarantined rows", quarantined.json) : "<p>No quarantine yet.</p>")\
            \(Widgets.form(path + "/append", session: call.session, back: path, label: "Append a file", fields: """
            <p><label for="f-file">CSV or NDJSON file</label><input id="f-file" name="file" type="file" accept=".csv,.ndjson,.json,text/csv" required></p>
            """, submit: "Append", multipart: true))
            """
        return Page(title: "Data source \(name)", section: .analytics, body: body)
    }

    static func ingestionChart(_ answer: JSONValue) -> HTML {
        let minutes = answer["minutes"]?.arrayValue ?? []
        let quarantined = minutes.reduce(0) { $0 + Int($1["quarantined_rows"]?.numberValue ?? 0) }
        return SVGBars.render(minutes.map { Int($0["rows"]?.numberValue ?? 0) },
                              labels: minutes.map { String(($0["minute"]?.stringValue ?? "").dropFirst(11).prefix(5)) },
                              title: "Rows appended per minute", unit: "rows", extra: "; \(quarantined) quarantined", every: 10)
    }

    func pipe(_ call: ConsoleCall) async throws -> Page {
        let scope = try await scope(call)
        let name = try call.parameter("name")
        let path = "\(scope.path)/pipes/\(segment(name))"
        async let described = scope.api.get("/v0/pipes/\(segment(name))")
        async let chartList = scope.api.send(.GET, "/v0/pipes/\(segment(name))/charts")
        let pipe = try await described
        let parameters = pipe["parameters"]?.arrayValue ?? []
        let nodes = (pipe["nodes"]?.arrayValue ?? []).map { node -> HTML in
            let publish: HTML = node["type"]?.stringValue == "endpoint" ? "<span class=\"tag\">endpoint</span>"
                : Widgets.button(path + "/publish", session: call.session, back: path, submit: "Publish this node as the endpoint",
                                 hidden: [("node", node["name"]?.stringValue ?? "")])
            return "<h3>\(node["name"])</h3>\(Widgets.code(node["sql"]?.stringValue ?? ""))\(publish)"
        }
        // Running the pipe: the form's own values, sent as Tinybird's clients send them.
        var run: HTML = ""
        let given = call.query.removing(["notice", "run"])
        if call.query["run"] != nil {
            let answer = try await scope.api.send(.GET, "/v0/pipes/\(segment(name)).json", query: given)
            if answer.ok, let json = answer.json {
                let statistics = json["statistics"]?.objectValue ?? [:]
                let facts = statistics.keys.sorted().map { key -> HTML in "<dt>\(key)</dt><dd>\(statistics[key])</dd>" }
                run = "<section aria-labelledby=\"result\"><h2 id=\"result\">Result</h2><dl class=\"statistics\">\(facts)</dl>\(Widgets.resultTable("Result", json))</section>"
            } else {
                run = "<p class=\"error\" role=\"alert\">\(answer.problem)</p>"
            }
        }
        let fields = parameters.compactMap { parameter -> HTML? in
            guard let key = parameter["name"]?.stringValue else { return nil }
            return Widgets.field(key, "\(key) (\(parameter["type"]?.stringValue ?? "String"))", value: given[key] ?? "",
                                 placeholder: parameter["default"]?.stringValue)
        }
        let endpoint = console.settings.issuer + "v0/pipes/\(segment(name)).json"
        let example = RequestParameters(parameters.compactMap { parameter in
            parameter["name"]?.stringValue.map { (name: $0, value: given[$0] ?? parameter["default"]?.stringValue ?? "") }
        })
        let curl = "curl \"\(endpoint)\(example.pairs.isEmpty ? "" : "?" + example.urlEncoded)\" -H \"Authorization: Bearer $TB_TOKEN\""
        let charts = try await chartList
        let chartItems = (charts.json?["charts"]?.arrayValue ?? []).map { chart -> HTML in
            let id = chart["id"]?.stringValue ?? ""
            let page = console.settings.issuer + "endpoints/\(segment(name))/charts/\(segment(id))"
            let snippet = "<iframe src=\"\(page)?token=YOUR_TOKEN\" width=\"100%\" height=\"\(chart["height"]?.displayText ?? "300")\" style=\"border:0\" title=\"\(HTML.escape(chart["title"]?.stringValue ?? ""))\"></iframe>"
            return """
                <article class="chart"><h3>\(chart["title"])</h3><p>\(chart["description"])</p>\
                <iframe id="preview-\(String(id.prefix(8)))" src="\(path)/charts/\(segment(id))/preview" title="Preview of \(chart["title"]?.stringValue ?? "the chart")" width="100%" height="\(chart["height"]?.displayText ?? "300")"></iframe>\
                <p>Embed it (with a JWT or a PIPES:READ token):</p>\(Widgets.code(snippet))\
                \(chartForm(call, path: path, chart: chart))</article>
                """
        }
        let body: HTML = """
            <p>\(pipe["description"])</p>\(nodes)\
            <h2>Run</h2><form method="get" action="\(path)"><input type="hidden" name="run" value="1">\(fields)<button type="submit">Run</button></form>\(run)\
            <h2>Endpoint</h2><p><code>\(endpoint)</code></p>\(Widgets.code(curl))\
            <h2 id="charts">Charts</h2>\(chartItems)\(chartForm(call, path: path, chart: nil))\
            <iframe id="preview-new" title="Preview of the new chart, drawn as its fields are filled" width="100%" height="300" hidden></iframe>
            """
        return Page(title: "Pipe \(name)", section: .analytics, body: body)
    }

    func chartForm(_ call: ConsoleCall, path: String, chart: JSONValue?) -> HTML {
        let id = chart?["id"]?.stringValue ?? ""
        let prefix = id.isEmpty ? "new" : String(id.prefix(8))
        let fields: HTML = """
            <input type="hidden" name="id" value="\(id)">\
            \(Widgets.field("title", "Title", value: chart?["title"]?.stringValue ?? "", required: true, id: "f-\(prefix)-title"))\
            \(Widgets.select("type", "Type", options: Self.chartTypes.map { (value: $0, label: $0) }, selected: chart?["type"]?.stringValue, id: "f-\(prefix)-type"))\
            \(Widgets.field("index", "Index column (labels or x axis)", value: chart?["index"]?.stringValue ?? "", required: true, id: "f-\(prefix)-index"))\
            \(Widgets.field("categories", "Value columns (comma-separated)", value: (chart?["categories"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "), required: true, id: "f-\(prefix)-categories"))
            """
        let form = Widgets.form(path + "/charts", session: call.session, back: path, label: id.isEmpty ? "Create a chart" : "Edit this chart",
                                fields: fields, submit: id.isEmpty ? "Create the chart" : "Save the chart")
        // console.js redraws the frame from the fields as they change; without script, Save shows the saved chart.
        return "<div data-preview=\"\(path)/draft-chart\" data-frame=\"preview-\(prefix)\">\(form)</div>"
    }

    /// The chart page as an embedder sees it, fetched with the workspace's admin token so no token reaches the browser;
    /// framed only by the console itself.
    func preview(_ request: Request, _ context: TesseraRequestContext) async throws -> Response {
        try await framed(request, context) { api, pipe in
            try await api.send(.GET, "/endpoints/\(segment(pipe))/charts/\(segment(try context.pathParameter("id")))")
        }
    }

    /// A chart not saved yet, drawn from the edit form's fields as they are typed (the live preview).
    func draft(_ request: Request, _ context: TesseraRequestContext) async throws -> Response {
        let query = try request.query
        var spec: [String: JSONValue] = ["title": .string(query["title"] ?? ""), "type": .string(query["type"] ?? "bar"),
                                         "index": .string(query["index"] ?? ""),
                                         "categories": .array(Widgets.list(query["categories"]).map(JSONValue.string))]
        if spec["title"] == .string("") { spec["title"] = .string("Preview") }
        return try await framed(request, context) { api, pipe in
            try await api.send(.POST, "/v0/pipes/\(segment(pipe))/charts/preview", json: .object(spec))
        }
    }

    /// A chart page for an iframe of the console: only for a signed-in admin, only frameable by the console, and an
    /// API refusal shown as a line of text in the frame.
    private func framed(_ request: Request, _ context: TesseraRequestContext,
                        _ fetch: (PublicAPI, String) async throws -> APIResponse) async throws -> Response {
        guard await console.isSignedInAdmin(request) else { return Self.frame(.forbidden, "Sign in to the console first.") }
        let id = try context.pathParameter("ws")
        guard let workspace = try await console.backend.analyticsWorkspaces().first(where: { $0.id == id }) else {
            return Self.frame(.notFound, "No such workspace")
        }
        let api = PublicAPI(address: console.address, credentials: [("Authorization", "Bearer " + workspace.adminToken)])
        let answer = try await fetch(api, try context.pathParameter("name"))
        guard answer.ok || answer.contentType?.hasPrefix("text/html") == true else { return Self.frame(.ok, answer.problem) }
        return Response(status: .init(code: answer.status), headers: Self.frameHeaders, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    static let frameHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
        .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
    ]

    static func frame(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let page: HTML = "<!doctype html><html lang=\"en\"><title>Preview</title><p>\(message)</p></html>"
        return Response(status: status, headers: frameHeaders, body: .init(byteBuffer: ByteBuffer(string: page.markup)))
    }
}
