import Foundation
import TesseraCore

/// A data source column: name, type, and where its value sits in an NDJSON row (`json:$.path`).
public struct ColumnSpec: Sendable, Equatable {
    public let name: String
    public let type: ColumnType
    public let jsonPath: [String]

    public init(name: String, type: ColumnType, jsonPath: [String]? = nil) {
        self.name = name
        self.type = type
        self.jsonPath = jsonPath ?? [name]
    }

    /// The value at this column's JSON path in a row, if any.
    func value(in row: [String: JSONValue]) -> JSONValue? {
        var current: JSONValue = .object(row)
        for key in jsonPath {
            if case .object(let fields) = current, let next = fields[key] { current = next }
            else if case .array(let items) = current, let index = Int(key), items.indices.contains(index) { current = items[index] }
            else { return nil }
        }
        return current
    }

    var schemaText: String {
        "`\(name)` \(type) `json:$.\(jsonPath.joined(separator: "."))`"
    }
}

/// A `.datasource` file: a description, a schema, and engine lines (kept for ClickHouse, ignored by SQLite).
public struct DataSourceDefinition: Sendable, Equatable {
    public var name: String
    public var description: String = ""
    public var columns: [ColumnSpec]
    public var engine: [String] = []
    public var tokens: [(name: String, permission: String)] = []

    public static func == (lhs: DataSourceDefinition, rhs: DataSourceDefinition) -> Bool {
        lhs.name == rhs.name && lhs.description == rhs.description && lhs.columns == rhs.columns && lhs.engine == rhs.engine
    }

