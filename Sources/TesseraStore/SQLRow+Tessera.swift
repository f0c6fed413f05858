import PostgresNIO
import SQLKit
import SQLiteNIO
import TesseraCore

extension SQLRow {
    public func string(_ column: String) throws -> String {
        try decode(column: column, as: String.self)
    }

    public func optionalString(_ column: String) throws -> String? {
        try decode(column: column, as: String?.self)
    }

    public func integer(_ column: String) throws -> Int {
        try decode(column: column, as: Int.self)
    }

    public func bool(_ column: String) throws -> Bool {
        try decode(column: column, as: Bool.self)
    }

    /// A TEXT column holding JSON.
    public func json(_ column: String) throws -> JSONValue {
        try JSONValue.parse(try string(column))
    }

    public func jsonStrings(_ column: String) throws -> [String] {
        guard case .array(let values) = try json(column) else { return [] }
        return values.compactMap(\.stringValue)
    }

    public func jsonObject(_ column: String) throws -> [String: JSONValue] {
        try json(column).objectValue ?? [:]
    }
}

/// Binding JSON into TEXT columns.
public func jsonBind(_ value: JSONValue) -> SQLBind { SQLBind(value.jsonText()) }
public func jsonBind(_ strings: [String]) -> SQLBind { jsonBind(.array(strings.map(JSONValue.string))) }
public func jsonBind(_ object: [String: JSONValue]) -> SQLBind { jsonBind(.object(object)) }

extension Error {
    /// Whether the database refused a write because a unique constraint (or primary key) already held the value.
    public var isUniqueViolation: Bool {
        if let error = self as? SQLiteError {
            return error.reason == .constraintUniqueFailed || error.reason == .constraintPrimaryKeyFailed
        }
        if let error = self as? PSQLError {
            return error.serverInfo?[.sqlState] == "23505"
        }
        return false
    }
}
