import GraphQL
import TesseraCore

/// A relationship from metadata, resolved against the database's foreign keys into column pairs.
struct RelationshipModel: Sendable {
    var name: String
    var remote: QualifiedTable
    /// (column of this table, column of the remote table), compared for equality.
    var mapping: [(local: String, remote: String)]
    var isArray: Bool
}

/// The root fields of one table, with Hasura's default names or the metadata's `custom_root_fields`.
enum RootFieldKind: String, CaseIterable, Sendable {
    case select, selectByPk = "select_by_pk", selectAggregate = "select_aggregate"
    case insert, insertOne = "insert_one", update, updateByPk = "update_by_pk", updateMany = "update_many"
    case delete, deleteByPk = "delete_by_pk"

    var isMutation: Bool { ![.select, .selectByPk, .selectAggregate].contains(self) }

    func defaultName(_ type: String) -> String {
        switch self {
        case .select: type
        case .selectByPk: "\(type)_by_pk"
        case .selectAggregate: "\(type)_aggregate"
        case .insert: "insert_\(type)"
        case .insertOne: "insert_\(type)_one"
        case .update: "update_\(type)"
        case .updateByPk: "update_\(type)_by_pk"
        case .updateMany: "update_\(type)_many"
        case .delete: "delete_\(type)"
        case .deleteByPk: "delete_\(type)_by_pk"
        }
    }
}

struct TableModel: Sendable {
    /// The table as the database has it: every column, which permission filters may read.
    var info: TableInfo
    /// The GraphQL type: the table's name in `public`, `<schema>_<name>` elsewhere, or `custom_name`.
    var typeName: String
    var relationships: [String: RelationshipModel]
    /// The columns the role may use (all of them for admin).
    var columns: [ColumnInfo]
    /// The role's select permission; nil for admin, who reads every row.
    var permission: SelectPermission?
    /// False in a role's schema. A table the role may not select is still there, hidden: its permissions' filters
    /// may go through it.
    var isAdmin = true
    var hidden = false
    /// Every relationship, for reading permission filters; `relationships` holds those the role may follow.
    var allRelationships: [String: RelationshipModel] = [:]
    /// The role's write permissions; nil for admin, and for a role without that permission (then `isAdmin` says which).
    var insertPermission: WritePermission?
    var updatePermission: WritePermission?
    var deletePermission: WritePermission?

    /// Columns an insert may name, and an update may set.
    var insertColumns: [ColumnInfo] { isAdmin ? info.columns : insertPermission?.writable(info.columns) ?? [] }
    var updateColumns: [ColumnInfo] { isAdmin ? info.columns : updatePermission?.writable(info.columns) ?? [] }
    var mayInsert: Bool { isAdmin || insertPermission != nil }
    var mayUpdate: Bool { isAdmin || updatePermission != nil }
    var mayDelete: Bool { isAdmin || deletePermission != nil }
    /// A role that may insert into a table it cannot select, as Hasura allows: `insert_<t>` answers `affected_rows`
    /// only; nothing else of the table exists for the role.
    var insertOnly: Bool { hidden && !isAdmin && insertPermission != nil }

    var table: QualifiedTable { info.table }
    var allowsAggregations: Bool { permission?.allowAggregations ?? true }

    /// A column the role may use, by name.
    func column(_ name: String) -> ColumnInfo? { columns.first { $0.name == name } }
    var numericColumns: [ColumnInfo] { columns.filter(\.scalar.isNumeric) }
    var comparableColumns: [ColumnInfo] { columns.filter { $0.scalar.category != .json && $0.scalar.category != .boolean } }
}

struct RootField: Sendable {
    var kind: RootFieldKind
    var table: QualifiedTable
}

/// What clients can ask of the engine: the tables metadata exposes, their root fields and relationships, and the same
/// as GraphQL SDL built into the library's schema, which answers introspection and checks documents against the spec.
struct GraphSchema: Sendable {
    var tables: [QualifiedTable: TableModel]
    var queryFields: [String: RootField]
    var mutationFields: [String: RootField]
    var library: GraphQLSchema
    /// Defaults of input object fields (`<table>_on_conflict.update_columns = []`), by type and field: GraphQLSwift's
    /// introspection reports defaults of arguments only, so ``restoringInputDefaults(_:)`` puts these back.
    var inputDefaults: [String: [String: String]] = [:]
    /// Whether bigint, numeric and double precision values are answered as strings (`HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES`).
    var stringifyNumbers = false
    /// The database's tables the schema was built from, so a role's schema is built without reading them again.
    var database: [QualifiedTable: TableInfo] = [:]
    /// Counts rebuilds, so plans made for an older schema are not reused.
    var generation = 0
    /// Metadata objects that could not be served (a table that is gone, a relationship without a foreign key).
    var inconsistencies: [String]

    func table(_ name: QualifiedTable) -> TableModel { tables[name]! }

