import Foundation
import SQLKit
import TesseraStore

/// A table's name as Hasura's metadata writes it: `{schema, name}`, or a bare name in `public`.
public struct QualifiedTable: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var schema: String
    public var name: String

    public init(schema: String = "public", name: String) {
        self.schema = schema
        self.name = name
    }

    public var description: String { schema == "public" ? name : "\(schema).\(name)" }

    public static func < (lhs: QualifiedTable, rhs: QualifiedTable) -> Bool {
        (lhs.schema, lhs.name) < (rhs.schema, rhs.name)
    }
}

/// A column's GraphQL scalar, named as Hasura names PostgreSQL's types, and how its values are written and compared.
struct ScalarType: Hashable, Sendable {
    enum Category: Sendable { case integer, float, string, boolean, json }
    /// The GraphQL scalar: `Int`, `String`, `Boolean`, `Float` or Hasura's own (`bigint`, `timestamptz`, `uuid`, …).
    var name: String
    var category: Category
    /// The PostgreSQL type bound values are cast to (`int4`, `timestamptz`); values travel as text.
    var postgresType: String

    var isBuiltIn: Bool { ["Int", "Float", "String", "Boolean", "ID"].contains(name) }
    var isNumeric: Bool { category == .integer || category == .float }
    var isTimestamp: Bool { name == "timestamp" || name == "timestamptz" }

    static let int = ScalarType(name: "Int", category: .integer, postgresType: "int4")
    static let string = ScalarType(name: "String", category: .string, postgresType: "text")
    static let boolean = ScalarType(name: "Boolean", category: .boolean, postgresType: "bool")
    static let float = ScalarType(name: "Float", category: .float, postgresType: "float8")

    /// The scalar for a declared SQL type, the same on SQLite (whose declared types are free text) and PostgreSQL.
    static func forDeclaredType(_ declared: String) -> ScalarType {
        var type = declared.lowercased().trimmingCharacters(in: .whitespaces)
        if let paren = type.firstIndex(of: "(") { type = String(type[..<paren]).trimmingCharacters(in: .whitespaces) }
        switch type {
        case "int", "integer", "int4", "serial", "serial4", "mediumint": return .int
        case "smallint", "int2", "smallserial", "tinyint": return ScalarType(name: "smallint", category: .integer, postgresType: "int2")
        case "bigint", "int8", "bigserial", "serial8": return ScalarType(name: "bigint", category: .integer, postgresType: "int8")
        case "real", "float4": return ScalarType(name: "float4", category: .float, postgresType: "float4")
        case "float8", "double precision", "double", "float": return ScalarType(name: "float8", category: .float, postgresType: "float8")
        case "numeric", "decimal": return ScalarType(name: "numeric", category: .float, postgresType: "numeric")
        case "bool", "boolean": return .boolean
        case "uuid": return ScalarType(name: "uuid", category: .string, postgresType: "uuid")
        case "date": return ScalarType(name: "date", category: .string, postgresType: "date")
        case "time", "time without time zone": return ScalarType(name: "time", category: .string, postgresType: "time")
        case "timetz", "time with time zone": return ScalarType(name: "timetz", category: .string, postgresType: "timetz")
        case "timestamp", "timestamp without time zone", "datetime":
            return ScalarType(name: "timestamp", category: .string, postgresType: "timestamp")
        case "timestamptz", "timestamp with time zone":
            return ScalarType(name: "timestamptz", category: .string, postgresType: "timestamptz")
        case "json": return ScalarType(name: "json", category: .json, postgresType: "json")
        case "jsonb": return ScalarType(name: "jsonb", category: .json, postgresType: "jsonb")
        case "varchar", "character varying", "char", "character", "bpchar", "name", "citext", "clob", "":
            return ScalarType(name: "String", category: .string, postgresType: type == "" ? "text" : type)
        default: return ScalarType(name: "String", category: .string, postgresType: "text")
        }
    }
}

struct ColumnInfo: Sendable, Equatable {
    var name: String
    var scalar: ScalarType
    var nullable: Bool
    var hasDefault: Bool
}

/// A unique constraint or primary key, with PostgreSQL's name for it (`users_pkey`, `users_email_key`), which
/// clients name in `on_conflict`; SQLite's unnamed ones get the names PostgreSQL would have given them.
struct ConstraintInfo: Sendable, Equatable {
    var name: String
    var columns: [String]
}

