/// The ClickHouse types of a query's result columns, read from the statement rather than from the rows, so an empty
/// result reports the same `meta` as a full one and typed clients see what Tinybird would report: `count()` is
/// `UInt64`, `sum` widens (`UInt*` → `UInt64`, `Int*` → `Int64`, floats → `Float64`), `avg` is `Float64`, `round` keeps
/// its argument's type, `toDate` is `Date`, a column keeps its data source's type. An expression it cannot type is
/// nil, and the caller falls back to the values.
///
/// It reads the select lists of a query, its `WITH` nodes and its subqueries in `FROM`: a reader of projections, not a
/// SQL parser; SQLite has already accepted (and run) the statement.
struct ResultTypes {
    /// Each data source's columns by name.
    let dataSources: [String: [String: ColumnType]]

    func types(of sql: String) -> [String: String] {
        var tokens = SQLTokens(sql)
        return (try? scopeOfQuery(&tokens, ctes: [:]).columns) ?? [:]
    }

    /// The columns a query produces, by name, and `*`'s expansion in order.
    struct Scope {
        var columns: [String: String] = [:]
        var order: [String] = []

        mutating func add(_ name: String, _ type: String?) {
            guard let type else { return }
            if columns[name] == nil { order.append(name) }
            columns[name] = type
        }
    }

    struct Unreadable: Error {}

    func scopeOfQuery(_ tokens: inout SQLTokens, ctes outer: [String: Scope]) throws -> Scope {
        var ctes = outer
        if tokens.takeKeyword("WITH") {
            repeat {
                guard case .identifier(let name)? = tokens.next() else { throw Unreadable() }
                guard tokens.takeKeyword("AS"), tokens.take(.symbol("(")) else { throw Unreadable() }
                var inner = tokens.group()
                ctes[name] = try scopeOfQuery(&inner, ctes: ctes)
            } while tokens.take(.symbol(","))
        }
        guard tokens.takeKeyword("SELECT") else { throw Unreadable() }
        _ = tokens.takeKeyword("DISTINCT")
        let items = tokens.listUntilKeyword(["FROM"])
        var sources = Scope()
        if tokens.takeKeyword("FROM") {
            sources = try scopeOfSources(&tokens, ctes: ctes)
        }
        var scope = Scope()
        for item in items {
            var expression = item
            var alias: String?
            if expression.count >= 2, case .identifier(let name) = expression[expression.count - 1] {
                if expression[expression.count - 2] == .keyword("AS") {
                    alias = name
                    expression.removeLast(2)
                } else if !Self.endsOperand(expression[expression.count - 2]) {
                    alias = name
                    expression.removeLast()
                }
            }
            if expression == [.symbol("*")] {
                for name in sources.order { scope.add(name, sources.columns[name]) }
                continue
            }
            let name = alias ?? Self.columnName(expression)
            scope.add(name, type(of: expression, in: sources))
        }
        return scope
    }

    /// Whether a token can end an operand, so that an identifier after it is an alias (`sum(x) total`), not part of
    /// the expression (`a + b`).
    static func endsOperand(_ token: SQLToken) -> Bool {
        switch token {
        case .symbol(let symbol): symbol != ")"
        case .keyword(let keyword): !["END", "NULL", "TRUE", "FALSE"].contains(keyword)
        default: false
        }
    }

    /// The sources after `FROM`: data sources, `WITH` nodes and subqueries, joined.
    func scopeOfSources(_ tokens: inout SQLTokens, ctes: [String: Scope]) throws -> Scope {
        var scope = Scope()
        while let token = tokens.peek() {
            switch token {
            case .symbol("("):
                _ = tokens.next()
                var inner = tokens.group()
                let sub = try scopeOfQuery(&inner, ctes: ctes)
                for name in sub.order { scope.add(name, sub.columns[name]) }
            case .identifier(let name):
                _ = tokens.next()
                var table = name
                if tokens.take(.symbol(".")), case .identifier(let second)? = tokens.next() { table = second }
                if let cte = ctes[table] {
                    for column in cte.order { scope.add(column, cte.columns[column]) }
                } else if let columns = dataSources[table] {
                    for (column, type) in columns.sorted(by: { $0.key < $1.key }) { scope.add(column, "\(type)") }
                }
            case .keyword(let keyword) where ["WHERE", "GROUP", "ORDER", "LIMIT", "HAVING", "UNION", "SETTINGS", "FORMAT"].contains(keyword):
                return scope
            default:
                _ = tokens.next()
            }
        }
        return scope
    }