    /// The schema `role` sees: nil (admin) sees every tracked table; another role only the tables, columns, rows and
    /// root fields its permissions give it (a table it may not select is not there for it at all).
    static func build(metadata: Metadata, database: [QualifiedTable: TableInfo], generation: Int = 0,
                      stringifyNumbers: Bool = false, role: String? = nil, backendOnly: Bool = false) throws -> GraphSchema {
        var inconsistencies: [String] = []
        var models: [QualifiedTable: TableModel] = [:]
        var entries: [QualifiedTable: [String: JSONValue]] = [:]
        for entry in metadata.tables {
            guard let name = try? Metadata.qualifiedTable(entry["table"]!, path: "$") else { continue }
            guard let info = database[name] else {
                inconsistencies.append("table \"\(name)\" is tracked in metadata but does not exist in the database")
                continue
            }
            let configuration = entry["configuration"]?.objectValue ?? [:]
            let typeName = configuration["custom_name"]?.stringValue
                ?? (name.schema == "public" ? name.name : "\(name.schema)_\(name.name)")
            guard Naming.isValid(typeName) else {
                inconsistencies.append("table \"\(name)\" has no valid GraphQL name")
                continue
            }
            var usable = info
            usable.columns = info.columns.filter { Naming.isValid($0.name) }
            var permission: SelectPermission?
            if let role { permission = SelectPermission.of(role: role, in: entry) }
            // Admin sees every column; a role those its permission lists (`"*"` is all), none without one.
            let visible = usable.columns.filter { column in permission.map { $0.columns?.contains(column.name) ?? true } ?? (role == nil) }
            var model = TableModel(info: usable, typeName: typeName, relationships: [:], columns: visible, permission: permission)
            if let role {
                model.isAdmin = false
                // Without a select permission, or with no column to read, the table does not exist for the role.
                model.hidden = permission == nil || visible.isEmpty
                // As Hasura builds a role's frontend and backend schemas: backend-only permissions in the one, the
                // others in the other.
                func write(_ kind: String) -> WritePermission? {
                    WritePermission.of(kind, role: role, in: entry).flatMap { $0.backendOnly == backendOnly ? $0 : nil }
                }
                model.insertPermission = write("insert")
                model.updatePermission = write("update")
                model.deletePermission = write("delete")
            }
            models[name] = model
            entries[name] = entry
        }
        for (name, entry) in entries {
            for kind in [RelationshipKind.object, .array] {
                for relationship in entry[kind.key]?.arrayValue ?? [] {
                    do {
                        let model = try resolve(relationship, kind: kind, of: models[name]!.info, tables: models)
                        models[name]!.relationships[model.name] = model
                    } catch {
                        inconsistencies.append("relationship on \"\(name)\": \(error)")
                    }
                }
            }
        }
        var queryFields: [String: RootField] = [:]
        var mutationFields: [String: RootField] = [:]
        for (name, model) in models where !model.hidden || model.insertOnly {
            let custom = entries[name]?["configuration"]?.objectValue?["custom_root_fields"]?.objectValue ?? [:]
            for kind in RootFieldKind.allCases {
                if [.selectByPk, .updateByPk, .deleteByPk].contains(kind), model.info.primaryKey == nil { continue }
                if model.insertOnly, kind != .insert { continue }
                if let permission = model.permission {
                    switch kind {
                    case .insert, .insertOne: guard model.mayInsert else { continue }
                    case .update, .updateByPk, .updateMany: guard model.mayUpdate else { continue }
                    case .delete, .deleteByPk: guard model.mayDelete else { continue }
                    default:
                        guard kind != .selectAggregate || permission.allowAggregations,
                              permission.rootFields?.contains(kind.rawValue) ?? true else { continue }
                    }
                    // by_pk needs every key column readable.
                    if kind == .selectByPk, !(model.info.primaryKey?.columns.allSatisfy { model.column($0) != nil } ?? false) { continue }
                }
                let field = custom[kind.rawValue]?.stringValue ?? kind.defaultName(model.typeName)
                if kind.isMutation { mutationFields[field] = RootField(kind: kind, table: name) }
                else { queryFields[field] = RootField(kind: kind, table: name) }
            }
        }
        // A relationship to a table the role cannot read does not exist for it (its permissions may still use it).
        for name in models.keys {
            models[name]!.allRelationships = models[name]!.relationships
            models[name]!.relationships = models[name]!.relationships.filter { models[$0.value.remote]?.hidden == false }
        }
        let sdl = SDLWriter(tables: models.filter { !$0.value.hidden || $0.value.insertOnly }, queryFields: queryFields, mutationFields: mutationFields).write()
        let library = try buildSchema(source: sdl)
        var inputDefaults: [String: [String: String]] = [:]
        for model in models.values where !model.info.constraints.isEmpty {
            inputDefaults["\(model.typeName)_on_conflict"] = ["update_columns": "[]"]
        }
        return GraphSchema(tables: models, queryFields: queryFields, mutationFields: mutationFields, library: library,
                           inputDefaults: inputDefaults, stringifyNumbers: stringifyNumbers, database: database, generation: generation,
                           inconsistencies: inconsistencies)
    }

