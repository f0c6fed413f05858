import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TesseraCore
import TesseraHTTP

/// Tinybird's error shape, `{"error": "…"}`. Tinybird answers 403 for every token problem, a missing or invalid token
/// as much as a missing scope, so `unauthenticated` is 403 here; 404 comes only once the caller is known to be
/// allowed to ask, so names do not leak. A rate-limited token gets 429 with `Retry-After` and `X-RateLimit-*`.
public enum TinybirdErrors: ErrorEnvelope {
    public static let family = "analytics API"

    public static func status(for kind: DomainError.Kind) -> HTTPResponse.Status {
        kind == .unauthenticated ? .forbidden : StandardErrorStatus.status(for: kind)
    }

    public static func response(status: HTTPResponse.Status, code: String?, message: String) -> Response {
        response(status, message)
    }

    public static func response(toFamilyError error: any Error) -> Response? {
        guard let limited = error as? RateLimited else { return nil }
        return response(.tooManyRequests, limited.message, headers: RateLimited.headers(limited.decision))
    }

    public static func response(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        JSONResponse.text(JSONValue.object(["error": .string(message)]).jsonText(), status: status, headers: headers)
    }
}

extension EndpointRead {
    /// `X-RateLimit-*` for a token with `limits.rps`.
    public var rateLimitHeaders: HTTPFields {
        guard let rateLimit else { return [:] }
        return RateLimited.headers(rateLimit)
    }
}

extension RateLimited {
    public static func headers(_ decision: RateLimiter.Decision) -> HTTPFields {
        var fields: HTTPFields = [
            HTTPField.Name("X-RateLimit-Limit")!: "\(decision.limit)", HTTPField.Name("X-RateLimit-Remaining")!: "\(decision.remaining)",
            HTTPField.Name("X-RateLimit-Reset")!: "\(decision.resetSeconds)",
        ]
        if !decision.allowed { fields[.retryAfter] = "\(decision.resetSeconds)" }
        return fields
    }
}

/// Tinybird's `/v0` API: endpoints, data sources, events, pipes and tokens.
public struct AnalyticsAPI<Context: RequestContext>: Sendable {
    let analytics: Analytics
    /// The Events API takes up to 10 MB per request, as Tinybird does.
    static var ingestLimit: Int { 10 * 1024 * 1024 }

    public init(analytics: Analytics) {
        self.analytics = analytics
    }

    func principal(_ request: Request) async throws -> Principal {
        try await analytics.access.principal(token: request.bearerOrQueryToken(try request.query))
    }

    func require(_ principal: Principal, _ scope: TokenScope) throws {
        guard principal.has(scope) else {
            throw DomainError(.forbidden, code: "forbidden", "The token \(principal.name) lacks the \(scope) scope")
        }
    }

    /// The caller, holding `scope`, and the pipe the path's `:name` names in its workspace (checked in that order, so
    /// a caller without the scope learns nothing of the pipe).
    func ownedPipe(_ request: Request, _ context: Context, _ scope: TokenScope) async throws -> (Principal, PipeRecord) {
        let principal = try await principal(request)
        try require(principal, scope)
        guard let record = try await analytics.catalog.pipe(try context.pathParameter("name"), in: principal.workspace) else {
            throw DomainError.notFound("Pipe not found")
        }
        return (principal, record)
    }

    /// The caller, holding `scope`, and the data source the path's `:name` names in its workspace.
    func ownedDataSource(_ request: Request, _ context: Context, _ scope: TokenScope) async throws -> (Principal, DataSourceRecord) {
        let principal = try await principal(request)
        try require(principal, scope)
        guard let record = try await analytics.catalog.dataSource(try context.pathParameter("name"), in: principal.workspace) else {
            throw DomainError.notFound("Data Source not found")
        }
        return (principal, record)
    }

