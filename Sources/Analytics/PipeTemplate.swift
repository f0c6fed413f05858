import Foundation
import SQLiteNIO
import TesseraCore

/// SQL with its bound values: what a rendered pipe node hands the engine. Parameter values only ever travel
/// as binds; the SQL text holds `?` placeholders and identifiers checked against known columns.
public struct RenderedSQL: Sendable, Equatable {
    public var sql: String
    public var binds: [SQLiteData]
}

/// Tinybird's pipe template language, the subset pipes use day to day: a leading `%` line, `{{ Type(name, default,
/// description="…", required=True) }}` for typed parameters, `{{ Array(name, 'Type', default='a,b') }}`,
/// `{{ column(name, 'default') }}`, `{{ columns(name, 'a,b') }}`, `{{ split_to_array(name, 'a,b') }}`,
/// `{{ error('message', 400) }}`, and `{% if %}/{% elif %}/{% else %}/{% end %}` with `defined()`, `not`, `and`,
/// `or` and comparisons.
public struct PipeTemplate: Sendable {
    public enum Failure: Error, Equatable, Sendable {
        case syntax(String)
        case missing(parameter: String, type: String)
        case invalid(parameter: String, value: String, type: String)
        case unknownColumn(String)
        case raised(String)

        public var message: String {
            switch self {
            case .syntax(let detail): "Template Syntax Error: \(detail)"
            case .missing(let name, let type): "[Error] Missing required parameter '\(name)' of type \(type)"
            case .invalid(let name, let value, let type):
                "[Error] Invalid value '\(value.prefix(100))' for parameter '\(name)': expected \(type)"
            case .unknownColumn(let name): "[Error] Unknown column '\(name.prefix(100))' for column()"
            case .raised(let message): message
            }
        }
    }

    /// A parameter as the endpoint documents it (name, type, default, whether required).
    public struct Parameter: Sendable, Equatable {
        public let name: String
        public let type: String
        public let defaultValue: String?
        public let required: Bool
        public let description: String?
    }

    indirect enum Node: Sendable {
        case text(String)
        case output(Expression)
        case conditional([(Expression, [Node])], otherwise: [Node]?)
    }

    indirect enum Expression: Sendable {
        case literal(Value)
        case name(String)
        case call(String, [Expression], [String: Expression])
        case list([Expression])
        case not(Expression)
        case and(Expression, Expression)
        case or(Expression, Expression)
        case compare(String, Expression, Expression)
    }

    enum Value: Equatable, Sendable {
        case none
        case bool(Bool)
        case integer(Int64)
        case float(Double)
        case string(String)
        case list([Value])
        case identifiers([String])

        var truthy: Bool {
            switch self {
            case .none: false
            case .bool(let flag): flag
            case .integer(let n): n != 0
            case .float(let n): n != 0
            case .string(let text): !text.isEmpty
            case .list(let items): !items.isEmpty
            case .identifiers(let names): !names.isEmpty
            }
        }

        var text: String? {
            switch self {
            case .none, .list, .identifiers: nil
            case .bool(let flag): flag ? "true" : "false"
            case .integer(let n): String(n)
            case .float(let n): String(n)
            case .string(let text): text
            }
        }
    }

    let nodes: [Node]
    public let isTemplate: Bool