    private static func resolve(_ value: JSONValue, kind: RelationshipKind, of table: TableInfo,
                                tables: [QualifiedTable: TableModel]) throws -> RelationshipModel {
        guard let fields = value.objectValue, let name = fields["name"]?.stringValue, Naming.isValid(name),
              let using = fields["using"]?.objectValue else {
            throw HasuraError.parseFailed("a relationship needs a valid 'name' and 'using'")
        }
        guard table.column(name) == nil else {
            throw HasuraError("already-exists", "column/relationship \"\(name)\" of table \"\(table.table)\" already exists")
        }
        if let manual = using["manual_configuration"]?.objectValue {
            let remote = try Metadata.qualifiedTable(manual["remote_table"] ?? .null, path: "$")
            guard let remoteModel = tables[remote] else { throw HasuraError.notFound("table \"\(remote)\" is not tracked") }
            let pairs = (manual["column_mapping"]?.objectValue ?? [:]).sorted { $0.key < $1.key }
                .compactMap { pair in pair.value.stringValue.map { (local: pair.key, remote: $0) } }
            guard !pairs.isEmpty, pairs.allSatisfy({ table.column($0.local) != nil && remoteModel.info.column($0.remote) != nil }) else {
                throw HasuraError.parseFailed("column_mapping must pair columns of both tables")
            }
            return RelationshipModel(name: name, remote: remote, mapping: pairs, isArray: kind == .array)
        }
        guard let constraint = using["foreign_key_constraint_on"] else {
            throw HasuraError.parseFailed("'using' needs foreign_key_constraint_on or manual_configuration")
        }
        if let remoteSide = constraint.objectValue {
            // The foreign key is on the other table and points here.
            let remote = try Metadata.qualifiedTable(remoteSide["table"] ?? .null, path: "$")
            guard let remoteModel = tables[remote] else { throw HasuraError.notFound("table \"\(remote)\" is not tracked") }
            let columns = remoteSide["columns"]?.arrayValue?.compactMap(\.stringValue)
                ?? remoteSide["column"]?.stringValue.map { [$0] } ?? []
            guard let key = remoteModel.info.foreignKeys.first(where: { $0.columns == columns && $0.referencedTable == table.table }) else {
                throw HasuraError.notFound("no foreign key constraint exists on the given column(s)")
            }
            return RelationshipModel(name: name, remote: remote, mapping: Array(zip(key.referencedColumns, key.columns)).map { ($0, $1) },
                                     isArray: kind == .array)
        }
        let columns = constraint.arrayValue?.compactMap(\.stringValue) ?? constraint.stringValue.map { [$0] } ?? []
        guard kind == .object,
              let key = table.foreignKeys.first(where: { $0.columns == columns }), tables[key.referencedTable] != nil else {
            throw HasuraError.notFound("no foreign key constraint exists on the given column(s)")
        }
        return RelationshipModel(name: name, remote: key.referencedTable,
                                 mapping: Array(zip(key.columns, key.referencedColumns)).map { ($0, $1) }, isArray: false)
    }
}

extension GraphSchema {
    /// An introspection result with the input field defaults the SDL declares, so that clients validating against it
    /// (gql, codegen) accept `on_conflict` without `update_columns`, as the server does.
    func restoringInputDefaults(_ value: Map, typeName: String? = nil) -> Map {
        switch value {
        case .array(let items): return .array(items.map { restoringInputDefaults($0) })
        case .dictionary(var fields):
            var name = typeName
            if case .string(let named) = fields["name"] ?? .null { name = named }
            if let name, let defaults = inputDefaults[name],
               case .array(let inputs) = fields["inputFields"] ?? .null {
                fields["inputFields"] = .array(inputs.map { input in
                    guard case .dictionary(var inputField) = input, case .string(let field) = inputField["name"] ?? .null,
                          let fallback = defaults[field], (inputField["defaultValue"] ?? .null).isNull || (inputField["defaultValue"] ?? .null).isUndefined else { return input }
                    inputField["defaultValue"] = .string(fallback)
                    return .dictionary(inputField)
                })
            }
            for (key, nested) in fields where key != "inputFields" { fields[key] = restoringInputDefaults(nested) }
            return .dictionary(fields)
        default: return value
        }
    }
}

enum Naming {
    /// GraphQL names: `[_A-Za-z][_0-9A-Za-z]*`, and not the reserved `__` prefix.
    static func isValid(_ name: String) -> Bool {
        guard let first = name.utf8.first, !name.hasPrefix("__") else { return false }
        func letter(_ byte: UInt8) -> Bool { (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 95 }
        return letter(first) && name.utf8.allSatisfy { letter($0) || ($0 >= 48 && $0 <= 57) }
    }
}