    public func addRoutes(to router: Router<Context>) {
        let v0 = router.group("v0").add(middleware: ErrorEnvelopeMiddleware<TinybirdErrors, Context>())
        let v1 = router.group("v1").add(middleware: ErrorEnvelopeMiddleware<TinybirdErrors, Context>())
        let analytics = self.analytics
        addCLIRoutes(v0: v0, v1: v1)

        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            v0.on("**", method: method) { request, _ -> Response in
                throw DomainError.notFound("Unknown endpoint \(request.method) \(request.uri.path): see the /v0 API in the README")
            }
        }
        v0.get("pipes") { request, _ in
            let principal = try await principal(request)
            let pipes = try await analytics.catalog.pipes(in: principal.workspace)
                .filter { principal.pipeGrant(name: $0.name, id: $0.id) != nil }
            // Pipe SQL is the admin's business; a read token sees the endpoints and their parameters.
            return JSONResponse.text(JSONValue.object(["pipes": .array(pipes.map { Self.describe($0, withSQL: principal.isAdmin) })]).jsonText())
        }
        v0.get("pipes/:name") { request, context in
            try await endpoint(request, file: try context.pathParameter("name"))
        }
        v0.post("pipes") { request, _ in
            let principal = try await principal(request)
            try require(principal, .pipesCreate)
            let definition = try await Self.pipeDefinition(request)
            let (record, changed) = try await analytics.savePipe(definition, in: principal.workspace)
            var described = Self.describe(record).objectValue ?? [:]
            if let node = definition.materializedNode, let target = node.datasource,
               let dataSource = try await analytics.catalog.dataSource(target, in: principal.workspace) {
                // `tb push` reports the view's data source; Tessera never creates it from the pipe.
                described["datasource"] = .object(["id": .string(dataSource.id), "name": .string(dataSource.name)])
                described["created_datasource"] = .bool(false)
                let query = try request.query
                if Self.flag(query["populate"]) {
                    let job = try await analytics.populate(record, node: node.name, truncate: Self.flag(query["truncate"]),
                                                           in: principal.workspace)
                    described["job"] = Self.describe(job, request: request)
                }
            }
            return JSONResponse.text(JSONValue.object(described).jsonText(), status: changed ? .created : .ok)
        }
        v0.delete("pipes/:name") { request, context in
            let (principal, record) = try await ownedPipe(request, context, .admin)
            try await analytics.deletePipe(record, in: principal.workspace)
            return JSONResponse.empty()
        }

