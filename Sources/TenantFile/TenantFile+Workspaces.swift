import Analytics
import Charts
import Foundation
import TesseraCore
import Yams

/// `workspaces:` in `tessera.yaml`: analytics workspaces with their datafiles (Tinybird's project layout:
/// `datasources/*.datasource`, `pipes/*.pipe`, and `datasources/fixtures/<name>.ndjson|.csv` loaded once, when
/// the data source is first created).
struct WorkspaceSpec: Sendable {
    var name: String
    var id: String?
    var adminToken: String?
    var settings: [String: JSONValue] = [:]
    var dataSources: [DataSourceDefinition] = []
    var pipes: [PipeDefinition] = []
    var fixtures: [String: (format: String, text: String)] = [:]
    var charts: [ChartSpec] = []

    var engine: String { settings["engine"]?.stringValue ?? "embedded" }
}

extension TenantFile {
    static func workspace(_ node: Node, _ path: String, _ reader: YAMLReader, directory: String) throws -> WorkspaceSpec {
        var spec = WorkspaceSpec(name: "")
        for (key, value) in try reader.mapping(node, path, allowed: ["name", "id", "admin_token", "datafiles", "frame_ancestors", "charts",
                                                                       "engine", "clickhouse"]) {
            let field = path + "." + key
            switch key {
            case "engine":
                let engine = try reader.string(value, field)
                guard ["embedded", "clickhouse"].contains(engine) else { throw reader.fail(value, field, "expected embedded or clickhouse") }
                spec.settings["engine"] = .string(engine)
            case "clickhouse": spec.settings["clickhouse"] = try clickHouse(value, field, reader)
            case "name": spec.name = try reader.string(value, field)
            case "id":
                let id = try reader.string(value, field)
                guard UUID(uuidString: id) != nil else { throw reader.fail(value, field, "expected a UUID") }
                spec.id = id.lowercased()
            case "admin_token":
                let token = try reader.string(value, field)
                guard token.utf8.count >= 32 else {
                    throw reader.fail(value, field, "the admin token signs the workspace's JWTs (HS256), so it needs at least 32 characters")
                }
                spec.adminToken = token
            case "frame_ancestors": spec.settings["frame_ancestors"] = .string(try reader.string(value, field))
            case "charts":
                for (index, item) in try reader.sequence(value, field).enumerated() {
                    var body = try reader.json(item, "\(field)[\(index)]").objectValue ?? [:]
                    guard let pipe = body.removeValue(forKey: "pipe")?.stringValue else {
                        throw reader.fail(item, "\(field)[\(index)].pipe", "pipe is required")
                    }
                    do { spec.charts.append(try ChartSpec(pipe: pipe, body: .object(body))) } catch let error as DomainError {
                        throw reader.fail(item, "\(field)[\(index)]", error.message)
                    }
                }
            default:
                let relative = try reader.string(value, field)
                let folder = relative.hasPrefix("/") ? relative : directory + "/" + relative
                do { try loadDatafiles(folder, into: &spec) } catch let error as DomainError {
                    throw reader.fail(value, field, error.message)
                }
            }
        }
        guard !spec.name.isEmpty else { throw reader.fail(node, path + ".name", "name is required") }
        if spec.settings["engine"]?.stringValue == "clickhouse", spec.settings["clickhouse"] == nil {
            throw reader.fail(node, path + ".clickhouse", "engine: clickhouse needs a clickhouse section with its url")
        }
        return spec
    }

