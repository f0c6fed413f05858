import TesseraCore

/// What `POST /v0/datasources/<name>/alter` (and so `tb push --force` of a changed `.datasource`) may change on the
/// embedded engine: the description, and columns added after the existing ones. Rows already stored take the new
/// column's default (NULL for a `Nullable` one), as ClickHouse fills them.
public struct DataSourceAlteration: Sendable {
    /// Tinybird's wording of each change, for `tb` to show before it asks.
    public let operations: [String]
    let definition: DataSourceDefinition
    let addedColumns: [ColumnSpec]

    /// Refuses what it cannot do, and an alteration that changes nothing (Tinybird's "There were no operations to
    /// perform", which `tb push --force` of an unchanged file expects).
    public init(_ current: DataSourceDefinition, schema: String?, description: String?, ttl: String? = nil) throws {
        if let ttl, !["", "false"].contains(ttl.lowercased()) {
            throw DomainError.invalidQuery("TTL is not supported on the embedded engine")
        }
        var definition = current
        var operations: [String] = []
        var added: [ColumnSpec] = []
        if let description, description != current.description {
            definition.description = description
            operations.append("Changed description")
        }
        if let schema {
            let columns = try Datafile.schema(schema)
            let kept = columns.prefix(current.columns.count)
            for (old, new) in zip(current.columns, kept) where old.name != new.name || old.type != new.type {
                throw DomainError.invalidQuery("Column \(old.name) \(old.type) cannot become \(new.name) \(new.type): the embedded engine adds columns after the existing ones and changes none")
            }
            guard columns.count >= current.columns.count else {
                let dropped = current.columns[columns.count...].map(\.name).joined(separator: ", ")
                throw DomainError.invalidQuery("Dropping columns (\(dropped)) is not supported: create a new data source and move the rows")
            }
            if kept.map(\.jsonPath) != current.columns.map(\.jsonPath) {
                operations.append("Changed JSON paths")
            }
            added = Array(columns.dropFirst(current.columns.count))
            operations += added.map { "ADD COLUMN `\($0.name)` \($0.type)" }
            definition.columns = columns
            try Catalog.check(definition)
        }
        guard !operations.isEmpty else { throw DomainError.invalidQuery("There were no operations to perform") }
        self.operations = operations
        self.definition = definition
        self.addedColumns = added
    }
}

extension Analytics {
    /// Applies an alteration: the table first (adding only what it lacks, so a retry after a failure is safe), then the
    /// catalog.
    public func alter(_ record: DataSourceRecord, with alteration: DataSourceAlteration, in workspace: Workspace) async throws -> DataSourceRecord {
        if !alteration.addedColumns.isEmpty {
            try await engine.tables(for: workspace).addColumns(alteration.addedColumns, to: record.name)
        }
        return try await catalog.saveDataSource(alteration.definition, in: workspace, allowingAddedColumns: true).0
    }
}

extension ColumnType {
    /// The value ClickHouse gives a column that was not written: zero, empty, the epoch; NULL when it may be NULL.
    var defaultLiteral: String {
        if isNullable { return "NULL" }
        switch base {
        case .integer, .bool: return "0"
        case .float: return "0.0"
        case .date: return "'1970-01-01'"
        case .dateTime, .dateTime64: return "'1970-01-01 00:00:00'"
        case .array: return "'[]'"
        case .string: return "''"
        default: return "NULL"
        }
    }
}