    /// SQLite names an unaliased column after the column it reads, or after the expression's text.
    static func columnName(_ expression: [SQLToken]) -> String {
        if case .identifier(let name)? = expression.last, expression.count == 1 || expression.dropLast().last == .symbol(".") {
            return name
        }
        return expression.map(\.text).joined()
    }

    // MARK: expressions

    func type(of expression: [SQLToken], in scope: Scope) -> String? {
        var parts = expression
        if parts.first == .keyword("CASE") {
            // The first branch's value: `CASE … WHEN … THEN <value> …`.
            guard let then = parts.firstIndex(of: .keyword("THEN")) else { return nil }
            let value = parts[(then + 1)...].prefix { ![.keyword("WHEN"), .keyword("ELSE"), .keyword("END")].contains($0) }
            return type(of: Array(value), in: scope)
        }
        // Comparisons and logic are UInt8 in ClickHouse (only those outside any parentheses decide).
        let outer = Self.topLevel(parts)
        if outer.contains(where: { [.symbol("="), .symbol("<"), .symbol(">"), .symbol("!="), .symbol("<="), .symbol(">="),
                                    .symbol("<>"), .keyword("AND"), .keyword("OR"), .keyword("NOT"), .keyword("IN"),
                                    .keyword("LIKE"), .keyword("IS")].contains($0) }) {
            return "UInt8"
        }
        if outer.contains(.symbol("/")) { return "Float64" }
        let operands = Self.split(parts, on: [.symbol("+"), .symbol("-"), .symbol("*"), .symbol("%")])
        if operands.count > 1 {
            let types = operands.map { $0.isEmpty ? nil : type(ofOperand: $0, in: scope) }
            guard types.allSatisfy({ $0 != nil }) else { return nil }
            return Self.arithmetic(types.compactMap { $0 }, subtracts: outer.contains(.symbol("-")))
        }
        parts = operands.first ?? parts
        return type(ofOperand: parts, in: scope)
    }

    func type(ofOperand tokens: [SQLToken], in scope: Scope) -> String? {
        guard let first = tokens.first else { return nil }
        if first == .symbol("("), tokens.last == .symbol(")") {
            return type(of: Array(tokens.dropFirst().dropLast()), in: scope)
        }
        switch first {
        case .number(let text):
            guard tokens.count == 1 else { return nil }
            if text.contains(".") || text.lowercased().contains("e") { return "Float64" }
            guard let value = UInt64(text) else { return "Float64" }
            return value <= UInt64(UInt8.max) ? "UInt8" : value <= UInt64(UInt16.max) ? "UInt16" : value <= UInt64(UInt32.max) ? "UInt32" : "UInt64"
        case .string:
            return tokens.count == 1 ? "String" : nil
        case .keyword("NULL"):
            return "Nullable(Nothing)"
        case .keyword("CAST"):
            guard let asIndex = tokens.lastIndex(of: .keyword("AS")) else { return nil }
            return tokens[(asIndex + 1)...].dropLast().map(\.text).joined()
        case .identifier(let name):
            if tokens.count >= 3, tokens[1] == .symbol("("), tokens.last == .symbol(")") {
                let arguments = Self.split(Array(tokens[2..<(tokens.count - 1)]), on: [.symbol(",")])
                return function(name, arguments.map { type(of: $0, in: scope) })
            }
            if tokens.count == 1 { return scope.columns[name] }
            if tokens.count == 3, tokens[1] == .symbol("."), case .identifier(let column) = tokens[2] { return scope.columns[column] }
            return nil
        default:
            return nil
        }
    }

