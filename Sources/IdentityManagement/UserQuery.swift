import TesseraCore

/// The subset of Lucene query syntax people use with Auth0's user search:
/// `field:value`, `field:"a phrase"`, `field:prefix*`, `field:[a TO b]`, `_exists_:field`,
/// `AND`, `OR`, `NOT`, parentheses, and nested fields such as `app_metadata.plan` or `email.domain`.
/// Terms without an operator between them are joined with OR, as in Lucene.
public indirect enum UserQuery: Equatable, Sendable {
    case match(field: UserField, value: String)
    case prefix(field: UserField, value: String)
    case range(field: UserField, lower: String?, upper: String?)
    case exists(field: UserField)
    case anyText(String, prefix: Bool)
    case and(UserQuery, UserQuery)
    case or(UserQuery, UserQuery)
    case not(UserQuery)

    /// More terms than this would nest the SQL past SQLite's expression depth (1,000); Auth0 caps queries too.
    static let maximumTokens = 256

    public static func parse(_ text: String) throws -> UserQuery {
        let tokens = try Lexer.tokens(text)
        guard tokens.count <= maximumTokens else { throw Parser.error("the query has more than \(maximumTokens) terms and operators") }
        var parser = Parser(tokens: tokens)
        let query = try parser.parseOr()
        guard parser.atEnd else { throw Parser.error("unexpected \(parser.peekDescription)") }
        return query
    }
}

/// A field a query may name. Anything else is refused, so no text from the query reaches SQL as a name.
public enum UserField: Equatable, Sendable {
    case column(String, ColumnKind)
    case emailDomain
    case metadata(column: String, path: [String])

    public enum ColumnKind: Sendable { case text, caseInsensitiveText, boolean, integer, timestamp }

    static let columns: [String: ColumnKind] = [
        "user_id": .text, "email": .caseInsensitiveText, "email_verified": .boolean, "username": .text,
        "name": .text, "given_name": .text, "family_name": .text, "nickname": .text, "picture": .text,
        "created_at": .timestamp, "updated_at": .timestamp, "last_login": .timestamp, "last_ip": .text,
        "logins_count": .integer, "blocked": .boolean, "connection": .text, "identities.connection": .text,
    ]

    static func named(_ name: String) throws -> UserField {
        if name == "email.domain" { return .emailDomain }
        if let kind = columns[name] {
            return .column(name == "identities.connection" ? "connection" : name, kind)
        }
        for column in ["app_metadata", "user_metadata"] where name.hasPrefix(column + ".") {
            let path = name.dropFirst(column.count + 1).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !path.isEmpty, path.count <= 8, path.allSatisfy(isMetadataKey) else { break }
            return .metadata(column: column, path: path)
        }
        throw Parser.error("field \(name) cannot be searched")
    }

    private static func isMetadataKey(_ key: String) -> Bool {
        !key.isEmpty && key.count <= 100 && key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
    }
}

private enum Token: Equatable {
    case word(String)
    case phrase(String)
    case colon, open, close, openRange, closeRange
    case and, or, not
}

private enum Lexer {
    static func tokens(_ text: String) throws -> [Token] {
        var tokens: [Token] = []
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            switch character {
            case " ", "\t", "\n":
                index = text.index(after: index)
            case ":": tokens.append(.colon); index = text.index(after: index)
            case "(": tokens.append(.open); index = text.index(after: index)
            case ")": tokens.append(.close); index = text.index(after: index)
            case "[", "{": tokens.append(.openRange); index = text.index(after: index)
            case "]", "}": tokens.append(.closeRange); index = text.index(after: index)
            case "\"":
                var phrase = ""
                index = text.index(after: index)
                var closed = false
                while index < text.endIndex {
                    let next = text[index]
                    if next == "\\", text.index(after: index) < text.endIndex {
                        index = text.index(after: index)
                        phrase.append(text[index])
                    } else if next == "\"" {
                        closed = true
                        break
                    } else {
                        phrase.append(next)
                    }
                    index = text.index(after: index)
                }
                guard closed else { throw Parser.error("unterminated quoted phrase") }
                index = text.index(after: index)
                tokens.append(.phrase(phrase))
            default:
                var word = ""
                while index < text.endIndex, !" \t\n:()[]{}\"".contains(text[index]) {
                    if text[index] == "\\", text.index(after: index) < text.endIndex {
                        index = text.index(after: index)
                    }
                    word.append(text[index])
                    index = text.index(after: index)
                }
                switch word {
                case "AND", "&&": tokens.append(.and)
                case "OR", "||": tokens.append(.or)
                case "NOT": tokens.append(.not)
                default: tokens.append(.word(word))
                }
            }
        }
        guard !tokens.isEmpty else { throw Parser.error("empty query") }
        return tokens
    }
}