    /// `clickhouse:` of a workspace: the server, its database, user and cluster. The password stays in the
    /// environment (`password_env` names the variable), so it is never written to the catalog.
    static func clickHouse(_ node: Node, _ path: String, _ reader: YAMLReader) throws -> JSONValue {
        var fields: [String: JSONValue] = [:]
        for (key, value) in try reader.mapping(node, path, allowed: ["url", "database", "user", "password_env", "cluster", "nodes",
                                                                      "timeout_seconds", "password"]) {
            let field = path + "." + key
            switch key {
            case "password":
                throw reader.fail(value, field, "the password is read from the environment: name its variable in password_env (default TESSERA_CLICKHOUSE_PASSWORD)")
            case "nodes":
                let urls = try reader.strings(value, field)
                for url in urls where !(url.hasPrefix("http://") || url.hasPrefix("https://")) { throw reader.fail(value, field, "\(url) is not an http(s) URL") }
                fields[key] = .array(urls.map(JSONValue.string))
            case "timeout_seconds":
                let seconds = try reader.integer(value, field)
                guard (1...600).contains(seconds) else { throw reader.fail(value, field, "expected 1 to 600 seconds") }
                fields[key] = .number(Double(seconds))
            case "url":
                let url = try reader.string(value, field)
                guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                    throw reader.fail(value, field, "expected ClickHouse's HTTP interface, like http://127.0.0.1:8123")
                }
                fields[key] = .string(url)
            case "database":
                let database = try reader.string(value, field)
                guard database.wholeMatch(of: /[A-Za-z_][A-Za-z0-9_]{0,62}/) != nil else {
                    throw reader.fail(value, field, "use letters, digits and underscores, starting with a letter or underscore")
                }
                fields[key] = .string(database)
            default: fields[key] = .string(try reader.string(value, field))
            }
        }
        guard fields["url"] != nil else { throw reader.fail(node, path + ".url", "url is required") }
        return .object(fields)
    }

    static func loadDatafiles(_ folder: String, into spec: inout WorkspaceSpec) throws {
        let files = FileManager.default
        guard let entries = files.enumerator(atPath: folder)?.compactMap({ $0 as? String }).sorted() else {
            throw DomainError.invalidBody("cannot read the folder \(folder)")
        }
        for entry in entries {
            let path = folder + "/" + entry
            let name = URL(fileURLWithPath: entry).deletingPathExtension().lastPathComponent
            guard let data = files.contents(atPath: path) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            switch URL(fileURLWithPath: entry).pathExtension {
            case "datasource": spec.dataSources.append(try Datafile.dataSource(name: name, text: text, file: entry))
            case "pipe": spec.pipes.append(try Datafile.pipe(name: name, text: text, file: entry))
            case "ndjson", "csv" where entry.contains("fixtures/"):
                spec.fixtures[name] = (URL(fileURLWithPath: entry).pathExtension, text)
            default: continue
            }
        }
    }

    func applyWorkspaces(_ services: TenantServices, _ report: inout ApplyReport) async throws {
        let analytics = services.analytics
        for spec in workspaces {
            // Switching an engine here would leave the data on the other one: moving it is `tessera analytics migrate`.
            if let existing = try await analytics.catalog.workspace(named: spec.name), existing.engine != spec.engine,
               !(try await analytics.catalog.dataSources(in: existing).isEmpty) {
                throw DomainError.conflict("workspace \(spec.name) keeps its data on the \(existing.engine) engine; tessera.yaml says \(spec.engine). Move it with `tessera analytics migrate --workspace \(spec.name) --to \(spec.engine)`, or set engine: \(existing.engine)")
            }
            let (workspace, created) = try await analytics.catalog.ensureWorkspace(name: spec.name, id: spec.id, adminToken: spec.adminToken,
                                                                                  settings: spec.settings)
            if created {
                report.changes.append("created workspace \(spec.name) (id \(workspace.id))")
                if spec.adminToken == nil { report.secrets.append(("workspace \(spec.name) admin token", workspace.id, workspace.adminToken)) }
            } else {
                report.unchanged += 1
            }
            let existing = Set(try await analytics.catalog.dataSources(in: workspace).map(\.name))
            for definition in spec.dataSources {
                let (record, changed) = try await analytics.saveDataSource(definition, in: workspace)
                if !existing.contains(definition.name), let fixture = spec.fixtures[definition.name] {
                    let outcome = try await analytics.append(fixture.text, format: fixture.format, to: record, in: workspace)
                    report.changes.append("created data source \(spec.name)/\(definition.name) with \(outcome.rows.count) fixture rows"
                                          + (outcome.quarantined.isEmpty ? "" : " (\(outcome.quarantined.count) quarantined)"))
                } else if changed {
                    report.changes.append("\(existing.contains(definition.name) ? "updated" : "created") data source \(spec.name)/\(definition.name)")
                } else {
                    report.unchanged += 1
                }
            }
            for definition in spec.pipes {
                let (_, changed) = try await analytics.savePipe(definition, in: workspace)
                if changed { report.changes.append("saved pipe \(spec.name)/\(definition.name)") } else { report.unchanged += 1 }
                for token in definition.tokens {
                    let (_, value) = try await analytics.catalog.ensureToken(name: token, scopes: [.pipesRead(definition.name)], in: workspace)
                    if let value { report.secrets.append(("workspace \(spec.name) token \(token)", workspace.id, value)) }
                }
            }
            let charts = services.charts
            for chart in spec.charts {
                guard try await analytics.catalog.pipe(chart.pipe, in: workspace) != nil else {
                    throw DomainError.invalidBody("workspace \(spec.name): chart \(chart.id) names the pipe \(chart.pipe), which does not exist")
                }
                if try await charts.save(chart, workspace: workspace.id) {
                    report.changes.append("saved chart \(spec.name)/\(chart.pipe)/\(chart.id) (\(chart.type.rawValue))")
                } else {
                    report.unchanged += 1
                }
            }
        }
    }
}
