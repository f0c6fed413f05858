import GraphQL
import TesseraCore

/// An argument value as the document writes it, before variables are known: literals, enum names, and references to
/// variables, which stay references when they fill a single value (a column value, a limit) so the compiled SQL can be
/// kept and reused with other variables.
indirect enum InputValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(String)
    case float(String)
    case string(String)
    case enumValue(String)
    case list([InputValue])
    case object([(key: String, value: InputValue)])
    case variable(String)
    /// A session variable (`x-hasura-user-id`) named in a permission, read from the request's session.
    case session(String)

    static func == (lhs: InputValue, rhs: InputValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.int(a), .int(b)), let (.float(a), .float(b)), let (.string(a), .string(b)), let (.enumValue(a), .enumValue(b)),
             let (.variable(a), .variable(b)), let (.session(a), .session(b)): a == b
        case let (.list(a), .list(b)): a == b
        case let (.object(a), .object(b)): a.map(\.key) == b.map(\.key) && a.map(\.value) == b.map(\.value)
        default: false
        }
    }

    init(_ value: any Value) {
        switch value {
        case let value as Variable: self = .variable(value.name.value)
        case let value as IntValue: self = .int(value.value)
        case let value as FloatValue: self = .float(value.value)
        case let value as StringValue: self = .string(value.value)
        case let value as BooleanValue: self = .bool(value.value)
        case let value as EnumValue: self = .enumValue(value.value)
        case let value as ListValue: self = .list(value.values.map(InputValue.init))
        case let value as ObjectValue: self = .object(value.fields.map { (key: $0.name.value, value: InputValue($0.value)) })
        default: self = .null
        }
    }

    /// A variable's JSON value, read as a literal of the same shape; strings stand for enum values where one is expected.
    init(json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .number(let value):
            self = value.rounded() == value && abs(value) < 9_007_199_254_740_992 ? .int(String(Int64(value))) : .float("\(value)")
        case .string(let value): self = .string(value)
        case .array(let values): self = .list(values.map(InputValue.init(json:)))
        case .object(let fields): self = .object(fields.sorted { $0.key < $1.key }.map { (key: $0.key, value: InputValue(json: $0.value)) })
        }
    }

    var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .float: "a number"
        case .string: "a string"
        case .enumValue: "an enum value"
        case .list: "a list"
        case .object: "an object"
        case .variable: "a variable"
        case .session: "a session variable"
        }
    }

    /// The JSON a literal stands for (jsonb columns take any).
    var json: JSONValue {
        switch self {
        case .null, .variable, .session: .null
        case .bool(let value): .bool(value)
        case .int(let text), .float(let text): .number(Double(text) ?? 0)
        case .string(let value), .enumValue(let value): .string(value)
        case .list(let values): .array(values.map(\.json))
        case .object(let fields): .object(Dictionary(fields.map { ($0.key, $0.value.json) }, uniquingKeysWith: { _, b in b }))
        }
    }
}

/// A value bound into SQL. PostgreSQL receives text and casts it to the column's type; SQLite receives native values.
enum SQLValue: Encodable, Sendable, Equatable {
    case null
    case text(String)
    case integer(Int64)
    case real(Double)
    case boolean(Bool)

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .text(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .real(let value): try container.encode(value)
        case .boolean(let value): try container.encode(value)
        }
    }

    var asText: SQLValue {
        switch self {
        case .null, .text: self
        case .integer(let value): .text(String(value))
        case .real(let value): .text(String(value))
        case .boolean(let value): .text(value ? "true" : "false")
        }
    }
}

extension ScalarType {
    /// Checks a literal against the scalar and turns it into a bound value; `path` says where it was, for the error.
    func sqlValue(_ value: InputValue, path: String) throws(HasuraError) -> SQLValue {
        switch (category, value) {
        case (_, .null): return .null
        case (.json, _): return .text(value.json.jsonText())
        case (.integer, .int(let text)):
            guard let number = Int64(text) else { throw mismatch(value, path) }
            if name == "Int", Int32(exactly: number) == nil {
                throw HasuraError.validation("The value \(text) lies outside the bounds or is not an integer", path: path)
            }
            return .integer(number)
        case (.integer, .string(let text)) where name == "bigint":
            guard let number = Int64(text) else { throw mismatch(value, path) }
            return .integer(number)
        case (.float, .int(let text)), (.float, .float(let text)):
            guard let number = Double(text) else { throw mismatch(value, path) }
            return name == "numeric" ? .text(text) : .real(number)
        case (.float, .string(let text)) where name == "numeric" && Double(text) != nil:
            return .text(text)
        case (.boolean, .bool(let flag)): return .boolean(flag)
        case (.string, .string(let text)):
            return .text(text)
        case (.string, .int(let text)) where name != "String", (.string, .float(let text)) where name != "String":
            return .text(text)
        default:
            throw mismatch(value, path)
        }
    }

    private func mismatch(_ value: InputValue, _ path: String) -> HasuraError {
        HasuraError.validation("expected \(expectation) for type '\(name)', but found \(value.kindName)", path: path)
    }

    private var expectation: String {
        switch category {
        case .integer: "a 32-bit integer"
        case .float: "a float"
        case .string: "a string"
        case .boolean: "a boolean"
        case .json: "a JSON value"
        }
    }
}