private struct Parser {
    let tokens: [Token]
    var position = 0

    init(tokens: [Token]) { self.tokens = tokens }

    static func error(_ detail: String) -> DomainError {
        DomainError.invalidQuery("Query validation error: '\(detail)' on property q (The query used to search users)")
    }

    var atEnd: Bool { position >= tokens.count }
    var peek: Token? { atEnd ? nil : tokens[position] }
    var peekDescription: String { peek.map { "\($0)" } ?? "end of query" }

    mutating func next() -> Token? {
        defer { position += 1 }
        return peek
    }

    mutating func parseOr() throws -> UserQuery {
        var left = try parseAnd()
        while let token = peek, token != .close {
            if token == .or { position += 1 }
            left = .or(left, try parseAnd())
        }
        return left
    }

    mutating func parseAnd() throws -> UserQuery {
        var left = try parseUnary()
        while peek == .and {
            position += 1
            left = .and(left, try parseUnary())
        }
        return left
    }

    mutating func parseUnary() throws -> UserQuery {
        if peek == .not {
            position += 1
            return .not(try parseUnary())
        }
        return try parsePrimary()
    }

    mutating func parsePrimary() throws -> UserQuery {
        switch next() {
        case .open?:
            let inner = try parseOr()
            guard next() == .close else { throw Self.error("missing )") }
            return inner
        case .phrase(let text)?:
            return .anyText(text, prefix: false)
        case .word(let word)?:
            guard peek == .colon else {
                return word.hasSuffix("*") ? .anyText(String(word.dropLast()), prefix: true) : .anyText(word, prefix: false)
            }
            position += 1
            if word == "_exists_" {
                guard case .word(let name)? = next() else { throw Self.error("_exists_ needs a field name") }
                return .exists(field: try UserField.named(name))
            }
            return try parseValue(for: try UserField.named(word))
        case let token?:
            throw Self.error("unexpected \(token)")
        case nil:
            throw Self.error("unexpected end of query")
        }
    }

    mutating func parseValue(for field: UserField) throws -> UserQuery {
        switch next() {
        case .phrase(let text)?:
            return .match(field: field, value: text)
        case .word(let word)?:
            if word == "*" { return .exists(field: field) }
            if word.hasSuffix("*") {
                let stem = String(word.dropLast())
                guard !stem.isEmpty, !stem.contains("*") else { throw Self.error("a wildcard needs a prefix") }
                return .prefix(field: field, value: stem)
            }
            guard !word.contains("*") else { throw Self.error("only a trailing wildcard is supported") }
            return .match(field: field, value: word)
        case .openRange?:
            let lower = try rangeBound()
            guard case .word("TO")? = next() else { throw Self.error("a range is written [lower TO upper]") }
            let upper = try rangeBound()
            guard next() == .closeRange else { throw Self.error("missing ] after a range") }
            return .range(field: field, lower: lower, upper: upper)
        default:
            throw Self.error("missing value after :")
        }
    }

    mutating func rangeBound() throws -> String? {
        switch next() {
        case .word("*")?: return nil
        case .word(let word)?: return word
        case .phrase(let text)?: return text
        default: throw Self.error("a range bound must be a value or *")
        }
    }
}