struct ForeignKeyInfo: Sendable, Equatable {
    var name: String
    var columns: [String]
    var referencedTable: QualifiedTable
    var referencedColumns: [String]
}

struct TableInfo: Sendable {
    var table: QualifiedTable
    var columns: [ColumnInfo]
    var primaryKey: ConstraintInfo?
    var uniqueConstraints: [ConstraintInfo]
    var foreignKeys: [ForeignKeyInfo]

    func column(_ name: String) -> ColumnInfo? { columns.first { $0.name == name } }

    /// The primary key first, then the unique constraints: what `<table>_constraint` lists.
    var constraints: [ConstraintInfo] { (primaryKey.map { [$0] } ?? []) + uniqueConstraints }
}

/// Reads tables, columns, keys and foreign keys from the database itself: metadata says which tables are exposed,
/// the database says what they are.
enum DatabaseIntrospection {
    static func tables(in store: Store) async throws -> [QualifiedTable: TableInfo] {
        try await store.read { db in
            switch store.dialect {
            case .sqlite: try await sqliteTables(db)
            case .postgres: try await postgresTables(db)
            }
        }
    }

    private static func sqliteTables(_ db: any SQLDatabase) async throws -> [QualifiedTable: TableInfo] {
        let names = try await db.raw("""
            SELECT name FROM sqlite_master WHERE type IN ('table', 'view')
            AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'hdb\\_%' ESCAPE '\\'
            """).all().map { try $0.decode(column: "name", as: String.self) }
        var tables: [QualifiedTable: TableInfo] = [:]
        for name in names {
            var columns: [ColumnInfo] = []
            var primaryKeyColumns: [(Int, String)] = []
            for row in try await db.raw("SELECT name, type, \"notnull\" AS not_null, dflt_value, pk FROM pragma_table_info(\(bind: name))").all() {
                let column = try row.decode(column: "name", as: String.self)
                let pk = try row.decode(column: "pk", as: Int.self)
                let declared = try row.decode(column: "type", as: String.self)
                if pk > 0 { primaryKeyColumns.append((pk, column)) }
                // An INTEGER PRIMARY KEY is SQLite's rowid: the database fills it in, as a serial column would be.
                let rowid = pk > 0 && declared.lowercased() == "integer"
                columns.append(ColumnInfo(
                    name: column, scalar: .forDeclaredType(declared),
                    nullable: try row.decode(column: "not_null", as: Int.self) == 0 && pk == 0,
                    hasDefault: try row.decodeNil(column: "dflt_value") == false || rowid))
            }
            let primaryKey = primaryKeyColumns.isEmpty
                ? nil : ConstraintInfo(name: "\(name)_pkey", columns: primaryKeyColumns.sorted { $0.0 < $1.0 }.map(\.1))
            var unique: [ConstraintInfo] = []
            for index in try await db.raw("SELECT name, \"unique\" AS isunique, origin, partial FROM pragma_index_list(\(bind: name))").all() {
                guard try index.decode(column: "isunique", as: Int.self) == 1,
                      try index.decode(column: "partial", as: Int.self) == 0,
                      try index.decode(column: "origin", as: String.self) != "pk" else { continue }
                let indexName = try index.decode(column: "name", as: String.self)
                let indexColumns = try await db.raw("SELECT name FROM pragma_index_info(\(bind: indexName)) ORDER BY seqno").all()
                    .map { try $0.decode(column: "name", as: String?.self) }
                guard !indexColumns.contains(nil) else { continue }
                let columnNames = indexColumns.compactMap { $0 }
                // Constraints written in CREATE TABLE have SQLite's automatic names; PostgreSQL would call them
                // <table>_<columns>_key, the name clients know. A CREATE UNIQUE INDEX keeps its own name.
                let constraintName = indexName.hasPrefix("sqlite_autoindex_")
                    ? "\(name)_\(columnNames.joined(separator: "_"))_key" : indexName
                unique.append(ConstraintInfo(name: constraintName, columns: columnNames))
            }
            var foreignKeys: [Int: ForeignKeyInfo] = [:]
            for row in try await db.raw("SELECT id, seq, \"table\" AS ref, \"from\" AS source, \"to\" AS target FROM pragma_foreign_key_list(\(bind: name)) ORDER BY id, seq").all() {
                let id = try row.decode(column: "id", as: Int.self)
                let source = try row.decode(column: "source", as: String.self)
                let referenced = QualifiedTable(name: try row.decode(column: "ref", as: String.self))
                let target = try row.decode(column: "target", as: String?.self)
                var key = foreignKeys[id] ?? ForeignKeyInfo(name: "", columns: [], referencedTable: referenced, referencedColumns: [])
                key.columns.append(source)
                if let target { key.referencedColumns.append(target) }
                key.name = "\(name)_\(key.columns.joined(separator: "_"))_fkey"
                foreignKeys[id] = key
            }
            let table = QualifiedTable(name: name)
            tables[table] = TableInfo(table: table, columns: columns, primaryKey: primaryKey, uniqueConstraints: unique,
                                      foreignKeys: foreignKeys.keys.sorted().compactMap { foreignKeys[$0] })
        }
        // A foreign key that names no columns points at the referenced table's primary key.
        for (name, info) in tables {
            for (index, key) in info.foreignKeys.enumerated() where key.referencedColumns.isEmpty {
                tables[name]!.foreignKeys[index].referencedColumns = tables[key.referencedTable]?.primaryKey?.columns ?? []
            }
        }
        return tables
    }

