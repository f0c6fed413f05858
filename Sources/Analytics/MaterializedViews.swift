import Foundation
import SQLiteNIO
import TesseraCore

/// A pipe's materialized node, ready for the engine: its SQL (earlier nodes as CTEs), the data source whose appends
/// feed it, and the data source it writes to.
public struct MaterializedView: Sendable {
    public let pipe: String
    public let node: String
    /// The first data source the SQL reads: ClickHouse runs a view on inserts into the first table of its `FROM`.
    public let source: String
    public let target: DataSourceDefinition
    let sql: String
    /// The same node as ClickHouse SQL (earlier nodes as subqueries).
    let clickHouseSQL: String
}

/// Materialized views as Tinybird defines them (`TYPE MATERIALIZED` and `DATASOURCE` in a `.pipe`): checked when the
/// pipe is saved, run by every append to their source in the append's transaction, and populated on request.
extension Analytics {
    /// Saves a pipe; a materialized one is checked against its data sources first, so a view that could not run on
    /// the next append is refused now, with the reason.
    public func savePipe(_ definition: PipeDefinition, in workspace: Workspace) async throws -> (PipeRecord, changed: Bool) {
        let view = definition.materializedNode == nil ? nil : try await checkedView(definition, in: workspace)
        let saved = try await catalog.savePipe(definition, in: workspace)
        // ClickHouse runs its own materialized views on every insert, whichever instance sends it; the embedded engine
        // runs them in each append's transaction.
        if saved.changed, case .clickHouse(let clickHouse) = try await engine.storage(for: workspace) {
            try await clickHouse.detachView(of: definition.name)
            if let view { try await clickHouse.attach(view) }
        }
        return saved
    }

    public func deletePipe(_ record: PipeRecord, in workspace: Workspace) async throws {
        if record.definition.materializedNode != nil, case .clickHouse(let clickHouse) = try await engine.storage(for: workspace) {
            try await clickHouse.detachView(of: record.name)
        }
        try await catalog.deletePipe(record)
    }

    /// The view a materialized pipe defines, checked: its target exists and is not its source, it takes no request
    /// parameters, every column it produces is one of the target's (with the sorting key among them), and no other view
    /// writes its source or reads its target (chains of views are not run yet).
    public func checkedView(_ definition: PipeDefinition, in workspace: Workspace) async throws -> MaterializedView {
        let dataSources = try await catalog.dataSources(in: workspace)
        guard let node = definition.materializedNode else {
            throw DomainError.invalidQuery("The pipe \(definition.name) has no TYPE MATERIALIZED node")
        }
        guard let targetName = node.datasource, let target = dataSources.first(where: { $0.name == targetName }) else {
            throw DomainError.invalidQuery("The materialized node \(node.name) writes to the Data Source \(node.datasource ?? ""), which does not exist: push its .datasource file first")
        }
        for earlier in definition.nodes where !((try? PipeTemplate(earlier.sql))?.parameters.isEmpty ?? true) {
            throw DomainError.invalidQuery("The materialized pipe \(definition.name) runs on every append, without request parameters: node \(earlier.name) uses template parameters")
        }
        let view = try Self.view(definition, dataSources: dataSources)
        guard let view else { throw DomainError.invalidQuery("The materialized node \(node.name) reads no Data Source") }
        guard view.source != targetName else {
            throw DomainError.invalidQuery("The materialized node \(node.name) reads and writes the Data Source \(targetName)")
        }
        for other in try await catalog.pipes(in: workspace) where other.name != definition.name {
            guard let chained = try Self.view(other.definition, dataSources: dataSources) else { continue }
            if chained.target.name == view.source || chained.source == targetName {
                throw DomainError.invalidQuery("The materialized pipes \(other.name) and \(definition.name) would form a chain (\(chained.source) → \(chained.target.name), \(view.source) → \(targetName)); chains of materialized views are not supported yet")
            }
        }
        let produced: [String]
        let storage = try await engine.storage(for: workspace)
        let viewSQL: String
        if case .clickHouse = storage { viewSQL = view.clickHouseSQL } else { viewSQL = view.sql }
        do { produced = try await storage.tables.columns(of: viewSQL) } catch let error as SQLiteError {
            throw DomainError.invalidQuery("[Error] \(error.message) (in the materialized node \(node.name))")
        }
        let targetColumns = Set(target.definition.columns.map(\.name))
        if let stray = produced.first(where: { !targetColumns.contains($0) }) {
            throw DomainError.invalidQuery("The materialized node \(node.name) produces the column \(stray), which the Data Source \(targetName) does not have (its columns: \(target.definition.columns.map(\.name).joined(separator: ", ")))")
        }
        if let key = RowMerging(target.definition)?.key, let missing = key.first(where: { !produced.contains($0) }) {
            throw DomainError.invalidQuery("The materialized node \(node.name) must produce \(missing), a column of the sorting key of \(targetName)")
        }
        return view
    }

