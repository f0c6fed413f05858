import TesseraCore

/// Hasura's metadata (format version 3) for the one source, `default`, kept as the JSON Hasura reads and writes so
/// that `export_metadata` returns what was put in, keys Tessera does not act on included.
public struct Metadata: Sendable, Equatable {
    /// The `tables` list of source `default`: one object per tracked table.
    public private(set) var tables: [[String: JSONValue]]
    /// Keys of the metadata object other than `version` and `sources` (actions, allow lists, …): kept, not served.
    var otherKeys: [String: JSONValue]
    var sourceKeys: [String: JSONValue]

    public static let empty = Metadata(tables: [], otherKeys: [:], sourceKeys: [:])

    /// Reads the object `export_metadata` returns and `replace_metadata` takes.
    public init(json: JSONValue, path: String = "$.metadata") throws(HasuraError) {
        guard case .object(var object) = json else {
            throw HasuraError.parseFailed("expected an object for metadata", path: path)
        }
        if let version = object["version"], version != .number(3) {
            throw HasuraError.parseFailed("only metadata version 3 is supported", path: path + ".version")
        }
        object["version"] = nil
        let sources = object.removeValue(forKey: "sources")?.arrayValue ?? []
        var tables: [[String: JSONValue]] = []
        var sourceKeys: [String: JSONValue] = [:]
        for (index, source) in sources.enumerated() {
            guard case .object(var fields) = source else {
                throw HasuraError.parseFailed("expected an object for a source", path: "\(path).sources[\(index)]")
            }
            guard fields["name"]?.stringValue == "default" else {
                throw HasuraError.notSupported("only the source named 'default' is supported", path: "\(path).sources[\(index)].name")
            }
            for (tableIndex, table) in (fields.removeValue(forKey: "tables")?.arrayValue ?? []).enumerated() {
                guard case .object(let entry) = table, entry["table"] != nil else {
                    throw HasuraError.parseFailed("expected an object with a 'table' key", path: "\(path).sources[\(index)].tables[\(tableIndex)]")
                }
                _ = try Self.qualifiedTable(entry["table"]!, path: "\(path).sources[\(index)].tables[\(tableIndex)].table")
                tables.append(entry)
            }
            sourceKeys = fields
        }
        self.init(tables: tables, otherKeys: object, sourceKeys: sourceKeys)
    }

    private init(tables: [[String: JSONValue]], otherKeys: [String: JSONValue], sourceKeys: [String: JSONValue]) {
        self.tables = tables
        self.otherKeys = otherKeys
        self.sourceKeys = sourceKeys
    }

    public var json: JSONValue {
        var source = sourceKeys
        source["name"] = .string("default")
        if source["kind"] == nil { source["kind"] = .string("postgres") }
        if source["configuration"] == nil {
            source["configuration"] = .object(["connection_info": .object([
                "database_url": .object(["from_env": .string("HASURA_GRAPHQL_DATABASE_URL")]),
                "isolation_level": .string("read-committed"), "use_prepared_statements": .bool(false),
            ])])
        }
        source["tables"] = .array(tables.map(JSONValue.object))
        var object = otherKeys
        object["version"] = .number(3)
        object["sources"] = .array([.object(source)])
        return .object(object)
    }

    public var trackedTables: [QualifiedTable] {
        tables.compactMap { try? Self.qualifiedTable($0["table"]!, path: "$") }
    }

    func entryIndex(_ table: QualifiedTable) -> Int? {
        tables.firstIndex { (try? Self.qualifiedTable($0["table"]!, path: "$")) == table }
    }

    mutating func track(_ table: QualifiedTable, configuration: JSONValue?) throws(HasuraError) {
        if entryIndex(table) != nil {
            throw HasuraError("already-tracked", "view/table already tracked: \"\(table)\"")
        }
        var entry: [String: JSONValue] = ["table": .object(["schema": .string(table.schema), "name": .string(table.name)])]
        if let configuration, configuration != .object([:]) { entry["configuration"] = configuration }
        tables.append(entry)
    }

    mutating func untrack(_ table: QualifiedTable) throws(HasuraError) {
        guard let index = entryIndex(table) else {
            throw HasuraError("already-untracked", "view/table already untracked: \"\(table)\"")
        }
        tables.remove(at: index)
        // Relationships of other tables that point at it go too, as Hasura's cascade does.
        for other in tables.indices {
            for key in ["object_relationships", "array_relationships"] {
                guard let list = tables[other][key]?.arrayValue else { continue }
                tables[other][key] = .array(list.filter { Self.relationshipTarget($0) != table })
            }
        }
    }