    private static func postgresTables(_ db: any SQLDatabase) async throws -> [QualifiedTable: TableInfo] {
        var tables: [QualifiedTable: TableInfo] = [:]
        let columnRows = try await db.raw("""
            SELECT table_schema, table_name, column_name, udt_name, is_nullable, column_default, is_identity
            FROM information_schema.columns
            WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'hdb_catalog') AND table_schema NOT LIKE 'pg\\_%'
            ORDER BY table_schema, table_name, ordinal_position
            """).all()
        for row in columnRows {
            let table = QualifiedTable(schema: try row.decode(column: "table_schema", as: String.self),
                                       name: try row.decode(column: "table_name", as: String.self))
            let column = ColumnInfo(
                name: try row.decode(column: "column_name", as: String.self),
                scalar: .forDeclaredType(try row.decode(column: "udt_name", as: String.self)),
                nullable: try row.decode(column: "is_nullable", as: String.self) == "YES",
                hasDefault: try row.decodeNil(column: "column_default") == false
                    || (try row.decode(column: "is_identity", as: String?.self)) == "YES")
            tables[table, default: TableInfo(table: table, columns: [], primaryKey: nil, uniqueConstraints: [], foreignKeys: [])]
                .columns.append(column)
        }
        let constraintRows = try await db.raw("""
            SELECT con.conname, con.contype::text AS contype, n.nspname, cl.relname,
                   (SELECT json_agg(a.attname ORDER BY k.o) FROM unnest(con.conkey) WITH ORDINALITY AS k(num, o)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num)::text AS cols,
                   fn.nspname AS fschema, fcl.relname AS ftable,
                   (SELECT json_agg(a.attname ORDER BY k.o) FROM unnest(con.confkey) WITH ORDINALITY AS k(num, o)
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num)::text AS fcols
            FROM pg_constraint con
            JOIN pg_class cl ON cl.oid = con.conrelid
            JOIN pg_namespace n ON n.oid = cl.relnamespace
            LEFT JOIN pg_class fcl ON fcl.oid = con.confrelid
            LEFT JOIN pg_namespace fn ON fn.oid = fcl.relnamespace
            WHERE con.contype IN ('p', 'u', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'hdb_catalog')
            ORDER BY con.conname
            """).all()
        for row in constraintRows {
            let table = QualifiedTable(schema: try row.decode(column: "nspname", as: String.self),
                                       name: try row.decode(column: "relname", as: String.self))
            guard tables[table] != nil else { continue }
            let name = try row.decode(column: "conname", as: String.self)
            let columns = try JSONDecoder().decode([String].self, from: Data(try row.decode(column: "cols", as: String.self).utf8))
            switch try row.decode(column: "contype", as: String.self) {
            case "p": tables[table]!.primaryKey = ConstraintInfo(name: name, columns: columns)
            case "u": tables[table]!.uniqueConstraints.append(ConstraintInfo(name: name, columns: columns))
            default:
                let referenced = QualifiedTable(schema: try row.decode(column: "fschema", as: String.self),
                                                name: try row.decode(column: "ftable", as: String.self))
                let referencedColumns = try JSONDecoder().decode(
                    [String].self, from: Data(try row.decode(column: "fcols", as: String.self).utf8))
                tables[table]!.foreignKeys.append(ForeignKeyInfo(name: name, columns: columns, referencedTable: referenced,
                                                                 referencedColumns: referencedColumns))
            }
        }
        return tables
    }
}