    /// The columns of `ENGINE_SORTING_KEY`, when it names columns of this data source (`"city, timestamp"` or
    /// `"(city, timestamp)"`); nil for none, `tuple()`, or a key with expressions, which the embedded engine leaves
    /// to a full scan.
    public var sortingKey: [String]? {
        guard let line = engine.first(where: { $0.hasPrefix("ENGINE_SORTING_KEY ") }) else { return nil }
        var text = Datafile.unquote(String(line.dropFirst("ENGINE_SORTING_KEY ".count)))
        if text.hasPrefix("("), text.hasSuffix(")") { text = String(text.dropFirst().dropLast()) }
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`")) }
        let known = Set(columns.map(\.name))
        guard !names.isEmpty, names.allSatisfy(known.contains) else { return nil }
        return names
    }

    /// `ENGINE "…"`, as far as it changes what an append does: the merging engines combine rows with equal sorting keys.
    public var tableEngine: TableEngine {
        func value(_ keyword: String) -> String? {
            engine.first { $0.hasPrefix(keyword + " ") }.map { Datafile.unquote(String($0.dropFirst(keyword.count + 1))) }
        }
        let name = value("ENGINE").map { String($0.prefix { $0 != "(" }).trimmingCharacters(in: .whitespaces) } ?? "MergeTree"
        switch name {
        case "AggregatingMergeTree": return .aggregatingMergeTree
        case "SummingMergeTree": return .summingMergeTree
        case "ReplacingMergeTree": return .replacingMergeTree(version: value("ENGINE_VER"))
        default: return .mergeTree
        }
    }
}

/// The ClickHouse table engines whose merges change the rows a table holds.
public enum TableEngine: Sendable, Equatable {
    case mergeTree
    /// The last row appended for a key wins (the one with the greatest version column, when one is named).
    case replacingMergeTree(version: String?)
    /// Numeric columns outside the key are summed.
    case summingMergeTree
    /// `AggregateFunction` and `SimpleAggregateFunction` columns are merged with their function.
    case aggregatingMergeTree
}

/// One node of a pipe: a name and its SQL (a template when it starts with `%`).
public struct PipeNode: Sendable, Equatable {
    public var name: String
    public var description: String = ""
    public var sql: String
    public var type: String = ""
    /// The data source a materialized node writes to (`DATASOURCE` in the datafile).
    public var datasource: String?

    public var isMaterialized: Bool { type.lowercased() == "materialized" }
}

/// A `.pipe` file: nodes in order; the endpoint node is the one with `TYPE ENDPOINT` (or the last one).
public struct PipeDefinition: Sendable, Equatable {
    public var name: String
    public var description: String = ""
    public var nodes: [PipeNode]
    public var tokens: [String] = []

    /// A materialized pipe has no endpoint: it writes to its data source instead.
    public var endpointNode: PipeNode? {
        guard materializedNode == nil else { return nil }
        return nodes.last { $0.type.lowercased() == "endpoint" } ?? nodes.last
    }

    public var materializedNode: PipeNode? {
        nodes.first(where: \.isMaterialized)
    }
}

/// Reads Tinybird's datafile syntax: top-level `KEYWORD value` lines and `KEYWORD >` blocks of indented lines.
public enum Datafile {
    struct Statement {
        let keyword: String
        let value: String
        let block: [String]
        let line: Int
    }

    static func statements(_ text: String, file: String) throws -> [Statement] {
        var statements: [Statement] = []
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
        var index = 0
        while index < lines.count {
            let line = lines[index]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { index += 1; continue }
            guard let first = line.first, !first.isWhitespace else {
                throw DomainError.invalidBody("\(file):\(index + 1): unexpected indented line outside a block: \(trimmed.prefix(60))")
            }
            let keyword = String(trimmed.prefix { !$0.isWhitespace }).uppercased()
            let value = trimmed.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces)
            var block: [String] = []
            if value == ">" {
                index += 1
                while index < lines.count {
                    let next = lines[index]
                    if let first = next.first, !first.isWhitespace { break }
                    block.append(next)
                    index += 1
                }
                while let last = block.last, last.trimmingCharacters(in: .whitespaces).isEmpty { block.removeLast() }
                statements.append(Statement(keyword: keyword, value: "", block: dedent(block), line: index + 1))
            } else {
                statements.append(Statement(keyword: keyword, value: value, block: [], line: index + 1))
                index += 1
            }
        }
        return statements
    }

    static func dedent(_ lines: [String]) -> [String] {
        let indent = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { $0.prefix { $0.isWhitespace }.count }.min() ?? 0
        return lines.map { String($0.dropFirst(min(indent, $0.prefix { $0.isWhitespace }.count))) }
    }

    static func unquote(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.count >= 2, let first = trimmed.first, first == trimmed.last, first == "\"" || first == "'" {
            return String(trimmed.dropFirst().dropLast())
        }
        return trimmed
    }

    public static func dataSource(name: String, text: String, file: String) throws -> DataSourceDefinition {
        var definition = DataSourceDefinition(name: name, columns: [])
        for statement in try statements(text, file: file) {
            switch statement.keyword {
            case "DESCRIPTION": definition.description = statement.block.joined(separator: "\n")
            case "SCHEMA": definition.columns = try schema(statement.block.joined(separator: "\n"), file: file, line: statement.line)
            case "TOKEN":
                let parts = statement.value.split(separator: " ").map(String.init)
                definition.tokens.append((unquote(parts.first ?? ""), (parts.dropFirst().first ?? "READ").uppercased()))
            case let keyword where keyword.hasPrefix("ENGINE") || keyword == "INDEXES" || keyword == "VERSION":
                definition.engine.append(statement.block.isEmpty ? "\(keyword) \(statement.value)" : keyword)
            default:
                throw DomainError.invalidBody("\(file):\(statement.line): unknown datasource keyword \(statement.keyword)")
            }
        }
        guard !definition.columns.isEmpty else { throw DomainError.invalidBody("\(file): a data source needs a SCHEMA") }
        return definition
    }

    /// `` `col` Type `json:$.path` `` entries separated by commas (commas inside parentheses belong to types).
    public static func schema(_ text: String, file: String = "schema", line: Int = 1) throws -> [ColumnSpec] {
        var entries: [String] = [], current = "", depth = 0, inBackticks = false
        for character in text {
            switch character {
            case "`": inBackticks.toggle()
            case "(" where !inBackticks: depth += 1
            case ")" where !inBackticks: depth -= 1
            case "," where depth == 0 && !inBackticks:
                entries.append(current)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        entries.append(current)
        var columns: [ColumnSpec] = []
        for entry in entries.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !entry.isEmpty {
            guard let match = entry.wholeMatch(of: /`?([A-Za-z_][A-Za-z0-9_]*)`?\s+(.+?)(?:\s+`json:\$((?:\.[^`\s.]+|\[\d+\])*)`)?(?:\s+DEFAULT\s+.*)?/) else {
                throw DomainError.invalidBody("\(file):\(line): cannot read the column definition `\(entry.prefix(80))`")
            }
            let type: ColumnType
            do { type = try ColumnType.parse(String(match.2)) } catch let error as DomainError {
                throw DomainError.invalidBody("\(file):\(line): column \(match.1): \(error.message)")
            }
            let path = match.3.map { text in
                text.replacingOccurrences(of: "[", with: ".").replacingOccurrences(of: "]", with: "")
                    .split(separator: ".").map(String.init)
            }
            guard !columns.contains(where: { $0.name == String(match.1) }) else {
                throw DomainError.invalidBody("\(file):\(line): column \(match.1) is defined twice")
            }
            columns.append(ColumnSpec(name: String(match.1), type: type, jsonPath: path.flatMap { $0.isEmpty ? nil : $0 }))
        }
        return columns
    }

    public static func pipe(name: String, text: String, file: String) throws -> PipeDefinition {
        var definition = PipeDefinition(name: name, nodes: [])
        var current: PipeNode?
        for statement in try statements(text, file: file) {
            switch statement.keyword {
            case "NODE":
                if let node = current { definition.nodes.append(node) }
                let nodeName = unquote(statement.value)
                guard nodeName.wholeMatch(of: /[A-Za-z_][A-Za-z0-9_]*/) != nil else {
                    throw DomainError.invalidBody("\(file):\(statement.line): node names are letters, digits and underscores")
                }
                current = PipeNode(name: nodeName, sql: "")
            case "DESCRIPTION":
                if current != nil { current?.description = statement.block.joined(separator: "\n") }
                else { definition.description = statement.block.joined(separator: "\n") }
            case "SQL":
                guard current != nil else { throw DomainError.invalidBody("\(file):\(statement.line): SQL needs a NODE before it") }
                current?.sql = statement.block.joined(separator: "\n")
            case "TYPE":
                let type = unquote(statement.value)
                guard ["", "endpoint", "standard", "default", "materialized"].contains(type.lowercased()) else {
                    throw DomainError.invalidBody("\(file):\(statement.line): node type \(type) is not supported: Tessera serves standard, endpoint and materialized nodes")
                }
                current?.type = type.lowercased() == "materialized" ? "MATERIALIZED" : type
            case "DATASOURCE":
                guard current != nil else { throw DomainError.invalidBody("\(file):\(statement.line): DATASOURCE needs a NODE before it") }
                current?.datasource = unquote(statement.value)
            case let keyword where keyword.hasPrefix("ENGINE"):
                throw DomainError.invalidBody("\(file):\(statement.line): define the materialized view's target in its own .datasource file (\(keyword) in a .pipe is not supported)")
            case "TOKEN":
                definition.tokens.append(unquote(String(statement.value.split(separator: " ").first ?? "")))
            default:
                throw DomainError.invalidBody("\(file):\(statement.line): unknown pipe keyword \(statement.keyword)")
            }
        }
        if let node = current { definition.nodes.append(node) }
        guard !definition.nodes.isEmpty, definition.nodes.allSatisfy({ !$0.sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) else {
            throw DomainError.invalidBody("\(file): a pipe needs at least one NODE with SQL")
        }
        let materialized = definition.nodes.filter(\.isMaterialized)
        guard materialized.count <= 1 else { throw DomainError.invalidBody("\(file): a pipe has at most one TYPE MATERIALIZED node") }
        if let node = materialized.first {
            guard let target = node.datasource, !target.isEmpty else {
                throw DomainError.invalidBody("\(file): the materialized node \(node.name) needs DATASOURCE <target data source>")
            }
            guard !definition.nodes.contains(where: { $0.type.lowercased() == "endpoint" }) else {
                throw DomainError.invalidBody("\(file): a pipe is either an endpoint or a materialized view, not both")
            }
        }
        if let stray = definition.nodes.first(where: { !$0.isMaterialized && $0.datasource != nil }) {
            throw DomainError.invalidBody("\(file): DATASOURCE belongs to a TYPE MATERIALIZED node, not to \(stray.name)")
        }
        return definition
    }
}