    mutating func addRelationship(_ kind: RelationshipKind, on table: QualifiedTable, _ relationship: [String: JSONValue]) throws(HasuraError) {
        guard let index = entryIndex(table) else { throw HasuraError.notFound("table \"\(table)\" does not exist") }
        guard let name = relationship["name"]?.stringValue else {
            throw HasuraError.parseFailed("the key 'name' was not found", path: "$.args")
        }
        if relationshipNames(at: index).contains(name) {
            throw HasuraError("already-exists", "relationship with name \"\(name)\" already exists")
        }
        var list = tables[index][kind.key]?.arrayValue ?? []
        var stored = relationship
        stored["source"] = nil
        stored["table"] = nil
        list.append(.object(stored))
        tables[index][kind.key] = .array(list)
    }

    mutating func dropRelationship(_ name: String, on table: QualifiedTable) throws(HasuraError) {
        guard let index = entryIndex(table) else { throw HasuraError.notFound("table \"\(table)\" does not exist") }
        guard relationshipNames(at: index).contains(name) else {
            throw HasuraError("not-exists", "relationship \"\(name)\" does not exist")
        }
        for key in ["object_relationships", "array_relationships"] {
            guard let list = tables[index][key]?.arrayValue else { continue }
            let kept = list.filter { $0.objectValue?["name"]?.stringValue != name }
            tables[index][key] = kept.isEmpty ? nil : .array(kept)
        }
    }

    /// `pg_create_<kind>_permission`: one permission per role and kind.
    mutating func addPermission(_ kind: String, on table: QualifiedTable, role: String, _ permission: JSONValue) throws(HasuraError) {
        guard let index = entryIndex(table) else { throw HasuraError.notFound("table \"\(table)\" does not exist") }
        let key = "\(kind)_permissions"
        var list = tables[index][key]?.arrayValue ?? []
        if list.contains(where: { $0.objectValue?["role"]?.stringValue == role }) {
            throw HasuraError("already-exists", "\(kind) permission already defined on table \"\(table)\" with role \"\(role)\"")
        }
        list.append(.object(["role": .string(role), "permission": permission]))
        tables[index][key] = .array(list)
    }

    mutating func dropPermission(_ kind: String, on table: QualifiedTable, role: String) throws(HasuraError) {
        guard let index = entryIndex(table) else { throw HasuraError.notFound("table \"\(table)\" does not exist") }
        let key = "\(kind)_permissions"
        let list = tables[index][key]?.arrayValue ?? []
        let kept = list.filter { $0.objectValue?["role"]?.stringValue != role }
        guard kept.count < list.count else {
            throw HasuraError("permission-denied", "\(kind) permission does not exist on table \"\(table)\" for role \"\(role)\"")
        }
        tables[index][key] = kept.isEmpty ? nil : .array(kept)
    }

    private func relationshipNames(at index: Int) -> [String] {
        ["object_relationships", "array_relationships"].flatMap { key in
            (tables[index][key]?.arrayValue ?? []).compactMap { $0.objectValue?["name"]?.stringValue }
        }
    }

    private static func relationshipTarget(_ relationship: JSONValue) -> QualifiedTable? {
        guard let using = relationship.objectValue?["using"]?.objectValue else { return nil }
        if let remote = using["foreign_key_constraint_on"]?.objectValue?["table"] { return try? qualifiedTable(remote, path: "$") }
        if let remote = using["manual_configuration"]?.objectValue?["remote_table"] { return try? qualifiedTable(remote, path: "$") }
        return nil
    }

    /// `"users"` or `{"schema": "public", "name": "users"}`.
    static func qualifiedTable(_ value: JSONValue, path: String) throws(HasuraError) -> QualifiedTable {
        switch value {
        case .string(let name): return QualifiedTable(name: name)
        case .object(let fields):
            guard let name = fields["name"]?.stringValue else {
                throw HasuraError.parseFailed("the key 'name' was not found", path: path)
            }
            return QualifiedTable(schema: fields["schema"]?.stringValue ?? "public", name: name)
        default:
            throw HasuraError.parseFailed("expected a table name or an object with schema and name", path: path)
        }
    }
}

enum RelationshipKind: Sendable {
    case object, array
    var key: String { self == .object ? "object_relationships" : "array_relationships" }
}
