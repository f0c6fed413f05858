import Foundation
import SQLKit
import TesseraCore
import TesseraStore

/// Charts, per workspace and pipe, in the main store.
public struct ChartStore: Sendable {
    let store: Store
    let clock: TesseraClock
    /// Every chart page reads its chart; saving or deleting one drops the copies (with the rest of the analytics rows).
    let cached: RowCache<String, ChartSpec>

    public init(store: Store, clock: TesseraClock = .system) {
        self.store = store
        self.clock = clock
        cached = RowCache(.analytics, of: store, clock: clock)
    }

    public static let notFound = DomainError.notFound("The chart does not exist")

    /// Creates the chart, or replaces the one with its id. Returns whether anything changed.
    @discardableResult
    public func save(_ chart: ChartSpec, workspace: String) async throws -> Bool {
        let text = chart.wire.jsonText()
        let now = Timestamp.string(clock.now())
        return try await store.transaction(changing: .analytics) { db in
            if let row = try await db.select().columns("workspace_id", "spec").from("analytics_charts").where("id", .equal, chart.id).first() {
                guard try row.string("workspace_id") == workspace else {
                    throw DomainError.conflict("A chart with id \(chart.id) belongs to another workspace")
                }
                if try row.string("spec") == text { return false }
                try await db.update("analytics_charts").set("spec", to: text).set("pipe", to: chart.pipe).set("updated_at", to: now)
                    .where("id", .equal, chart.id).run()
                return true
            }
            try await db.insert(into: "analytics_charts").columns("id", "workspace_id", "pipe", "spec", "created_at", "updated_at")
                .values(SQLBind(chart.id), SQLBind(workspace), SQLBind(chart.pipe), SQLBind(text), SQLBind(now), SQLBind(now)).run()
            return true
        }
    }

    public func charts(workspace: String, pipe: String) async throws -> [ChartSpec] {
        try await store.read { db in
            try await db.select().columns("spec").from("analytics_charts").where("workspace_id", .equal, workspace)
                .where("pipe", .equal, pipe).orderBy("created_at").all().map { try Self.decode($0, pipe: pipe) }
        }
    }

    public func chart(_ id: String, workspace: String, pipe: String) async throws -> ChartSpec? {
        try await cached.value([workspace, pipe, id.lowercased()].joined(separator: "\n")) {
            try await store.read { db in
                try await db.select().columns("spec").from("analytics_charts").where("workspace_id", .equal, workspace)
                    .where("pipe", .equal, pipe).where("id", .equal, id.lowercased()).first().map { try Self.decode($0, pipe: pipe) }
            }
        }
    }

    public func delete(_ id: String, workspace: String, pipe: String) async throws {
        guard try await chart(id, workspace: workspace, pipe: pipe) != nil else { throw Self.notFound }
        try await store.transaction(changing: .analytics) { db in try await db.delete(from: "analytics_charts").where("id", .equal, id.lowercased()).run() }
    }

    static func decode(_ row: any SQLRow, pipe: String) throws -> ChartSpec {
        var fields = try row.jsonObject("spec")
        fields["pipe"] = nil
        return try ChartSpec(pipe: pipe, body: .object(fields))
    }
}
