import Foundation
import TesseraCore
import Yams

/// A tenant file problem, located so a person can fix it: `tessera.yaml:12:7: applications[0].type: …`.
public struct TenantFileError: Error, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int
    public let path: String
    public let message: String

    public var description: String { "\(file):\(line):\(column): \(path): \(message)" }
}

/// Reads YAML nodes into typed values, with the node's position in every error,
/// and `${NAME}` (or `${NAME:-fallback}`) in any string replaced by that environment variable.
struct YAMLReader {
    let file: String
    let environment: [String: String]

    func fail(_ node: Node?, _ path: String, _ message: String) -> TenantFileError {
        TenantFileError(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, path: path, message: message)
    }

    func mapping(_ node: Node, _ path: String, allowed: Set<String>) throws -> [(key: String, node: Node)] {
        guard let mapping = node.mapping else { throw fail(node, path, "expected a mapping (key: value)") }
        var entries: [(key: String, node: Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else { throw fail(keyNode, path, "keys must be plain text") }
            guard allowed.contains(key) else {
                throw fail(keyNode, path + "." + key, "unknown field; expected one of: \(allowed.sorted().joined(separator: ", "))")
            }
            entries.append((key, value))
        }
        return entries
    }

    func sequence(_ node: Node, _ path: String) throws -> [Node] {
        guard let sequence = node.sequence else { throw fail(node, path, "expected a list") }
        return Array(sequence)
    }

    func string(_ node: Node, _ path: String) throws -> String {
        guard let scalar = node.scalar else { throw fail(node, path, "expected text") }
        return try expand(scalar.string, node, path)
    }

    func strings(_ node: Node, _ path: String) throws -> [String] {
        try sequence(node, path).enumerated().map { try string($1, "\(path)[\($0)]") }
    }

    func bool(_ node: Node, _ path: String) throws -> Bool {
        switch try string(node, path) {
        case "true", "yes": return true
        case "false", "no": return false
        default: throw fail(node, path, "expected true or false")
        }
    }

    func integer(_ node: Node, _ path: String) throws -> Int {
        guard let value = Int(try string(node, path)) else { throw fail(node, path, "expected a whole number") }
        return value
    }

    /// Any YAML value as JSON (for metadata): quoted scalars stay strings, plain ones are typed.
    func json(_ node: Node, _ path: String) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            let text = try expand(scalar.string, node, path)
            guard scalar.style == .plain else { return .string(text) }
            switch text {
            case "null", "~", "": return .null
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: return Double(text).map(JSONValue.number) ?? .string(text)
            }
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard let name = key.scalar?.string else { throw fail(key, path, "keys must be plain text") }
                object[name] = try json(value, path + "." + name)
            }
            return .object(object)
        case .sequence(let sequence):
            return .array(try sequence.enumerated().map { try json($1, "\(path)[\($0)]") })
        case .alias:
            throw fail(node, path, "YAML aliases are not supported")
        }
    }

    private func expand(_ text: String, _ node: Node, _ path: String) throws -> String {
        guard text.contains("${") else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw fail(node, path, "unterminated ${ in \"\(text)\"")
            }
            // `${NAME:-fallback}` uses the fallback when NAME is unset or empty, as in the shell.
            let reference = String(rest[start.upperBound..<end])
            let parts = reference.components(separatedBy: ":-")
            let name = parts[0]
            let fallback = parts.count > 1 ? parts.dropFirst().joined(separator: ":-") : nil
            guard let value = environment[name].flatMap({ $0.isEmpty ? nil : $0 }) ?? fallback else {
                throw fail(node, path, "environment variable \(name) is not set")
            }
            result += value
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }
}
