import Foundation
import SQLiteNIO
import TesseraCore

/// The analytics services a router needs.
public struct Analytics: Sendable {
    public let catalog: Catalog
    public let engine: AnalyticsEngine
    public let access: AnalyticsAccess
    public let endpoints: Endpoints
    public let limiter: RateLimiter
    public let jobs = AnalyticsJobs()
    public let ingestion: IngestionMeter
    let clock: TesseraClock

    public init(catalog: Catalog, engine: AnalyticsEngine, clock: TesseraClock) {
        self.catalog = catalog
        self.engine = engine
        self.clock = clock
        access = AnalyticsAccess(catalog: catalog, clock: clock)
        endpoints = Endpoints(catalog: catalog, engine: engine)
        limiter = RateLimiter(clock: clock, store: catalog.store)
        ingestion = IngestionMeter(store: catalog.store, clock: clock)
    }

    /// Creates or updates a data source's definition and its table. The table comes first, so the catalog never
    /// names a data source whose table could not be made.
    public func saveDataSource(_ definition: DataSourceDefinition, in workspace: Workspace) async throws -> (DataSourceRecord, changed: Bool) {
        try await catalog.checkBeforeSaving(definition, in: workspace)
        do { try await engine.tables(for: workspace).create(definition) } catch let error as SQLiteError {
            throw DomainError.invalidQuery("Data Source \(definition.name) cannot be created: \(error.message)")
        }
        return try await catalog.saveDataSource(definition, in: workspace)
    }

    /// Appends NDJSON or CSV to a data source, and what they make to the materialized views it feeds; bad rows go to
    /// quarantine.
    public func append(_ text: String, format: String, to record: DataSourceRecord, in workspace: Workspace,
                       replace: Bool = false) async throws -> Ingestion.Outcome {
        var outcome = format == "csv" ? Ingestion.csv(text, into: record.definition) : Ingestion.ndjson(text, into: record.definition)
        let storage = try await engine.storage(for: workspace)
        // ClickHouse feeds its own materialized views on insert; only the embedded engine runs them in the append.
        var views: [MaterializedView] = []
        if case .embedded = storage { views = try await self.views(fedBy: record.name, in: workspace) }
        do {
            let refused = try await storage.tables.append(record.definition, rows: outcome.rows, quarantined: outcome.quarantined,
                                                          replace: replace, views: views)
            if !refused.isEmpty {
                let indices = Set(refused.map(\.index))
                outcome.rows = outcome.rows.enumerated().filter { !indices.contains($0.offset) }.map(\.element)
                outcome.quarantined += refused.map(\.row)
            }
        } catch let error as SQLiteError where !views.isEmpty && error.reason != .busy && error.reason != .locked {
            throw DomainError.invalidQuery("[Error] \(error.message) (in a materialized view fed by \(record.name): \(views.map(\.pipe).joined(separator: ", "))); no rows were appended")
        }
        await ingestion.record(workspace: workspace.id, datasource: record.name, rows: outcome.rows.count, quarantined: outcome.quarantined.count)
        return outcome
    }

    /// The caller, the pipe and the grant, checked in that order: a caller without a scope for the pipe learns
    /// nothing about whether it exists.
    public func authorize(pipe name: String, token: String?) async throws -> PipeAccess {
        let principal = try await access.principal(token: token)
        let pipe = try await catalog.pipe(name, in: principal.workspace)
        guard let grant = principal.pipeGrant(name: name, id: pipe?.id) ?? pipe.flatMap({ principal.pipeGrant(name: $0.name, id: $0.id) }) else {
            throw DomainError(.forbidden, code: "forbidden", "The token \(principal.name) has no PIPES:READ scope for the pipe \(name)")
        }
        guard let pipe else { throw DomainError.notFound("The pipe \(name) does not exist") }
        return PipeAccess(principal: principal, pipe: pipe, grant: grant)
    }

    /// Reads a pipe as its endpoint does: authorization, the token's rate limit, then the query with `defaults`
    /// (a chart's parameters) under the request's parameters under the token's fixed parameters.
    public func read(pipe name: String, token: String?, parameters: [String: String],
                     defaults: [String: String] = [:]) async throws -> EndpointRead {
        try await read(try await authorize(pipe: name, token: token), parameters: parameters, defaults: defaults)
    }

    public func read(_ granted: PipeAccess, parameters: [String: String], defaults: [String: String] = [:]) async throws -> EndpointRead {
        let principal = granted.principal
        var decision: RateLimiter.Decision?
        if let rps = principal.rps {
            let checked = try await limiter.check(principal.workspace.id + "/" + principal.name, limit: rps)
            guard checked.allowed else { throw RateLimited(decision: checked, tokenName: principal.name) }
            decision = checked
        }
        var merged = defaults
        for (key, value) in parameters { merged[key] = value }
        for (key, value) in granted.grant.fixedParams { merged[key] = value }
        let result = try await endpoints.run(granted.pipe, in: principal.workspace, parameters: merged, filters: principal.dataSourceFilters)
        return EndpointRead(principal: principal, pipe: granted.pipe, result: result, rateLimit: decision)
    }

    /// Each ClickHouse-backed workspace's engine, as the readiness probe reports it: `ok` when every node answers.
    public func engineHealth() async throws -> [String: String] {
        var health: [String: String] = [:]
        for workspace in try await catalog.workspaces() where workspace.engine == "clickhouse" {
            guard case .clickHouse(let clickHouse) = try await engine.storage(for: workspace) else { continue }
            health[workspace.name] = await clickHouse.ping() ? "ok" : "unavailable"
        }
        return health
    }

    public func deleteDataSource(_ record: DataSourceRecord, in workspace: Workspace) async throws {
        try await catalog.deleteDataSource(record)
        try await engine.tables(for: workspace).drop(record.name)
        try await ingestion.forget(workspace: workspace.id, datasource: record.name)
    }
}

/// A caller allowed to read a pipe, with what its token grants on it.
public struct PipeAccess: Sendable {
    public let principal: Principal
    public let pipe: PipeRecord
    public let grant: Principal.Grant
}

/// A read of a pipe through its endpoint, with the rate limit it counted against.
public struct EndpointRead: Sendable {
    public let principal: Principal
    public let pipe: PipeRecord
    public let result: EndpointResult
    public let rateLimit: RateLimiter.Decision?
}

/// A token went over its `limits.rps`.
public struct RateLimited: Error, Sendable {
    public let decision: RateLimiter.Decision
    public let tokenName: String

    public var message: String { "Too many requests: the token \(tokenName) allows \(decision.limit) per second" }
}

