/// A JSON request body being validated field by field. Every complaint is a ``DomainError``
/// naming the property, in the words Auth0's payload validation uses, so clients can fix their input.
public struct Payload: Sendable {
    public let fields: [String: JSONValue]

    /// Accepts only an object whose keys are all in `allowed`.
    public init(_ value: JSONValue, allowed: Set<String>) throws {
        guard case .object(let fields) = value else {
            throw DomainError.invalidBody("Payload validation error: 'Expected type object but found type \(value.typeName)'.")
        }
        let unknown = fields.keys.filter { !allowed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw DomainError.invalidBody(
                "Payload validation error: 'Additional properties not allowed: \(unknown.joined(separator: ","))'.")
        }
        self.fields = fields
    }

    public func has(_ key: String) -> Bool { fields[key] != nil }

    public func isNull(_ key: String) -> Bool { fields[key] == .null }

    public func string(_ key: String, maxLength: Int = 2048) throws -> String? {
        switch fields[key] {
        case nil: return nil
        case .string(let value)?:
            guard value.count <= maxLength else {
                throw DomainError.invalidBody(
                    "Payload validation error: 'String is too long (\(value.count) chars), maximum \(maxLength)' on property \(key).")
            }
            return value
        case let other?: throw mismatch(key, expected: "string", found: other)
        }
    }

    public func requiredString(_ key: String, maxLength: Int = 2048) throws -> String {
        guard let value = try string(key, maxLength: maxLength) else {
            throw DomainError.invalidBody("Payload validation error: 'Missing required property: \(key)'.")
        }
        return value
    }

    public func bool(_ key: String) throws -> Bool? {
        switch fields[key] {
        case nil: return nil
        case .bool(let value)?: return value
        case let other?: throw mismatch(key, expected: "boolean", found: other)
        }
    }

    public func integer(_ key: String, range: ClosedRange<Int>) throws -> Int? {
        switch fields[key] {
        case nil: return nil
        case .number(let value)? where value.rounded() == value:
            guard value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
                throw DomainError.invalidBody(
                    "Payload validation error: 'Value \(Int(value)) is outside \(range.lowerBound)...\(range.upperBound)' on property \(key).")
            }
            return Int(value)
        case let other?: throw mismatch(key, expected: "integer", found: other)
        }
    }

    public func strings(_ key: String, maxCount: Int = 100) throws -> [String]? {
        switch fields[key] {
        case nil: return nil
        case .array(let values)?:
            guard values.count <= maxCount else {
                throw DomainError.invalidBody("Payload validation error: 'Too many items (max \(maxCount))' on property \(key).")
            }
            return try values.map { item in
                guard case .string(let value) = item else { throw mismatch(key, expected: "array of strings", found: item) }
                return value
            }
        case let other?: throw mismatch(key, expected: "array", found: other)
        }
    }

    public func object(_ key: String) throws -> [String: JSONValue]? {
        switch fields[key] {
        case nil: return nil
        case .object(let value)?: return value
        case let other?: throw mismatch(key, expected: "object", found: other)
        }
    }

    public func array(_ key: String) throws -> [JSONValue]? {
        switch fields[key] {
        case nil: return nil
        case .array(let value)?: return value
        case let other?: throw mismatch(key, expected: "array", found: other)
        }
    }

    private func mismatch(_ key: String, expected: String, found: JSONValue) -> DomainError {
        DomainError.invalidBody(
            "Payload validation error: 'Expected type \(expected) but found type \(found.typeName)' on property \(key).")
    }
}

extension JSONValue {
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number(let value): value.rounded() == value ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