    public init(_ sql: String) throws(Failure) {
        let lines = sql.split(separator: "\n", omittingEmptySubsequences: false)
        if let first = lines.firstIndex(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }),
           lines[first].trimmingCharacters(in: .whitespaces) == "%" {
            isTemplate = true
            nodes = try Self.parse(lines[(first + 1)...].joined(separator: "\n"))
        } else {
            isTemplate = false
            nodes = [.text(sql)]
        }
    }

    /// Renders with the request's parameters. `columns` are the names `column()` may produce.
    public func render(_ parameters: [String: String], columns: Set<String>) throws(Failure) -> RenderedSQL {
        var output = RenderedSQL(sql: "", binds: [])
        try Self.render(nodes, parameters, columns, into: &output, literals: false)
        return output
    }

    /// Renders for ClickHouse, as Tinybird does: every value written into the SQL as a typed, escaped literal
    /// (ClickHouse's HTTP interface takes no binds on 18.16), identifiers from `column()` checked and quoted.
    public func renderForClickHouse(_ parameters: [String: String], columns: Set<String>) throws(Failure) -> String {
        var output = RenderedSQL(sql: "", binds: [])
        try Self.render(nodes, parameters, columns, into: &output, literals: true)
        return output.sql
    }

    /// A value as a ClickHouse literal. Numbers come from Swift's parsed values, strings (dates included) are escaped.
    static func clickHouseLiteral(_ value: Value) -> String {
        switch value {
        case .none, .identifiers: "NULL"
        case .bool(let flag): flag ? "1" : "0"
        case .integer(let n): String(n)
        case .float(let n): n.isFinite ? String(n) : (n.isNaN ? "nan" : (n > 0 ? "inf" : "-inf"))
        case .string(let text): ClickHouseSQL.string(text)
        case .list(let items): "(" + items.map(clickHouseLiteral).joined(separator: ", ") + ")"
        }
    }

    /// The typed parameters the template reads, for the endpoint's documentation.
    public var parameters: [Parameter] {
        var found: [String: Parameter] = [:]
        func visit(_ expression: Expression) {
            switch expression {
            case .call(let name, let arguments, let keywords):
                if let type = Self.typeName(name, arguments), case .name(let parameter)? = arguments.first {
                    let fallback = arguments.count > 1 ? arguments[1] : keywords["default"]
                    var defaultText: String?
                    if case .literal(let value)? = fallback { defaultText = value.text }
                    var required = false
                    if case .literal(.bool(let flag))? = keywords["required"] { required = flag }
                    var description: String?
                    if case .literal(.string(let text))? = keywords["description"] { description = text }
                    if found[parameter] == nil || found[parameter]?.type == "String" {
                        found[parameter] = Parameter(name: parameter, type: type, defaultValue: defaultText, required: required,
                                                     description: description)
                    }
                }
                arguments.forEach(visit)
                keywords.values.forEach(visit)
            case .list(let items): items.forEach(visit)
            case .not(let inner): visit(inner)
            case .and(let l, let r), .or(let l, let r), .compare(_, let l, let r): visit(l); visit(r)
            case .literal, .name: break
            }
        }
        func walk(_ nodes: [Node]) {
            for node in nodes {
                switch node {
                case .text: break
                case .output(let expression): visit(expression)
                case .conditional(let branches, let otherwise):
                    for (condition, body) in branches { visit(condition); walk(body) }
                    walk(otherwise ?? [])
                }
            }
        }
        walk(nodes)
        return found.values.sorted { $0.name < $1.name }
    }

    // MARK: Parsing

    /// The next `{{` or `{%`. Not a regex: a regex literal is compiled each time it is evaluated, and this runs for
    /// every tag of every node on every request (it was a sixth of an endpoint's time: BENCHMARKS.md, issue 11).
    static func nextOpening(in source: String, from start: String.Index) -> Range<String.Index>? {
        let bytes = source.utf8
        var index = start
        while let brace = bytes[index...].firstIndex(of: UInt8(ascii: "{")) {
            let next = bytes.index(after: brace)
            guard next < bytes.endIndex else { return nil }
            if bytes[next] == UInt8(ascii: "{") || bytes[next] == UInt8(ascii: "%") { return brace..<bytes.index(after: next) }
            index = next
        }
        return nil
    }

    static func parse(_ source: String) throws(Failure) -> [Node] {
        var index = source.startIndex
        var stack: [(branches: [(Expression, [Node])], otherwise: [Node]?, current: [Node], inElse: Bool)] = []
        var top: [Node] = []
        func append(_ node: Node) {
            if stack.isEmpty { top.append(node) } else { stack[stack.count - 1].current.append(node) }
        }
        while index < source.endIndex {
            guard let open = Self.nextOpening(in: source, from: index) else {
                append(.text(String(source[index...])))
                break
            }
            if open.lowerBound > index { append(.text(String(source[index..<open.lowerBound]))) }
            let isTag = source[open].hasPrefix("{%")
            guard let close = source[open.upperBound...].firstRange(of: isTag ? "%}" : "}}") else {
                throw .syntax("unclosed \(isTag ? "{%" : "{{")")
            }
            let inside = source[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
            index = close.upperBound
            if !isTag {
                append(.output(try ExpressionParser.parse(inside)))
                continue
            }
            let keyword = String(inside.prefix { !$0.isWhitespace })
            let rest = String(inside.dropFirst(keyword.count))
            switch keyword {
            case "if":
                stack.append(([(try ExpressionParser.parse(rest), [])], nil, [], false))
            case "elif":
                guard var frame = stack.popLast(), !frame.inElse else { throw .syntax("elif without if") }
                frame.branches[frame.branches.count - 1].1 = frame.current
                frame.branches.append((try ExpressionParser.parse(rest), []))
                frame.current = []
                stack.append(frame)
            case "else":
                guard var frame = stack.popLast(), !frame.inElse else { throw .syntax("else without if") }
                frame.branches[frame.branches.count - 1].1 = frame.current
                frame.current = []
                frame.inElse = true
                stack.append(frame)
            case "end", "endif":
                guard var frame = stack.popLast() else { throw .syntax("end without if") }
                if frame.inElse { frame.otherwise = frame.current } else { frame.branches[frame.branches.count - 1].1 = frame.current }
                append(.conditional(frame.branches, otherwise: frame.otherwise))
            default:
                throw .syntax("unsupported tag {% \(keyword) %}: Tessera supports if, elif, else and end")
            }
        }
        guard stack.isEmpty else { throw .syntax("{% if %} without {% end %}") }
        return top
    }

    // MARK: Rendering

    static func render(_ nodes: [Node], _ parameters: [String: String], _ columns: Set<String>,
                       into output: inout RenderedSQL, literals: Bool) throws(Failure) {
        for node in nodes {
            switch node {
            case .text(let text):
                output.sql += text
            case .output(let expression):
                switch try evaluate(expression, parameters, columns) {
                case .identifiers(let names):
                    output.sql += names.map { "\"\($0)\"" }.joined(separator: ", ")
                case let value where literals:
                    output.sql += clickHouseLiteral(value)
                case .list(let items):
                    output.sql += "(" + items.map { _ in "?" }.joined(separator: ", ") + ")"
                    output.binds += items.map(bind)
                case let value:
                    output.sql += "?"
                    output.binds.append(bind(value))
                }
            case .conditional(let branches, let otherwise):
                var taken = false
                for (condition, body) in branches where try evaluate(condition, parameters, columns).truthy {
                    try render(body, parameters, columns, into: &output, literals: literals)
                    taken = true
                    break
                }
                if !taken, let otherwise { try render(otherwise, parameters, columns, into: &output, literals: literals) }
            }
        }
    }

    static func bind(_ value: Value) -> SQLiteData {
        switch value {
        case .none, .list, .identifiers: .null
        case .bool(let flag): .integer(flag ? 1 : 0)
        case .integer(let n): .integer(Int(n))
        case .float(let n): .float(n)
        case .string(let text): .text(text)
        }
    }

    static let integerTypes: [String: (bits: Int, signed: Bool)] = [
        "Int8": (8, true), "Int16": (16, true), "Int32": (32, true), "Int64": (64, true), "Int128": (64, true), "Int256": (64, true),
        "Int": (32, true), "Integer": (32, true),
        "UInt8": (8, false), "UInt16": (16, false), "UInt32": (32, false), "UInt64": (64, false), "UInt128": (64, false), "UInt256": (64, false),
    ]
    static let scalarTypes: Set<String> = ["String", "Float32", "Float64", "Boolean", "Date", "DateTime", "DateTime64"]

    /// The parameter type a call declares, if it is a typed-parameter call.
    static func typeName(_ function: String, _ arguments: [Expression]) -> String? {
        if integerTypes[function] != nil || scalarTypes.contains(function) { return function }
        if function == "Array", arguments.count > 1, case .literal(.string(let element)) = arguments[1] { return "Array(\(element))" }
        return nil
    }

    static func convert(_ raw: String, to type: String, parameter: String) throws(Failure) -> Value {
        let invalid = Failure.invalid(parameter: parameter, value: raw, type: type)
        if let integer = integerTypes[type] {
            guard let value = Int64(raw.trimmingCharacters(in: .whitespaces)),
                  ColumnType.fits(value, bits: integer.bits, signed: integer.signed) else { throw invalid }
            return .integer(value)
        }
        switch type {
        case "String": return .string(raw)
        case "Float32", "Float64":
            guard let value = Double(raw.trimmingCharacters(in: .whitespaces)), value.isFinite else { throw invalid }
            return .float(value)
        case "Boolean":
            switch raw.lowercased() {
            case "true", "1": return .bool(true)
            case "false", "0": return .bool(false)
            default: throw invalid
            }
        case "Date":
            guard let parts = CalendarText.parse(raw), raw.count == 10 else { throw invalid }
            return .string(CalendarText.date(parts))
        case "DateTime", "DateTime64":
            guard let parts = CalendarText.parse(raw) else { throw invalid }
            return .string(CalendarText.dateTime(parts))
        default:
            throw .syntax("unknown type \(type)")
        }
    }

    static func evaluate(_ expression: Expression, _ parameters: [String: String], _ columns: Set<String>) throws(Failure) -> Value {
        switch expression {
        case .literal(let value): return value
        case .name(let name): return parameters[name].map { .string($0) } ?? .none
        case .list(let items):
            var values: [Value] = []
            for item in items { values.append(try evaluate(item, parameters, columns)) }
            return .list(values)
        case .not(let inner): return .bool(!(try evaluate(inner, parameters, columns).truthy))
        case .and(let left, let right):
            let l = try evaluate(left, parameters, columns)
            if l.truthy { return try evaluate(right, parameters, columns) }
            return l
        case .or(let left, let right):
            let l = try evaluate(left, parameters, columns)
            if l.truthy { return l }
            return try evaluate(right, parameters, columns)
        case .compare(let op, let left, let right):
            return .bool(compare(op, try evaluate(left, parameters, columns), try evaluate(right, parameters, columns)))
        case .call(let function, let arguments, let keywords):
            return try call(function, arguments, keywords, parameters, columns)
        }
    }

    static func compare(_ op: String, _ left: Value, _ right: Value) -> Bool {
        func number(_ value: Value) -> Double? {
            switch value {
            case .integer(let n): Double(n)
            case .float(let n): n
            case .string(let text): Double(text)
            case .bool(let flag): flag ? 1 : 0
            default: nil
            }
        }
        if op == "==" || op == "!=" {
            let equal: Bool
            if let l = number(left), let r = number(right), !(left.isString && right.isString) { equal = l == r }
            else { equal = left == right || (left.text != nil && left.text == right.text) }
            return op == "==" ? equal : !equal
        }
        if op == "in" || op == "not in" {
            guard case .list(let items) = right else { return false }
            let found = items.contains { compare("==", left, $0) }
            return op == "in" ? found : !found
        }
        if let l = number(left), let r = number(right) {
            switch op {
            case "<": return l < r
            case "<=": return l <= r
            case ">": return l > r
            default: return l >= r
            }
        }
        guard let l = left.text, let r = right.text else { return false }
        switch op {
        case "<": return l < r
        case "<=": return l <= r
        case ">": return l > r
        default: return l >= r
        }
    }

    static func call(_ function: String, _ arguments: [Expression], _ keywords: [String: Expression],
                     _ parameters: [String: String], _ columns: Set<String>) throws(Failure) -> Value {
        func literal(_ expression: Expression?) throws(Failure) -> Value {
            guard let expression else { return .none }
            return try evaluate(expression, [:], columns)
        }
        func parameterName() throws(Failure) -> String {
            guard case .name(let name)? = arguments.first else {
                throw .syntax("\(function)() takes the parameter name first, unquoted, as in \(function)(my_param)")
            }
            return name
        }
        let fallback = arguments.count > 1 ? arguments[1] : keywords["default"]
        var required = false
        if let flag = keywords["required"] { required = try literal(flag).truthy }

        switch function {
        case "defined":
            return .bool(parameters[try parameterName()] != nil)
        case "column", "columns", "split_to_array", "Array":
            let name = try parameterName()
            if function == "Array" {
                guard arguments.count > 1, case .string(let element) = try literal(arguments[1]) else {
                    throw .syntax("Array() takes a parameter name and an element type, as in Array(ids, 'Int32')")
                }
                let fallbackList = try literal(keywords["default"] ?? (arguments.count > 2 ? arguments[2] : nil)).listText
                guard let raw = parameters[name] ?? fallbackList else {
                    if required { throw .missing(parameter: name, type: "Array(\(element))") }
                    return .list([])
                }
                var items: [Value] = []
                for piece in raw.split(separator: ",", omittingEmptySubsequences: false) {
                    items.append(try convert(piece.trimmingCharacters(in: .whitespaces), to: element, parameter: name))
                }
                guard items.count <= 10_000 else { throw .invalid(parameter: name, value: "\(items.count) items", type: "at most 10000 items") }
                return .list(items)
            }
            let fallbackText = try literal(fallback).listText
            guard let raw = parameters[name] ?? fallbackText else {
                if required { throw .missing(parameter: name, type: "String") }
                return function == "split_to_array" ? .list([]) : .identifiers([])
            }
            let pieces = function == "column" ? [raw] : raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if function == "split_to_array" { return .list(pieces.map { .string($0) }) }
            for piece in pieces where !columns.contains(piece) { throw .unknownColumn(piece) }
            return .identifiers(pieces)
        case "error":
            let message = try literal(arguments.first).text ?? "error"
            throw .raised(message)
        default:
            guard let type = typeName(function, arguments) else {
                throw .syntax("unknown function \(function)()")
            }
            let name = try parameterName()
            if let raw = parameters[name] { return try convert(raw, to: type, parameter: name) }
            let value = try literal(fallback)
            guard value != .none else {
                if required { throw .missing(parameter: name, type: type) }
                return .none
            }
            guard let text = value.text else { return value }
            return try convert(text, to: type, parameter: name)
        }
    }
}

extension PipeTemplate.Value {
    var isString: Bool { if case .string = self { true } else { false } }

    /// A default for Array() or column lists, given as 'a,b' or ['a', 'b'].
    var listText: String? {
        switch self {
        case .list(let items): items.compactMap(\.text).joined(separator: ",")
        default: text
        }
    }
}

/// A small recursive-descent parser for template expressions (Python-like, as Tinybird's are).
struct ExpressionParser {
    enum Token: Equatable {
        case name(String), string(String), number(String), symbol(String)
    }

    var tokens: [Token]
    var position = 0

    init(_ source: String) throws(PipeTemplate.Failure) {
        tokens = try Self.lex(source)
    }

    static func parse(_ source: String) throws(PipeTemplate.Failure) -> PipeTemplate.Expression {
        var parser = try ExpressionParser(source)
        return try parser.parseAll()
    }

    static func lex(_ source: String) throws(PipeTemplate.Failure) -> [Token] {
        var tokens: [Token] = []
        let characters = Array(source)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character.isWhitespace { index += 1; continue }
            if character.isLetter || character == "_" {
                var name = ""
                while index < characters.count, characters[index].isLetter || characters[index].isNumber || characters[index] == "_" {
                    name.append(characters[index]); index += 1
                }
                tokens.append(.name(name))
            } else if character.isNumber || (character == "-" && index + 1 < characters.count && characters[index + 1].isNumber
                                              && (tokens.last.map { if case .symbol(let s) = $0 { s != ")" } else { false } } ?? true)) {
                var number = String(character)
                index += 1
                while index < characters.count, characters[index].isNumber || characters[index] == "." { number.append(characters[index]); index += 1 }
                tokens.append(.number(number))
            } else if character == "'" || character == "\"" {
                var text = ""
                index += 1
                while index < characters.count, characters[index] != character {
                    if characters[index] == "\\", index + 1 < characters.count { index += 1 }
                    text.append(characters[index]); index += 1
                }
                guard index < characters.count else { throw .syntax("unterminated string") }
                index += 1
                tokens.append(.string(text))
            } else {
                let two = index + 1 < characters.count ? String(characters[index...index + 1]) : ""
                if ["==", "!=", "<=", ">="].contains(two) { tokens.append(.symbol(two)); index += 2 }
                else if "(),=<>[]".contains(character) { tokens.append(.symbol(String(character))); index += 1 }
                else { throw .syntax("unexpected character '\(character)'") }
            }
        }
        return tokens
    }

    mutating func parseAll() throws(PipeTemplate.Failure) -> PipeTemplate.Expression {
        guard !tokens.isEmpty else { throw .syntax("empty expression") }
        let expression = try parseOr()
        guard position == tokens.count else { throw .syntax("unexpected \(tokens[position]) in expression") }
        return expression
    }

    var current: Token? { position < tokens.count ? tokens[position] : nil }

    mutating func take(_ token: Token) -> Bool {
        guard current == token else { return false }
        position += 1
        return true
    }

    mutating func parseOr() throws(PipeTemplate.Failure) -> PipeTemplate.Expression {
        var left = try parseAnd()
        while take(.name("or")) { left = .or(left, try parseAnd()) }
        return left
    }

    mutating func parseAnd() throws(PipeTemplate.Failure) -> PipeTemplate.Expression {
        var left = try parseNot()
        while take(.name("and")) { left = .and(left, try parseNot()) }
        return left
    }

    mutating func parseNot() throws(PipeTemplate.Failure) -> PipeTemplate.Expression {
        if take(.name("not")) { return .not(try parseNot()) }
        return try parseComparison()
    }

    mutating func parseComparison() throws(PipeTemplate.Failure) -> PipeTemplate.Expression {
        let left = try parsePrimary()
        for op in ["==", "!=", "<=", ">=", "<", ">"] where take(.symbol(op)) {
            return .compare(op, left, try parsePrimary())
        }
        if take(.name("in")) { return .compare("in", left, try parsePrimary()) }
        if current == .name("not"), position + 1 < tokens.count, tokens[position + 1] == .name("in") {
            position += 2
            return .compare("not in", left, try parsePrimary())
        }
        return left
    }

    mutating func parsePrimary() throws(PipeTemplate.Failure) -> PipeTemplate.Expression {
        guard let token = current else { throw .syntax("expression ends too early") }
        position += 1
        switch token {
        case .string(let text): return .literal(.string(text))
        case .number(let text):
            if let integer = Int64(text) { return .literal(.integer(integer)) }
            if let float = Double(text) { return .literal(.float(float)) }
            throw .syntax("bad number \(text)")
        case .symbol("("):
            let inner = try parseOr()
            guard take(.symbol(")")) else { throw .syntax("missing )") }
            return inner
        case .symbol("["):
            var items: [PipeTemplate.Expression] = []
            while !take(.symbol("]")) {
                items.append(try parseOr())
                if !take(.symbol(",")) { guard take(.symbol("]")) else { throw .syntax("missing ]") }; break }
            }
            return .list(items)
        case .name("True"), .name("true"): return .literal(.bool(true))
        case .name("False"), .name("false"): return .literal(.bool(false))
        case .name("None"): return .literal(.none)
        case .name(let name):
            guard take(.symbol("(")) else { return .name(name) }
            var arguments: [PipeTemplate.Expression] = [], keywords: [String: PipeTemplate.Expression] = [:]
            while !take(.symbol(")")) {
                if case .name(let key)? = current, position + 1 < tokens.count, tokens[position + 1] == .symbol("=") {
                    position += 2
                    keywords[key] = try parseOr()
                } else {
                    guard keywords.isEmpty else { throw .syntax("positional argument after keyword argument in \(name)()") }
                    arguments.append(try parseOr())
                }
                if !take(.symbol(",")) { guard take(.symbol(")")) else { throw .syntax("missing ) after \(name)(") }; break }
            }
            return .call(name, arguments, keywords)
        case .symbol(let symbol): throw .syntax("unexpected '\(symbol)'")
        }
    }
}
