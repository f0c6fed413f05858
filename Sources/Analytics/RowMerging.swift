/// How an append combines a row with the stored row of the same sorting key, as ClickHouse's merging engines do.
/// ClickHouse merges in the background, so a read may still see several rows per key (which is why endpoints over
/// such tables aggregate again with `-Merge` or `sum`); here the merge happens in the append, with SQLite's upsert,
/// so the table holds one row per key and those reads give the same answers over far fewer rows.
struct RowMerging: Sendable, Equatable {
    /// The sorting key's columns: a unique index on them is the upsert's conflict target.
    let key: [String]
    /// `SET` assignments for the other columns; a column not listed keeps the stored value.
    let assignments: [String]
    /// A condition on the upsert (`ReplacingMergeTree`'s version column).
    let condition: String?

    init?(_ definition: DataSourceDefinition) {
        let engine = definition.tableEngine
        guard engine != .mergeTree, let key = definition.sortingKey else { return nil }
        let table = WorkspaceDatabase.quoted(definition.name)
        func existing(_ column: String) -> String { "\(table).\(WorkspaceDatabase.quoted(column))" }
        func incoming(_ column: String) -> String { "excluded.\(WorkspaceDatabase.quoted(column))" }
        var assignments: [String] = []
        var condition: String?
        for column in definition.columns where !key.contains(column.name) {
            let merged: String?
            switch (engine, column.type) {
            case (.replacingMergeTree, _):
                merged = incoming(column.name)
            case (_, .aggregateState(let function, _)), (_, .simpleAggregate(let function, _)):
                merged = function.mergeExpression(existing: existing(column.name), incoming: incoming(column.name))
            case (.summingMergeTree, let type) where type.isNumeric:
                merged = AggregateFunction.sum.mergeExpression(existing: existing(column.name), incoming: incoming(column.name))
            default:
                merged = nil  // ClickHouse keeps any one of the merged rows' values; this keeps the first.
            }
            if let merged { assignments.append("\(WorkspaceDatabase.quoted(column.name)) = \(merged)") }
        }
        if case .replacingMergeTree(let version?) = engine, definition.columns.contains(where: { $0.name == version }) {
            condition = "\(incoming(version)) >= \(existing(version))"
        }
        self.key = key
        self.assignments = assignments
        self.condition = condition
    }

    /// What follows an `INSERT` so rows with a stored key merge into it.
    var upsertClause: String {
        let target = "ON CONFLICT (\(key.map(WorkspaceDatabase.quoted).joined(separator: ", ")))"
        guard !assignments.isEmpty else { return target + " DO NOTHING" }
        return target + " DO UPDATE SET " + assignments.joined(separator: ", ") + (condition.map { " WHERE " + $0 } ?? "")
    }
}

extension ColumnType {
    var isNumeric: Bool {
        switch base {
        case .integer, .float: true
        default: false
        }
    }
}