    /// ClickHouse's result type for the functions pipes use most (the ones the embedded engine provides).
    func function(_ name: String, _ arguments: [String?]) -> String? {
        let first = arguments.first ?? nil
        // `sumState(x)` is `AggregateFunction(sum, <x's type>)`; `sumMerge(state)` is what `sum(x)` would have been.
        if name.hasSuffix("State"), name.count > 5 {
            let function = String(name.dropLast(5))
            guard AggregateFunction(rawValue: function) != nil else { return nil }
            return "AggregateFunction(\(function)\(first.map { ", " + Self.withoutLowCardinality($0) } ?? ""))"
        }
        if name.hasSuffix("Merge"), name.count > 5, let state = first, state.hasPrefix("AggregateFunction("), state.hasSuffix(")") {
            let inside = state.dropFirst("AggregateFunction(".count).dropLast()
            let argument = inside.firstIndex(of: ",").map { inside[inside.index(after: $0)...].trimmingCharacters(in: .whitespaces) }
            return function(String(name.dropLast(5)), [argument])
        }
        switch name.lowercased() {
        case "count", "countif", "uniq", "uniqexact", "uniqif", "uniqexactif", "length": return "UInt64"
        case "sum", "sumif": return first.map(Self.widened)
        case "avg", "avgif": return "Float64"
        case "min", "max", "any", "anylast", "round", "floor", "ceil", "argmin", "argmax": return first.map(Self.withoutLowCardinality)
        case "coalesce", "ifnull": return first.map(Self.withoutNullable)
        case "if": return arguments.count > 1 ? arguments[1] : nil
        case "multiif": return arguments.count > 1 ? arguments[1] : nil
        case "todate", "today", "tostartofmonth", "tostartofyear", "tostartofweek", "tostartofquarter", "tomonday": return "Date"
        case "todatetime", "now", "tostartofday", "tostartofhour", "tostartofminute", "tostartoffiveminutes", "tostartoffifteenminutes":
            return "DateTime"
        case "toyyyymm", "toyyyymmdd", "tounixtimestamp": return "UInt32"
        case "toyear": return "UInt16"
        case "tomonth", "tohour", "tominute", "tosecond", "todayofmonth", "todayofweek", "empty", "notempty": return "UInt8"
        case "tostring", "concat", "lower", "upper", "substring", "trim", "replaceall", "formatdatetime": return "String"
        case "toint8": return "Int8"
        case "toint16": return "Int16"
        case "toint32": return "Int32"
        case "toint64": return "Int64"
        case "touint8": return "UInt8"
        case "touint16": return "UInt16"
        case "touint32": return "UInt32"
        case "touint64": return "UInt64"
        case "tofloat32": return "Float32"
        case "tofloat64": return "Float64"
        default: return nil
        }
    }

    /// `sum`'s result: the widest type of the argument's kind.
    static func widened(_ type: String) -> String {
        let base = withoutNullable(withoutLowCardinality(type))
        if base.hasPrefix("UInt") { return "UInt64" }
        if base.hasPrefix("Int") { return "Int64" }
        return "Float64"
    }

    /// `+`, `-`, `*` and `%`, widened as far as ClickHouse may widen them: a float makes Float64, a difference (which may
    /// be negative) or a signed operand makes Int64, unsigned operands otherwise make UInt64.
    static func arithmetic(_ types: [String], subtracts: Bool) -> String {
        let bases = types.map { withoutNullable(withoutLowCardinality($0)) }
        if bases.contains(where: { $0.hasPrefix("Float") }) { return "Float64" }
        if !subtracts, bases.allSatisfy({ $0.hasPrefix("UInt") }) { return "UInt64" }
        return "Int64"
    }

    /// The tokens outside any parentheses.
    static func topLevel(_ tokens: [SQLToken]) -> [SQLToken] {
        var depth = 0, outer: [SQLToken] = []
        for token in tokens {
            if token == .symbol("(") { depth += 1 }
            if depth == 0 { outer.append(token) }
            if token == .symbol(")") { depth -= 1 }
        }
        return outer
    }

    /// Also the value type of a `SimpleAggregateFunction(f, T)`, which reads as a `T`.
    static func withoutLowCardinality(_ type: String) -> String {
        if type.hasPrefix("SimpleAggregateFunction("), type.hasSuffix(")"), let comma = type.firstIndex(of: ",") {
            return withoutLowCardinality(type[type.index(after: comma)...].dropLast().trimmingCharacters(in: .whitespaces))
        }
        return type.hasPrefix("LowCardinality(") && type.hasSuffix(")") ? String(type.dropFirst(15).dropLast()) : type
    }

    static func withoutNullable(_ type: String) -> String {
        type.hasPrefix("Nullable(") && type.hasSuffix(")") ? String(type.dropFirst(9).dropLast()) : type
    }

    /// Splits at top-level separators (not inside parentheses).
    static func split(_ tokens: [SQLToken], on separators: Set<SQLToken>) -> [[SQLToken]] {
        var parts: [[SQLToken]] = [[]]
        var depth = 0
        for token in tokens {
            if token == .symbol("(") { depth += 1 }
            if token == .symbol(")") { depth -= 1 }
            if depth == 0, separators.contains(token), !(parts[parts.count - 1].isEmpty && token == .symbol("-")) {
                parts.append([])
            } else {
                parts[parts.count - 1].append(token)
            }
        }
        return parts
    }
}