        v0.get("datasources") { request, _ in
            let principal = try await principal(request)
            var items: [JSONValue] = []
            for record in try await analytics.catalog.dataSources(in: principal.workspace) where canRead(principal, record.name) {
                items.append(try await describe(record, in: principal.workspace))
            }
            return JSONResponse.text(JSONValue.object(["datasources": .array(items)]).jsonText())
        }
        v0.get("datasources/:name") { request, context in
            let principal = try await principal(request)
            let name = try context.pathParameter("name")
            guard canRead(principal, name) else { throw DomainError(.forbidden, code: "forbidden", "The token \(principal.name) cannot read Data Source \(name)") }
            if name.hasSuffix(".datasource") {
                // `tb pull`: the data source as a datafile.
                try require(principal, .admin)
                guard let record = try await analytics.catalog.dataSource(String(name.dropLast(11)), in: principal.workspace) else {
                    throw DomainError.notFound("Data Source not found")
                }
                return Self.datafile(Datafile.text(record.definition))
            }
            guard let record = try await analytics.catalog.dataSource(name, in: principal.workspace) else {
                throw DomainError.notFound("Data Source not found")
            }
            return JSONResponse.text(try await describe(record, in: principal.workspace).jsonText())
        }
        v0.post("datasources") { request, _ in
            try await createOrAppend(request)
        }
        // Tessera's addition: rows appended per minute (the console's ingestion picture), `?minutes=` up to a day.
        v0.get("datasources/:name/ingestion") { request, context in
            let principal = try await principal(request)
            // By name or id, as the other data source routes take it; the counts are kept by name.
            guard let record = try await analytics.catalog.dataSource(try context.pathParameter("name"), in: principal.workspace) else {
                throw DomainError.notFound("Data Source not found")
            }
            guard canRead(principal, record.name) else {
                throw DomainError(.forbidden, code: "forbidden", "The token \(principal.name) cannot read Data Source \(record.name)")
            }
            let name = record.name
            let minutes = try request.query["minutes"].map { text in
                guard let value = Int(text), (1...1440).contains(value) else { throw DomainError.invalidQuery("minutes must be a whole number from 1 to 1440") }
                return value
            } ?? 60
            let counts = try await analytics.ingestion.perMinute(workspace: principal.workspace.id, datasource: name, minutes: minutes)
            return JSONResponse.text(JSONValue.object([
                "datasource": .string(name),
                "minutes": .array(counts.map { .object(["minute": .string(Timestamp.string($0.start)), "rows": .number(Double($0.rows)),
                                                        "quarantined_rows": .number(Double($0.quarantined))]) }),
            ]).jsonText())
        }
        v0.post("datasources/:name/truncate") { request, context in
            let (principal, record) = try await ownedDataSource(request, context, .admin)
            try await analytics.engine.tables(for: principal.workspace).truncate(record.name)
            return JSONResponse.empty()
        }
        v0.delete("datasources/:name") { request, context in
            let (principal, record) = try await ownedDataSource(request, context, .admin)
            // `dry_run=true` (as `tb datasource rm` asks first) lists what depends on it and deletes nothing.
            if Self.flag(try request.query["dry_run"]) {
                let dependents = try await analytics.dependentPipes(of: record, in: principal.workspace)
                return JSONResponse.text(JSONValue.object(["dependent_pipes": .array(dependents.map { .string($0.name) })]).jsonText())
            }
            try await analytics.deleteDataSource(record, in: principal.workspace)
            return JSONResponse.empty()
        }

        v0.post("events") { request, _ in
            let principal = try await principal(request)
            guard let name = try request.query["name"], !name.isEmpty else {
                throw DomainError.invalidQuery("The name parameter is required: POST /v0/events?name=<datasource>")
            }
            guard principal.has(.dataSourcesAppend(name)) || principal.has(.dataSourcesCreate) else {
                throw DomainError(.forbidden, code: "forbidden", "The token \(principal.name) lacks the DATASOURCES:APPEND:\(name) scope")
            }
            guard let record = try await analytics.catalog.dataSource(name, in: principal.workspace) else {
                throw DomainError.notFound("Data Source \(name) not found: create it first (datafile or POST /v0/datasources?mode=create)")
            }
            let body = try await BodyReader.bytes(request, limit: Self.ingestLimit)
            let outcome = try await analytics.append(String(buffer: body), format: "ndjson", to: record, in: principal.workspace)
            let wait = Self.flag(try request.query["wait"])
            return JSONResponse.text(JSONValue.object([
                "successful_rows": .number(Double(outcome.rows.count)), "quarantined_rows": .number(Double(outcome.quarantined.count)),
            ]).jsonText(), status: wait ? .ok : .accepted)
        }

        v0.get("sql") { request, _ in try await sql(request, query: try request.query["q"]) }
        v0.post("sql") { request, _ in
            let (parameters, body) = try await Self.parametersAndBody(request, limit: 1 << 20)
            return try await sql(request, query: parameters["q"] ?? body)
        }

