import TesseraCore

/// The JSON paths Hasura's JWT options take (`$.hasura.claims`, `$.roles[0]`, `$['x-hasura']`): members and
/// indexes from the root (a dot before a bracket, `$.['x']`, is allowed as Hasura's examples use it), which is all `claims_namespace_path` and `claims_map` use.
struct JSONPath: Sendable, Equatable, CustomStringConvertible {
    enum Step: Sendable, Equatable {
        case member(String)
        case index(Int)
    }

    let steps: [Step]
    let description: String

    init(_ text: String) throws(DomainError) {
        description = text
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard rest.first == "$" else { throw Self.invalid(text) }
        rest = rest.dropFirst()
        var steps: [Step] = []
        while let first = rest.first {
            if first == "." {
                rest = rest.dropFirst()
                // Hasura's own examples write `$.['https://…'].user.id`: a dot before a bracket adds nothing.
                if rest.first == "[" { continue }
                let name = rest.prefix { $0 != "." && $0 != "[" }
                guard !name.isEmpty else { throw Self.invalid(text) }
                steps.append(.member(String(name)))
                rest = rest.dropFirst(name.count)
            } else if first == "[" {
                guard let close = rest.firstIndex(of: "]") else { throw Self.invalid(text) }
                let inside = rest[rest.index(after: rest.startIndex)..<close].trimmingCharacters(in: .whitespaces)
                if let index = Int(inside), index >= 0 {
                    steps.append(.index(index))
                } else if inside.count >= 2, let quote = inside.first, quote == "'" || quote == "\"", inside.last == quote {
                    steps.append(.member(String(inside.dropFirst().dropLast())))
                } else {
                    throw Self.invalid(text)
                }
                rest = rest[rest.index(after: close)...]
            } else {
                throw Self.invalid(text)
            }
        }
        self.steps = steps
    }

    func value(in root: JSONValue) -> JSONValue? {
        var current = root
        for step in steps {
            switch (step, current) {
            case (.member(let name), .object(let fields)):
                guard let next = fields[name] else { return nil }
                current = next
            case (.index(let index), .array(let items)):
                guard index < items.count else { return nil }
                current = items[index]
            default: return nil
            }
        }
        return current
    }

    private static func invalid(_ text: String) -> DomainError {
        DomainError(.invalidInput, code: "invalid_jwt_config", "invalid JSON path: \(text)")
    }
}
