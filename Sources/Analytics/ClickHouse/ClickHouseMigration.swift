import Foundation
import SQLiteNIO
import TesseraCore

/// Moves a workspace from the embedded engine to ClickHouse while its endpoints keep answering: tables are made, rows
/// are copied in pages of SQLite rowids (reads keep using the embedded copy meanwhile), counts are compared, the
/// workspace's engine is switched in the catalog (every instance follows on its next request), and what was appended
/// during the copy is copied after the switch. Data sources that materialized views write are not copied (their
/// partial states are the embedded engine's own): the views are created in ClickHouse and populated from their sources.
public struct ClickHouseMigration: Sendable {
    public struct Copied: Sendable, Equatable {
        public let dataSource: String
        public let rows: Int
        /// Filled by populating its materialized view rather than by copying.
        public let populated: Bool
    }

    let analytics: Analytics
    static let pageRows = 50_000
    /// How long appends that began on the embedded engine before the switch are given to finish.
    static let settle = Duration.seconds(2)

    public init(analytics: Analytics) {
        self.analytics = analytics
    }

    /// `clickHouse` is the workspace's `clickhouse` settings (url, database, …); `progress` hears each data source's
    /// rows copied so far and its total.
    public func migrate(_ workspace: Workspace, clickHouse: [String: JSONValue],
                        progress: @Sendable (String, Int, Int) async -> Void) async throws -> [Copied] {
        guard workspace.engine == "embedded" else {
            throw DomainError.conflict("workspace \(workspace.name) already runs on \(workspace.engine)")
        }
        var settings = workspace.settings
        settings["engine"] = .string("clickhouse")
        settings["clickhouse"] = .object(clickHouse)
        let switched = Workspace(id: workspace.id, name: workspace.name, adminToken: workspace.adminToken, settings: settings,
                                 createdAt: workspace.createdAt)
        guard let target = try ClickHouseWorkspaceSettings(workspace: switched, environment: analytics.engine.environment) else {
            throw DomainError.invalidBody("no ClickHouse settings")
        }
        let clickHouseTables = ClickHouseWorkspace(settings: target, logger: analytics.engine.logger)
        let embedded = try await analytics.engine.database(workspace.id)
        let dataSources = try await analytics.catalog.dataSources(in: workspace)
        let views = try await analytics.catalog.pipes(in: workspace).compactMap { try Analytics.view($0.definition, dataSources: dataSources) }
        let viewTargets = Set(views.map(\.target.name))

        for source in dataSources {
            try await clickHouseTables.create(source.definition)
            let present = try await clickHouseTables.rowCount(source.name)
            guard present == 0 else {
                throw DomainError.conflict("the ClickHouse table \(target.primary.database).\(source.name) already holds \(present) rows: drop it, or migrate into another database")
            }
        }
        var lastRowIDs: [String: Int] = [:]
        for source in dataSources where !viewTargets.contains(source.name) {
            lastRowIDs[source.name] = try await copy(source.definition, after: 0, from: embedded, to: clickHouseTables, progress: progress)
            try await copyQuarantine(source.name, from: embedded, to: clickHouseTables)
        }
        for view in views {
            try await clickHouseTables.attach(view)
            _ = try await clickHouseTables.populate(view, truncate: true)
        }
        try await verify(dataSources.filter { !viewTargets.contains($0.name) }, copiedThrough: lastRowIDs, embedded: embedded,
                         clickHouse: clickHouseTables)

        _ = try await analytics.catalog.ensureWorkspace(name: workspace.name, id: workspace.id, adminToken: nil, settings: settings)
        try await Task.sleep(for: Self.settle)
        var copied: [Copied] = []
        for source in dataSources {
            if viewTargets.contains(source.name) {
                copied.append(Copied(dataSource: source.name, rows: try await clickHouseTables.rowCount(source.name), populated: true))
                continue
            }
            _ = try await copy(source.definition, after: lastRowIDs[source.name] ?? 0, from: embedded, to: clickHouseTables) { _, _, _ in }
            copied.append(Copied(dataSource: source.name, rows: try await clickHouseTables.rowCount(source.name), populated: false))
        }
        return copied
    }

    /// Copies rows after `after` (a rowid) and returns the last rowid copied.
    private func copy(_ definition: DataSourceDefinition, after: Int, from embedded: WorkspaceDatabase, to clickHouse: ClickHouseWorkspace,
                      progress: @Sendable (String, Int, Int) async -> Void) async throws -> Int {
        let total = try await embedded.rowCount(definition.name)
        var last = after, done = 0
        while true {
            let page = try await embedded.rows(of: definition.name, columns: definition.columns.map(\.name), after: last, limit: Self.pageRows)
            guard !page.rows.isEmpty else { break }
            let refused = try await clickHouse.append(definition, rows: page.rows, quarantined: [], replace: false, views: [])
            guard refused.isEmpty else {
                throw DomainError.invalidQuery("ClickHouse refused \(refused.count) rows of \(definition.name) (\(refused[0].row.error)); they are in its quarantine there. Nothing was switched.")
            }
            last = page.last
            done += page.rows.count
            await progress(definition.name, done, max(total, done))
        }
        await progress(definition.name, done, max(total, done))
        return last
    }

    private func copyQuarantine(_ name: String, from embedded: WorkspaceDatabase, to clickHouse: ClickHouseWorkspace) async throws {
        let columns = ["c__error", "c__error_column", "c__line", "insertion_date"]
        var last = 0
        while true {
            let page = try await embedded.rows(of: name + "_quarantine", columns: columns, after: last, limit: Self.pageRows)
            guard !page.rows.isEmpty else { return }
            try await clickHouse.insertQuarantined(page.rows.map { row in
                .object(Dictionary(uniqueKeysWithValues: zip(columns, row.map { JSONValue.string($0.string ?? "") })))
            }, into: name)
            last = page.last
        }
    }

    /// The rows copied so far (up to each table's last copied rowid; appends go on meanwhile) are all in ClickHouse.
    private func verify(_ dataSources: [DataSourceRecord], copiedThrough lastRowIDs: [String: Int], embedded: WorkspaceDatabase,
                        clickHouse: ClickHouseWorkspace) async throws {
        for source in dataSources {
            let expected = try await embedded.rowCount(source.name, throughRowID: lastRowIDs[source.name] ?? 0)
            let found = try await clickHouse.rowCount(source.name)
            guard expected == found else {
                throw DomainError.conflict("\(source.name): \(expected) rows in the embedded engine, \(found) in ClickHouse; the workspace was not switched")
            }
        }
    }
}
