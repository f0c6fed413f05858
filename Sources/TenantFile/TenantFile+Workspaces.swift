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
}

extension TenantFile {
    static func workspace(_ node: Node, _ path: String, _ reader: YAMLReader, directory: String) throws -> WorkspaceSpec {
        var spec = WorkspaceSpec(name: "")
        for (key, value) in try reader.mapping(node, path, allowed: ["name", "id", "admin_token", "datafiles", "frame_ancestors", "charts"]) {
            let field = path + "." + key
            switch key {
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
        return spec
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