        v0.get("tokens") { request, _ in
            let principal = try await principal(request)
            try require(principal, .tokens)
            var tokens = try await analytics.catalog.tokens(in: principal.workspace).map(Self.describe)
            // Static tokens are kept as digests, so their values were shown once, at creation. The admin token is the
            // one value the caller may see again: it is the token the caller already holds.
            if principal.isAdmin {
                tokens.insert(.object([
                    "id": .string("admin"), "name": .string("admin token"), "description": .string("The workspace admin token"),
                    "token": .string(principal.workspace.adminToken), "scopes": .array([.object(["type": .string("ADMIN")])]),
                ]), at: 0)
            }
            return JSONResponse.text(JSONValue.object(["tokens": .array(tokens)]).jsonText())
        }
        v0.post("tokens") { request, _ in
            try await createToken(request)
        }
        v0.delete("tokens/:name") { request, context in
            let principal = try await principal(request)
            try require(principal, .tokens)
            guard try await analytics.catalog.deleteToken(try context.pathParameter("name"), in: principal.workspace) else {
                throw DomainError.notFound("Token not found")
            }
            return JSONResponse.empty()
        }
        v0.post("tokens/:name/refresh") { request, context in
            let principal = try await principal(request)
            try require(principal, .admin)
            let name = try context.pathParameter("name")
            guard name == "admin token" || name == "admin_token" else {
                throw DomainError.invalidQuery("Only the admin token is refreshed here; delete and recreate other tokens")
            }
            let workspace = try await analytics.catalog.setAdminToken(principal.workspace, Catalog.newToken())
            return JSONResponse.text(JSONValue.object(["name": .string("admin token"), "token": .string(workspace.adminToken),
                                                       "scopes": .array([.object(["type": .string("ADMIN")])])]).jsonText())
        }
    }

    /// `/v0/sql?q=SELECT … [FORMAT JSON|CSV|CSVWithNames|JSONEachRow]`, for the workspace admin: raw SQL could
    /// read any data source, so scoped tokens use pipes.
    func sql(_ request: Request, query: String?) async throws -> Response {
        let principal = try await principal(request)
        guard principal.isAdmin else {
            throw DomainError(.forbidden, code: "forbidden", "/v0/sql needs the workspace admin token; scoped tokens read through pipes")
        }
        guard var text = query?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else {
            throw DomainError.invalidQuery("The q parameter is required: /v0/sql?q=SELECT …")
        }
        var format = "json"
        if let match = text.firstMatch(of: /(?i)\s+FORMAT\s+(JSON|JSONEachRow|CSV|CSVWithNames)\s*;?\s*$/) {
            format = ["json": "json", "jsoneachrow": "ndjson", "csv": "csv", "csvwithnames": "csv"][match.1.lowercased()] ?? "json"
            text = String(text[..<match.range.lowerBound])
        }
        let result = try await analytics.endpoints.sql(text, in: principal.workspace)
        return Self.respond(result, format: format, headers: [:])
    }

    static func respond(_ result: EndpointResult, format: String, headers extra: HTTPFields) -> Response {
        switch format {
        case "csv", "ndjson":
            var headers = extra
            headers[.contentType] = format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: format == "csv" ? result.csv : result.ndjson)))
        default:
            return JSONResponse.text(result.orderedJSONText, headers: extra)
        }
    }

    func canRead(_ principal: Principal, _ dataSource: String) -> Bool {
        principal.isAdmin || principal.scopes.contains {
            if case .dataSourcesRead(let name, _) = $0 { return name == dataSource }
            if case .dataSourcesAppend(let name) = $0 { return name == dataSource }
            return false
        }
    }

    /// `GET /v0/pipes/<name>.json|.csv|.ndjson` (or a pipe id): authorization first, then the pipe.
    func endpoint(_ request: Request, file: String) async throws -> Response {
        var name = file, format = ""
        for suffix in ["json", "csv", "ndjson"] where file.hasSuffix("." + suffix) {
            name = String(file.dropLast(suffix.count + 1))
            format = suffix
        }
        let query = try request.query
        let token = request.bearerOrQueryToken(query)
        if format.isEmpty {
            let granted = try await analytics.authorize(pipe: name, token: token)
            try require(granted.principal, .admin)
            return JSONResponse.text(Self.describe(granted.pipe).jsonText())
        }
        let read = try await analytics.read(pipe: name, token: token, parameters: query.removing(["token"]).firstValues)
        return Self.respond(read.result, format: format, headers: read.rateLimitHeaders)
    }

    /// `POST /v0/datasources?name=…&mode=create|append|replace[&schema=…][&format=csv|ndjson]`. The parameters may
    /// also come in a form body (as `tb push` sends them); the rows come as the raw body or as a `multipart/form-data`
    /// part named `csv` or `ndjson` (as `tb datasource append` and `curl -F csv=@file.csv` send them).
    func createOrAppend(_ request: Request) async throws -> Response {
        let principal = try await principal(request)
        var parameters = try request.query
        var body = "", partFormat: String?
        if let parts = try await BodyReader.multipart(request, limit: Self.ingestLimit) {
            guard let part = parts.first(where: { ["csv", "ndjson"].contains($0.name) }) else {
                throw DomainError.invalidBody("The multipart body needs a part named csv or ndjson with the rows")
            }
            body = part.text
            partFormat = part.name
        } else {
            (parameters, body) = try await Self.parametersAndBody(request, limit: Self.ingestLimit)
        }
        guard parameters["url"] == nil else {
            throw DomainError.invalidQuery("Imports from a url are not supported: send the rows in the body (NDJSON or CSV)")
        }
        guard let name = parameters["name"], !name.isEmpty else { throw DomainError.invalidQuery("The name parameter is required") }
        let mode = parameters["mode"] ?? "create"
        guard ["create", "append", "replace"].contains(mode) else {
            throw DomainError.invalidQuery("mode must be create, append or replace")
        }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let format = parameters["format"] ?? partFormat ?? (contentType.contains("csv") ? "csv" : "ndjson")
        guard ["csv", "ndjson"].contains(format) else { throw DomainError.invalidQuery("format must be csv or ndjson") }
        let query = parameters
        let workspace = principal.workspace
        var record = try await analytics.catalog.dataSource(name, in: workspace)
        var status = HTTPResponse.Status.ok
        if mode == "create" {
            try require(principal, .dataSourcesCreate)
            guard record == nil else { throw DomainError.conflict("Data Source \(name) already exists") }
            guard let schema = query["schema"] else {
                throw DomainError.invalidQuery("mode=create needs a schema parameter such as `city` String `json:$.city`, `amount` Float64 `json:$.amount`")
            }
            var definition = DataSourceDefinition(name: name, columns: try Datafile.schema(schema))
            definition.description = query["description"] ?? ""
            definition.engine = Self.engineLines(query)
            record = try await analytics.saveDataSource(definition, in: workspace).0
            status = .created
        } else {
            // Replacing deletes every row, so an append-only token (often embedded in a browser) may not do it.
            let needed: TokenScope = mode == "replace" ? .dataSourcesCreate : .dataSourcesAppend(name)
            guard principal.has(needed) else {
                throw DomainError(.forbidden, code: "forbidden", "The token \(principal.name) lacks the \(needed) scope")
            }
        }
        guard let record else { throw DomainError.notFound("Data Source \(name) not found") }
        var outcome = Ingestion.Outcome()
        if !body.isEmpty || mode == "replace" {
            outcome = try await analytics.append(body, format: format, to: record, in: workspace, replace: mode == "replace")
        }
        var described = try await describe(record, in: workspace).objectValue ?? [:]
        described["successful_rows"] = .number(Double(outcome.rows.count))
        described["quarantined_rows"] = .number(Double(outcome.quarantined.count))
        return JSONResponse.text(JSONValue.object(["datasource": .object(described),
                                                   "quarantine_rows": .number(Double(outcome.quarantined.count)),
                                                   "invalid_lines": .number(Double(outcome.quarantined.count))]).jsonText(),
                                 status: status)
    }

    /// Static tokens (`?name=…&scope=…`, repeated) or, with `expiration_time`, a JWT with scopes from the body.
    func createToken(_ request: Request) async throws -> Response {
        let principal = try await principal(request)
        let query = try await Self.parameters(request)
        guard let name = query["name"], !name.isEmpty, name.count <= 100 else {
            throw DomainError.invalidQuery("The name parameter is required (1 to 100 characters)")
        }
        if let expiration = query["expiration_time"] {
            try require(principal, .admin)
            guard let expiresAt = Int(expiration), expiresAt > Int(Date().timeIntervalSince1970) else {
                throw DomainError.invalidQuery("expiration_time must be a future Unix timestamp in seconds")
            }
            let body = try Payload(try await BodyReader.json(request), allowed: ["scopes", "limits"])
            guard let scopes = try body.array("scopes"), !scopes.isEmpty else { throw DomainError.invalidBody("scopes is required") }
            for scope in scopes {
                let fields = try Payload(scope, allowed: ["type", "resource", "fixed_params", "filter"])
                guard ["PIPES:READ", "DATASOURCES:READ"].contains(try fields.requiredString("type")) else {
                    throw DomainError.invalidBody("JWT scopes are PIPES:READ or DATASOURCES:READ")
                }
                _ = try fields.requiredString("resource")
            }
            var rps: Int?
            if let limits = try body.object("limits") {
                guard case .number(let value)? = limits["rps"], value >= 1, value <= 1_000_000, value.rounded() == value else {
                    throw DomainError.invalidBody("limits.rps must be a whole number from 1 to 1000000")
                }
                rps = Int(value)
            }
            let token = try AnalyticsAccess.mintJWT(workspace: principal.workspace, name: name, expiresAt: expiresAt, scopes: scopes, rps: rps)
            return JSONResponse.text(JSONValue.object(["token": .string(token)]).jsonText())
        }
        try require(principal, .tokens)
        let scopes = try query.all("scope").map { try TokenScope.parse($0) }
        guard !scopes.isEmpty else { throw DomainError.invalidQuery("At least one scope parameter is required") }
        if scopes.contains(.admin) { try require(principal, .admin) }
        let (token, value) = try await analytics.catalog.ensureToken(name: name, scopes: scopes, in: principal.workspace)
        var described = Self.describe(token).objectValue ?? [:]
        if let value { described["token"] = .string(value) }
        return JSONResponse.text(JSONValue.object(described).jsonText(), status: value == nil ? .ok : .created)
    }

    /// A call's parameters from the query string and, when the body is a form, from the body too (Tinybird takes
    /// every `/v0` parameter either way); the query's come first, so they win where a name is in both.
    static func parameters(_ request: Request) async throws -> RequestParameters {
        guard BodyReader.isForm(request) else { return try request.query }
        return try await parametersAndBody(request, limit: 1 << 20).parameters
    }

    /// The parameters as ``parameters(_:)`` reads them, and the body's text when it is not a form of parameters.
    /// `curl --data-binary @rows.csv` and `-d 'SELECT 1'` label any body as a form: a body is read as parameters
    /// only when it decodes as a form that names one of `names`; otherwise it is the call's data (rows, a datafile,
    /// a query), as before forms were accepted.
    static func parametersAndBody(_ request: Request, limit: Int,
                                  names: Set<String> = ["name", "mode", "schema", "format", "sql", "q", "scope", "description"])
        async throws -> (parameters: RequestParameters, body: String)
    {
        let query = try request.query
        let text = String(buffer: try await BodyReader.bytes(request, limit: limit))
        guard BodyReader.isForm(request), let form = try? RequestParameters(urlEncoded: Substring(text), maximumLength: limit),
              form.contains(where: { names.contains($0.name) }) else {
            return (query, text)
        }
        return (RequestParameters((query.pairs + form.pairs).map { ($0.name, $0.value) }), "")
    }

    /// `engine=MergeTree&engine_sorting_key=…` as the datafile's `ENGINE` lines (kept for ClickHouse, shown by `tb pull`).
    static func engineLines(_ parameters: RequestParameters) -> [String] {
        var lines: [String] = []
        if let engine = parameters["engine"], !engine.isEmpty { lines.append("ENGINE \"\(engine)\"") }
        for pair in parameters where pair.name.hasPrefix("engine_") && !pair.value.isEmpty {
            let escaped = pair.value.replacingOccurrences(of: "\"", with: "\\\"")
            lines.append("\(pair.name.uppercased()) \"\(escaped)\"")
        }
        return lines
    }

    /// Tinybird writes times as `2026-11-21 10:30:00.123000` (UTC); Tessera stores ISO 8601.
    static func time(_ iso: String) -> String {
        guard let match = iso.wholeMatch(of: /(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z?/) else { return iso }
        let fraction = String(match.3 ?? "")
        return "\(match.1) \(match.2).\(fraction + String(repeating: "0", count: 6 - fraction.count))"
    }

    static func describe(_ token: StaticToken) -> JSONValue {
        .object([
            "id": .string(token.id), "name": .string(token.name), "description": .string(""), "created_at": .string(token.createdAt),
            "scopes": .array(token.scopes.map { scope in
                let text = scope.description
                let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
                var fields: [String: JSONValue] = ["type": .string(parts.prefix(2).joined(separator: ":"))]
                if parts.count > 2 { fields["resource"] = .string(parts[2]) }
                return .object(fields)
            }),
        ])
    }

    static func describe(_ pipe: PipeRecord, withSQL: Bool = true) -> JSONValue {
        let endpoint = pipe.definition.endpointNode
        var parameters: [JSONValue] = []
        for node in pipe.definition.nodes {
            for parameter in (try? PipeTemplate(node.sql))?.parameters ?? [] {
                var fields: [String: JSONValue] = ["name": .string(parameter.name), "type": .string(parameter.type),
                                                   "required": .bool(parameter.required)]
                if let value = parameter.defaultValue { fields["default"] = .string(value) }
                if let text = parameter.description { fields["description"] = .string(text) }
                parameters.append(.object(fields))
            }
        }
        return .object([
            "id": .string(pipe.id), "name": .string(pipe.name), "description": .string(pipe.definition.description),
            "endpoint": endpoint.map { .string($0.name) } ?? .null,
            "type": .string(pipe.definition.materializedNode == nil ? "endpoint" : "materialized"),
            "created_at": .string(Self.time(pipe.createdAt)), "updated_at": .string(Self.time(pipe.updatedAt)),
            "nodes": .array(pipe.definition.nodes.enumerated().map { index, node in
                var fields: [String: JSONValue] = [
                    "id": .string(pipe.nodeID(index)), "name": .string(node.name), "description": .string(node.description),
                    "type": .string(node == endpoint ? "endpoint" : node.isMaterialized ? "materialized" : "standard"),
                ]
                if let target = node.datasource { fields["datasource"] = .string(target) }
                if withSQL { fields["sql"] = .string(node.sql) }
                return .object(fields)
            }),
            "parameters": .array(parameters),
        ])
    }

    func describe(_ record: DataSourceRecord, in workspace: Workspace) async throws -> JSONValue {
        let database = try await analytics.engine.tables(for: workspace)
        let rows = try await database.rowCount(record.name)
        let engine = record.definition.engine.first { $0.hasPrefix("ENGINE ") }.map { Datafile.unquote(String($0.dropFirst(7))) }
        return .object([
            "id": .string(record.id), "name": .string(record.name), "description": .string(record.definition.description),
            "created_at": .string(Self.time(record.createdAt)), "updated_at": .string(Self.time(record.createdAt)),
            "type": .string("ndjson"), "tags": .object([:]),
            "engine": .object(["engine": .string(engine ?? "MergeTree")]),
            "schema": .object([
                "sql_schema": .string(Datafile.schemaLine(record.definition.columns)),
                "columns": .array(record.definition.columns.map {
                    .object(["name": .string($0.name), "type": .string("\($0.type)"), "jsonpath": .string("$." + $0.jsonPath.joined(separator: "."))])
                }),
            ]),
            "statistics": .object([
                "row_count": .number(Double(rows)),
                "bytes": .number(Double(rows * record.definition.columns.reduce(0) { $0 + Endpoints.width($1.type) })),
                "quarantine_rows": .number(Double(try await database.rowCount(record.name + "_quarantine"))),
            ]),
        ])
    }
}
