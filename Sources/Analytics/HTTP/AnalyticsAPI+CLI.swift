import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TesseraCore
import TesseraHTTP

/// What Tinybird's own CLI (`tb`, the `tinybird-cli` package) asks besides the endpoints: the workspace it is
/// pointed at, datafiles to pull, and the checks `tb push` runs. Where Tinybird has a feature Tessera has not (regions,
/// service data sources such as `tinybird.pipe_stats_rt`), the answer is what a workspace without it answers, so the
/// CLI carries on.
extension AnalyticsAPI {
    func addCLIRoutes(v0: RouterGroup<Context>, v1: RouterGroup<Context>) {
        let analytics = self.analytics
        v0.get("workspace") { request, _ in
            let principal = try await principal(request)
            return JSONResponse.text(Self.describe(principal.workspace, isAdmin: principal.isAdmin).jsonText())
        }
        // A token belongs to one workspace here, so the user's workspaces are that one.
        v0.get("user/workspaces") { request, _ in
            let principal = try await principal(request)
            let workspace = principal.workspace
            return JSONResponse.text(JSONValue.object([
                "id": .string(workspace.id), "email": .string(""),
                "workspaces": .array([.object([
                    "id": .string(workspace.id), "name": .string(workspace.name), "role": .string(principal.isAdmin ? "admin" : "viewer"),
                    "plan": .string("custom"), "created_at": .string(Self.time(workspace.createdAt)), "is_branch": .bool(false),
                ])]),
            ]).jsonText())
        }
        v0.get("regions") { _, _ in JSONResponse.text(#"{"regions":[]}"#) }
        v0.post("datasources/:name/alter") { request, context -> Response in
            let (principal, record) = try await ownedDataSource(request, context, .admin)
            let fields = try await Self.parameters(request)
            let alteration = try DataSourceAlteration(record.definition, schema: fields["schema"], description: fields["description"],
                                                      ttl: fields["ttl"])
            let dependencies = try await analytics.dependentPipes(of: record, in: principal.workspace).map { JSONValue.string($0.name) }
            var answer: [String: JSONValue] = ["operations": .array(alteration.operations.map(JSONValue.string)),
                                               "dependencies": .array(dependencies)]
            if !Self.flag(fields["dry"]) {
                let altered = try await analytics.alter(record, with: alteration, in: principal.workspace)
                answer["datasource"] = try await describe(altered, in: principal.workspace)
            }
            return JSONResponse.text(JSONValue.object(answer).jsonText())
        }
        // Which data sources and pipes a query reads (`tb push` orders datafiles by it when its own parser is missing).
        v0.post("sql_tables") { request, _ in
            _ = try await principal(request)
            let tables = SQLText.tableNames(try await Self.parameters(request)["q"] ?? "").map { JSONValue.array([.string(""), .string($0)]) }
            return JSONResponse.text(JSONValue.object(["tables": .array(tables)]).jsonText())
        }
        // Appending a node (`TinyB.pipe_append_node`): the SQL is the body, `name=` optional.
        v0.post("pipes/:name/nodes") { request, context in
            let (principal, record) = try await ownedPipe(request, context, .pipesCreate)
            let (parameters, body) = try await Self.parametersAndBody(request, limit: 1 << 20)
            let (saved, index) = try await analytics.appendNode(to: record, name: parameters["name"], sql: parameters["sql"] ?? body,
                                                                description: parameters["description"] ?? "", in: principal.workspace)
            let node = saved.definition.nodes[index]
            return JSONResponse.text(JSONValue.object([
                "id": .string(saved.nodeID(index)), "name": .string(node.name), "sql": .string(node.sql),
                "description": .string(node.description), "type": .string("standard"),
            ]).jsonText(), status: .created)
        }
        // Publishing a node as the endpoint (after `tb push` created a pipe whose reply was not yet an endpoint).
        v0.post("pipes/:name/nodes/:node/endpoint") { request, context in
            let (principal, record) = try await ownedPipe(request, context, .pipesCreate)
            let saved = try await analytics.publish(node: try context.pathParameter("node"), of: record, in: principal.workspace)
            return JSONResponse.text(Self.describe(saved).jsonText())
        }
        // Populating a materialized view from all of its source's rows (`tb pipe populate`, `tb push --populate`).
        v0.post("pipes/:name/nodes/:node/population") { request, context in
            let (principal, record) = try await ownedPipe(request, context, .pipesCreate)
            let query = try request.query
            guard query["populate_condition"] == nil, query["populate_subset"] == nil else {
                throw DomainError.invalidQuery("populate_condition and populate_subset are not supported: populate reads every row of the source")
            }
            let job = try await analytics.populate(record, node: try context.pathParameter("node"),
                                                   truncate: Self.flag(query["truncate"]), in: principal.workspace)
            var described = Self.describe(job, request: request).objectValue ?? [:]
            described["job"] = Self.describe(job, request: request)
            return JSONResponse.text(JSONValue.object(described).jsonText())
        }
        // `tb push` checks a materialized node before it pushes it: the node, as a view into `datasource=`.
        v0.get("pipes/:name/nodes/:node/analysis") { request, context in
            let (principal, record) = try await ownedPipe(request, context, .pipesCreate)
            let query = try request.query
            let (index, view) = try await analytics.analyze(node: try context.pathParameter("node"), of: record, sql: query["sql"],
                                                            into: query["datasource"], in: principal.workspace)
            return JSONResponse.text(JSONValue.object([
                "analysis": .object([
                    "pipe": .object(["id": .string(record.id), "name": .string(record.name)]),
                    "node": .object(["id": .string(record.nodeID(index)), "name": .string(view.node)]),
                    "datasource": .object(["name": .string(view.target.name),
                                           "schema": .string(Datafile.schemaLine(view.target.columns)),
                                           "engine": .string("\(view.target.tableEngine)")]),
                    "source": .string(view.source),
                ]),
                "warnings": .array([]),
            ]).jsonText())
        }
        v0.get("jobs") { request, _ in
            let principal = try await principal(request)
            let jobs = await analytics.jobs.jobs(in: principal.workspace)
            return JSONResponse.text(JSONValue.object(["jobs": .array(jobs.map { Self.describe($0, request: request) })]).jsonText())
        }
        v0.get("jobs/:id") { request, context in
            let principal = try await principal(request)
            guard let job = await analytics.jobs.job(try context.pathParameter("id"), in: principal.workspace) else {
                throw DomainError.notFound("Job not found")
            }
            return JSONResponse.text(Self.describe(job, request: request).jsonText())
        }
        // `tb pull` reads pipes from `/v1/pipes/<name>.pipe`.
        v1.get("pipes/:file") { request, context in
            let principal = try await principal(request)
            try require(principal, .admin)
            let file = try context.pathParameter("file")
            guard file.hasSuffix(".pipe"),
                  let record = try await analytics.catalog.pipe(String(file.dropLast(5)), in: principal.workspace) else {
                throw DomainError.notFound("Pipe not found")
            }
            return Self.datafile(Datafile.text(record.definition))
        }
    }

    /// `true` or `1`, as Tinybird's boolean parameters are written.
    static func flag(_ value: String?) -> Bool {
        ["true", "1"].contains(value?.lowercased() ?? "")
    }

    static func describe(_ job: AnalyticsJob, request: Request) -> JSONValue {
        let host = request.head.authority.map { "http://\($0)" } ?? ""
        return .object([
            "id": .string(job.id), "job_id": .string(job.id), "kind": .string(job.kind), "status": .string(job.status),
            "created_at": .string(time(job.createdAt)), "updated_at": .string(time(job.updatedAt)),
            "job_url": .string("\(host)/v0/jobs/\(job.id)"),
            "pipe_id": .string(job.pipeID), "pipe_name": .string(job.pipeName),
            "pipe": .object(["id": .string(job.pipeID), "name": .string(job.pipeName)]),
            "datasource": .object(["id": .string(job.dataSourceID), "name": .string(job.dataSourceName)]),
            "progress_percentage": .number(100), "rows": .number(Double(job.rows)),
        ])
    }

    /// `tb` sends `null` for the attributes a node does not use.
    static func optionalString(_ payload: Payload, _ key: String) throws -> String? {
        payload.isNull(key) ? nil : try payload.string(key)
    }

    /// A datafile as `tb pull` wants it: the content type must be exactly `text/plain`.
    static func datafile(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func describe(_ workspace: Workspace, isAdmin: Bool) -> JSONValue {
        .object([
            "id": .string(workspace.id), "name": .string(workspace.name), "user_id": .string(workspace.id),
            "user_email": .string(""), "scope": .string(isAdmin ? "admin" : "read"), "is_branch": .bool(false),
            "created_at": .string(time(workspace.createdAt)),
        ])
    }

    /// A pipe from `POST /v0/pipes`: Tinybird's JSON (`{"name", "description", "nodes": [{"name", "sql", "type",
    /// "description"}]}`, as `tb push` sends it), `?name=&sql=` for a one-node pipe, or a `.pipe` datafile as the body.
    static func pipeDefinition(_ request: Request) async throws -> PipeDefinition {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        if contentType.hasPrefix("application/json") {
            let body = try Payload(try await BodyReader.json(request, limit: 1 << 20),
                                   allowed: ["name", "description", "nodes"])
            let name = try body.requiredString("name", maxLength: 200)
            guard let nodes = try body.array("nodes"), !nodes.isEmpty else { throw DomainError.invalidBody("nodes is required") }
            var definition = PipeDefinition(name: name, nodes: [])
            definition.description = try Self.optionalString(body, "description") ?? ""
            for node in nodes {
                // `tb` sends every node attribute it knows; the ones for copy, sink and materialized nodes must be empty.
                let fields = try Payload(node, allowed: ["name", "sql", "type", "description", "datasource", "target_datasource",
                                                         "copy_schedule", "mode", "export_params", "engine_settings"])
                let type = (try Self.optionalString(fields, "type") ?? "standard").lowercased()
                guard ["standard", "endpoint", "default", "materialized", ""].contains(type) else {
                    throw DomainError.invalidBody("Node type \(type) is not supported yet: Tessera serves standard, endpoint and materialized nodes")
                }
                // A browser's text area sends CR LF; the datafile the node becomes is read line by line.
                let sql = Datafile.dedentedTemplate(try fields.requiredString("sql", maxLength: 1 << 20).replacingOccurrences(of: "\r\n", with: "\n"))
                var parsed = PipeNode(name: try fields.requiredString("name", maxLength: 200), sql: sql)
                parsed.description = try Self.optionalString(fields, "description") ?? ""
                parsed.type = type == "endpoint" ? "ENDPOINT" : type == "materialized" ? "MATERIALIZED" : ""
                // `tb` keeps a view's DATASOURCE on the node when it pushes it as a standard one (its `__checker` pipe).
                if type == "materialized" { parsed.datasource = try Self.optionalString(fields, "datasource") }
                definition.nodes.append(parsed)
            }
            return try Datafile.pipe(name: name, text: Datafile.text(definition), file: "\(name).pipe")
        }
        let (query, text) = try await parametersAndBody(request, limit: 1 << 20)
        guard let name = query["name"], !name.isEmpty else { throw DomainError.invalidQuery("The name parameter is required") }
        if let sql = query["sql"] {
            var node = PipeNode(name: "\(name)_0", sql: sql.replacingOccurrences(of: "\r\n", with: "\n"))
            node.type = "ENDPOINT"
            return try Datafile.pipe(name: name, text: Datafile.text(PipeDefinition(name: name, nodes: [node])), file: "\(name).pipe")
        }
        guard !text.isEmpty else {
            throw DomainError.invalidQuery("A pipe needs its SQL: the sql parameter, a .pipe datafile as the body, or Tinybird's JSON")
        }
        return try Datafile.pipe(name: name, text: text, file: "\(name).pipe")
    }
}