    /// A node checked as a materialized view into `target` (its own `DATASOURCE` when nil), with `sql` in place of its
    /// own when given: what `tb push` asks of a `__checker` pipe before it pushes the real one. Nothing is saved.
    public func analyze(node nameOrID: String, of pipe: PipeRecord, sql: String?, into target: String?,
                        in workspace: Workspace) async throws -> (index: Int, view: MaterializedView) {
        guard let index = pipe.nodeIndex(nameOrID) else { throw DomainError.notFound("Node \(nameOrID) not found") }
        var definition = pipe.definition
        if let sql { definition.nodes[index].sql = Datafile.dedentedTemplate(sql) }
        for position in definition.nodes.indices { definition.nodes[position].type = "" }
        definition.nodes[index].type = "MATERIALIZED"
        definition.nodes[index].datasource = target ?? pipe.definition.nodes[index].datasource
        return (index, try await checkedView(definition, in: workspace))
    }

    /// The view a pipe defines, if it has a materialized node whose SQL reads a data source.
    static func view(_ definition: PipeDefinition, dataSources: [DataSourceRecord]) throws -> MaterializedView? {
        guard let node = definition.materializedNode, let index = definition.nodes.firstIndex(of: node),
              let target = dataSources.first(where: { $0.name == node.datasource }) else { return nil }
        let names = Set(dataSources.map(\.name))
        let rendered = try Endpoints.compile(definition, through: index, parameters: [:],
                                             columns: Set(dataSources.flatMap { $0.definition.columns.map(\.name) }),
                                             filters: [:], dataSources: names)
        let nodeNames = Set(definition.nodes.map(\.name))
        guard rendered.binds.isEmpty,
              let source = SQLText.tableNames(rendered.sql).first(where: { names.contains($0) && !nodeNames.contains($0) })
        else { return nil }
        let clickHouseSQL = try Endpoints.compileForClickHouse(definition, through: index, parameters: [:],
                                                               columns: Set(dataSources.flatMap { $0.definition.columns.map(\.name) }),
                                                               filters: [:], dataSources: names)
        return MaterializedView(pipe: definition.name, node: node.name, source: source, target: target.definition, sql: rendered.sql,
                                clickHouseSQL: clickHouseSQL)
    }

    /// The views an append to `source` runs.
    func views(fedBy source: String, in workspace: Workspace) async throws -> [MaterializedView] {
        let materialized = try await catalog.pipes(in: workspace).filter { $0.definition.materializedNode != nil }
        guard !materialized.isEmpty else { return [] }
        let dataSources = try await catalog.dataSources(in: workspace)
        return try materialized.compactMap { try Self.view($0.definition, dataSources: dataSources) }.filter { $0.source == source }
    }

    /// Runs a materialized node over all of its source's rows (Tinybird's populate), as a job that is done when this
    /// returns.
    public func populate(_ pipe: PipeRecord, node nameOrID: String, truncate: Bool, in workspace: Workspace) async throws -> AnalyticsJob {
        guard let index = pipe.nodeIndex(nameOrID) else { throw DomainError.notFound("Node \(nameOrID) not found") }
        guard pipe.definition.nodes[index].isMaterialized else {
            throw DomainError.invalidQuery("The node \(pipe.definition.nodes[index].name) is not materialized: populate runs TYPE MATERIALIZED nodes")
        }
        let view = try await checkedView(pipe.definition, in: workspace)
        let target = try await catalog.dataSource(view.target.name, in: workspace)
        let started = Timestamp.string(clock.now())
        let rows: Int
        do { rows = try await engine.tables(for: workspace).populate(view, truncate: truncate) } catch let error as SQLiteError {
            throw DomainError.invalidQuery("[Error] \(error.message) (populating \(view.target.name) from the pipe \(pipe.name))")
        }
        let job = AnalyticsJob(id: UUID().uuidString.lowercased(), workspaceID: workspace.id, kind: "populateview", status: "done",
                               createdAt: started, updatedAt: Timestamp.string(clock.now()), pipeID: pipe.id, pipeName: pipe.name,
                               dataSourceID: target?.id ?? "", dataSourceName: view.target.name, rows: rows)
        await jobs.record(job)
        return job
    }
}

/// A long task as Tinybird reports it at `/v0/jobs/<id>`. Populating runs within the request here, so a job is
/// recorded when it is already done.
public struct AnalyticsJob: Sendable {
    public let id: String
    public let workspaceID: String
    public let kind: String
    public let status: String
    public let createdAt: String
    public let updatedAt: String
    public let pipeID: String
    public let pipeName: String
    public let dataSourceID: String
    public let dataSourceName: String
    /// Rows in the target after the job.
    public let rows: Int
}

/// The latest jobs, kept in memory: enough for a client to follow the job it started.
public actor AnalyticsJobs {
    private var recent: [AnalyticsJob] = []
    static let kept = 200

    public init() {}

    func record(_ job: AnalyticsJob) {
        recent.append(job)
        if recent.count > Self.kept { recent.removeFirst(recent.count - Self.kept) }
    }

    public func job(_ id: String, in workspace: Workspace) -> AnalyticsJob? {
        recent.last { $0.id == id && $0.workspaceID == workspace.id }
    }

    public func jobs(in workspace: Workspace) -> [AnalyticsJob] {
        recent.filter { $0.workspaceID == workspace.id }.reversed()
    }
}