enum SQLToken: Hashable {
    case identifier(String)
    case keyword(String)
    case number(String)
    case string(String)
    case symbol(String)

    /// The token as SQLite writes it back in a column name.
    var text: String {
        switch self {
        case .identifier(let name), .number(let name), .symbol(let name): name
        case .keyword(let keyword): keyword.lowercased()
        case .string(let text): "'\(text)'"
        }
    }

    static let keywords: Set<String> = [
        "SELECT", "DISTINCT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "LIMIT", "OFFSET", "HAVING", "AS", "WITH", "AND", "OR",
        "NOT", "IN", "LIKE", "IS", "NULL", "JOIN", "LEFT", "RIGHT", "INNER", "OUTER", "CROSS", "ON", "USING", "UNION", "ALL",
        "CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "ASC", "DESC", "SETTINGS", "FORMAT", "TRUE", "FALSE", "BETWEEN",
    ]
}

/// The tokens of a statement, read front to back.
struct SQLTokens {
    private var tokens: [SQLToken]
    private var index = 0

    init(_ sql: String) {
        tokens = Self.tokenize(sql)
    }

    init(tokens: [SQLToken]) {
        self.tokens = tokens
    }

    func peek() -> SQLToken? { index < tokens.count ? tokens[index] : nil }

    mutating func next() -> SQLToken? {
        defer { index += 1 }
        return peek()
    }

    mutating func take(_ token: SQLToken) -> Bool {
        guard peek() == token else { return false }
        index += 1
        return true
    }

    mutating func takeKeyword(_ keyword: String) -> Bool { take(.keyword(keyword)) }

    /// The tokens up to the `)` that closes an already opened parenthesis, which is consumed.
    mutating func group() -> SQLTokens {
        var depth = 1, inner: [SQLToken] = []
        while let token = next() {
            if token == .symbol("(") { depth += 1 }
            if token == .symbol(")") { depth -= 1; if depth == 0 { break } }
            inner.append(token)
        }
        return SQLTokens(tokens: inner)
    }

    /// Comma-separated items up to a top-level keyword (or the end), which is left in place.
    mutating func listUntilKeyword(_ stops: Set<String>) -> [[SQLToken]] {
        var items: [[SQLToken]] = [[]], depth = 0
        while let token = peek() {
            if depth == 0, case .keyword(let keyword) = token, stops.contains(keyword) { break }
            index += 1
            if token == .symbol("(") { depth += 1 }
            if token == .symbol(")") { depth -= 1 }
            if depth == 0, token == .symbol(",") { items.append([]) } else { items[items.count - 1].append(token) }
        }
        return items.filter { !$0.isEmpty }
    }

    static func tokenize(_ sql: String) -> [SQLToken] {
        var tokens: [SQLToken] = []
        let characters = Array(sql)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character.isWhitespace { index += 1; continue }
            if character == "-", index + 1 < characters.count, characters[index + 1] == "-" {
                while index < characters.count, characters[index] != "\n" { index += 1 }
                continue
            }
            if character.isLetter || character == "_" {
                var word = ""
                while index < characters.count, characters[index].isLetter || characters[index].isNumber || characters[index] == "_" {
                    word.append(characters[index]); index += 1
                }
                let upper = word.uppercased()
                tokens.append(SQLToken.keywords.contains(upper) ? .keyword(upper) : .identifier(word))
                continue
            }
            if character.isNumber {
                var number = ""
                while index < characters.count, characters[index].isNumber || characters[index] == "." || characters[index] == "e" {
                    number.append(characters[index]); index += 1
                }
                tokens.append(.number(number))
                continue
            }
            if character == "'" || character == "`" || character == "\"" {
                var text = ""
                index += 1
                while index < characters.count {
                    if characters[index] == character {
                        if index + 1 < characters.count, characters[index + 1] == character { text.append(character); index += 2; continue }
                        break
                    }
                    text.append(characters[index]); index += 1
                }
                index += 1
                tokens.append(character == "'" ? .string(text) : .identifier(text))
                continue
            }
            let pair = index + 1 < characters.count ? String([character, characters[index + 1]]) : ""
            if ["<=", ">=", "!=", "<>", "||"].contains(pair) {
                tokens.append(.symbol(pair)); index += 2; continue
            }
            tokens.append(.symbol(String(character)))
            index += 1
        }
        return tokens
    }
}
