import TesseraCore

/// A role's select permission on a table, as Hasura's metadata declares it (`select_permissions[].permission`).
struct SelectPermission: Sendable {
    /// Columns the role may read; nil is every column (`"*"`).
    var columns: Set<String>?
    /// A boolean expression in metadata form: `$`-prefixed or `_`-prefixed operators, bare values for equality,
    /// `X-Hasura-*` strings for session variables.
    var filter: JSONValue
    var limit: Int?
    var allowAggregations: Bool
    /// `query_root_fields`: which of `select`, `select_by_pk`, `select_aggregate` the role gets; nil is all.
    var rootFields: Set<String>?

    init(json: JSONValue) {
        let fields = json.objectValue ?? [:]
        columns = PermissionEntries.columns(fields)
        filter = fields["filter"] ?? .object([:])
        limit = fields["limit"]?.numberValue.map { Int($0) }
        allowAggregations = fields["allow_aggregations"] == .bool(true)
        rootFields = fields["query_root_fields"]?.arrayValue.map { Set($0.compactMap(\.stringValue)) }
    }

    /// The select permission of `role` in a table's metadata entry.
    static func of(role: String, in entry: [String: JSONValue]) -> SelectPermission? {
        PermissionEntries.permission("select", role: role, in: entry).map(SelectPermission.init(json:))
    }
}

/// A role's insert, update or delete permission: the columns it may write, the rows it may touch (`filter`), what
/// written rows must satisfy (`check`), and the values set for it (`set`, literals or `X-Hasura-*` session variables).
struct WritePermission: Sendable {
    var columns: Set<String>?
    var filter: JSONValue
    var check: JSONValue
    var presets: [String: JSONValue]
    /// `backend_only`: usable only by trusted backends (the admin secret with `x-hasura-use-backend-only-permissions`).
    var backendOnly: Bool

    init(json: JSONValue) {
        let fields = json.objectValue ?? [:]
        columns = PermissionEntries.columns(fields)
        filter = fields["filter"] ?? .object([:])
        check = fields["check"] ?? .object([:])
        presets = fields["set"]?.objectValue ?? [:]
        backendOnly = fields["backend_only"] == .bool(true)
    }

    /// `kind` is `insert`, `update` or `delete`.
    static func of(_ kind: String, role: String, in entry: [String: JSONValue]) -> WritePermission? {
        PermissionEntries.permission(kind, role: role, in: entry).map(WritePermission.init(json:))
    }

    /// The columns a request may give values to: permitted, and not preset.
    func writable(_ columns: [ColumnInfo]) -> [ColumnInfo] {
        columns.filter { (self.columns?.contains($0.name) ?? true) && presets[$0.name] == nil }
    }
}

/// Reading `<kind>_permissions` lists of a table's metadata entry.
enum PermissionEntries {
    /// The `permission` object of `role` under `<kind>_permissions`.
    static func permission(_ kind: String, role: String, in entry: [String: JSONValue]) -> JSONValue? {
        for item in entry["\(kind)_permissions"]?.arrayValue ?? [] {
            guard let object = item.objectValue, object["role"]?.stringValue == role else { continue }
            return object["permission"] ?? .object([:])
        }
        return nil
    }

    /// `columns`: a list of names, or `"*"` (nil: every column).
    static func columns(_ fields: [String: JSONValue]) -> Set<String>? {
        guard case .array(let names)? = fields["columns"] else { return nil }
        return Set(names.compactMap(\.stringValue))
    }
}

/// Metadata boolean expressions in the form the GraphQL `where` argument takes: `$eq` is `_eq`, and `X-Hasura-*`
/// strings become references to the session's variables. A column compared with a bare value (equality) is read
/// as such by the resolver, which knows each table's columns, through relationships and `_exists` too.
enum PermissionExpressions {
    static func input(_ value: JSONValue) -> InputValue {
        switch value {
        case .object(let fields):
            return .object(fields.sorted { $0.key < $1.key }.map { key, nested in
                (key.hasPrefix("$") ? "_" + key.dropFirst() : key, input(nested))
            })
        case .array(let items): return .list(items.map(input))
        case .string(let text) where text.lowercased().hasPrefix("x-hasura-"): return .session(text.lowercased())
        default: return InputValue(json: value)
        }
    }
}
