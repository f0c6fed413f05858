import Foundation
import SQLKit
import TesseraCore
import TesseraStore

/// `GET /api/v2/users`: a query, a sort, and either offset pages or a checkpoint cursor.
/// Unlike Auth0 there is no 1,000-result ceiling: pages go as deep as the data does.
public struct UserSearch: Sendable, Equatable {
    public var query: UserQuery?
    public var page = 0
    public var perPage = 50
    public var sortColumn = "created_at"
    public var ascending = true
    /// Checkpoint pagination (`from`/`take`): resume after the user a previous page ended with.
    public var checkpoint: Checkpoint?

    public struct Checkpoint: Sendable, Equatable {
        public var after: String?
        public var take: Int
    }

    public static let maxPerPage = 100
    static let sortable: Set<String> = [
        "created_at", "updated_at", "last_login", "email", "name", "user_id", "logins_count", "username", "nickname",
    ]

    public init() {}
}

public struct UserSearchResult: Sendable {
    public var users: [User]
    public var total: Int?
    /// The `from` value of the next checkpoint page, when there is one.
    public var next: String?
}

extension Users {
    public func search(_ search: UserSearch, includeTotals: Bool) async throws -> UserSearchResult {
        let dialect = store.dialect
        let filter = try search.query.map { try Self.expression(for: $0, dialect: dialect) }
        return try await store.read { db in
            let select = db.select().columns("*").from("users")
            if let filter { select.where(filter) }
            if let checkpoint = search.checkpoint {
                if let after = checkpoint.after { select.where("user_id", .greaterThan, after) }
                let rows = try await select.orderBy("user_id").limit(checkpoint.take + 1).all()
                let users = try rows.prefix(checkpoint.take).map(Self.decode)
                let next = rows.count > checkpoint.take ? users.last.map { Data($0.userID.utf8).base64URLEncoded() } : nil
                return UserSearchResult(users: users, total: nil, next: next)
            }
            let users = try await select
                .orderBy(search.sortColumn, search.ascending ? .ascending : .descending)
                .orderBy("user_id")
                .limit(search.perPage).offset(search.page * search.perPage)
                .all().map(Self.decode)
            var total: Int?
            if includeTotals {
                let count = db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "total").from("users")
                if let filter { count.where(filter) }
                total = try await count.first()?.integer("total") ?? 0
            }
            return UserSearchResult(users: users, total: total, next: nil)
        }
    }

    /// Translates a parsed query to SQL. Field names come only from ``UserField``'s fixed list;
    /// every value the caller typed is a bound parameter.
    static func expression(for query: UserQuery, dialect: StoreDialect) throws -> any SQLExpression {
        switch query {
        case .and(let left, let right):
            return SQLQueryString("(\(try expression(for: left, dialect: dialect)) AND \(try expression(for: right, dialect: dialect)))")
        case .or(let left, let right):
            return SQLQueryString("(\(try expression(for: left, dialect: dialect)) OR \(try expression(for: right, dialect: dialect)))")
        case .not(let inner):
            return SQLQueryString("(NOT \(try expression(for: inner, dialect: dialect)))")
        case .exists(let field):
            return SQLQueryString("(\(fieldExpression(field, dialect: dialect)) IS NOT NULL)")
        case .anyText(let text, let prefix):
            let columns = ["email", "name", "nickname", "username", "given_name", "family_name"]
            // A bare term matches a whole field, or with `*` the start of any word in it ("smith*" finds "Alice Smith").
            let parts = columns.flatMap { column -> [any SQLExpression] in
                prefix ? [like(SQLIdentifier(column), startingWith: text), like(SQLIdentifier(column), startingWith: text, afterSpace: true)]
                    : [SQLQueryString("lower(\(ident: column)) = \(bind: text.lowercased())")]
            }
            return SQLGroupExpression(SQLList(parts, separator: SQLRaw(" OR ")))
        case .prefix(let field, let value):
            if case .metadata = field {
                return like(fieldExpression(field, dialect: dialect), startingWith: "\"" + value, lowercase: false)
            }
            return like(fieldExpression(field, dialect: dialect), startingWith: value)
        case .match(let field, let value):
            return try match(field, value, dialect: dialect)
        case .range(let field, let lower, let upper):
            guard case .column(let column, let kind) = field, kind == .integer || kind == .timestamp else {
                throw DomainError.invalidQuery("Query validation error: 'ranges apply to logins_count and dates' on property q.")
            }
            var parts: [any SQLExpression] = []
            if let lower { parts.append(SQLQueryString("\(ident: column) >= \(try typedBind(lower, kind: kind))")) }
            if let upper { parts.append(SQLQueryString("\(ident: column) <= \(try typedBind(upper, kind: kind))")) }
            if parts.isEmpty { return SQLQueryString("(\(ident: column) IS NOT NULL)") }
            return SQLGroupExpression(SQLList(parts, separator: SQLRaw(" AND ")))
        }
    }

    static func match(_ field: UserField, _ value: String, dialect: StoreDialect) throws -> any SQLExpression {
        switch field {
        case .emailDomain:
            return SQLQueryString("(email LIKE \(bind: "%@" + escapeLike(value.lowercased())) ESCAPE '\\')")
        case .metadata:
            // Compare JSON text, so `plan:pro` finds "pro" and `trial:true` finds true or "true".
            var candidates = [JSONValue.string(value).jsonText()]
            if ["true", "false", "null"].contains(value) || Double(value) != nil { candidates.append(value) }
            let binds = SQLList(candidates.map { SQLBind($0) })
            return SQLQueryString("(\(fieldExpression(field, dialect: dialect)) IN (\(binds)))")
        case .column(let column, .caseInsensitiveText):
            return SQLQueryString("(\(ident: column) = \(bind: value.lowercased()))")
        case .column(let column, .timestamp):
            return like(SQLIdentifier(column), startingWith: value, lowercase: false)
        case .column(let column, let kind):
            return SQLQueryString("(\(ident: column) = \(try typedBind(value, kind: kind)))")
        }
    }

    static func typedBind(_ value: String, kind: UserField.ColumnKind) throws -> SQLBind {
        switch kind {
        case .boolean:
            guard let flag = Bool(value) else {
                throw DomainError.invalidQuery("Query validation error: '\(value) is not true or false' on property q.")
            }
            return SQLBind(flag)
        case .integer:
            guard let number = Int(value) else {
                throw DomainError.invalidQuery("Query validation error: '\(value) is not an integer' on property q.")
            }
            return SQLBind(number)
        case .text, .caseInsensitiveText, .timestamp:
            return SQLBind(value)
        }
    }

    static func fieldExpression(_ field: UserField, dialect: StoreDialect) -> any SQLExpression {
        switch field {
        case .column(let column, _): return SQLIdentifier(column)
        case .emailDomain: return SQLIdentifier("email")
        case .metadata(let column, let path):
            switch dialect {
            case .sqlite:
                let jsonPath = "$" + path.map { ".\"\($0)\"" }.joined()
                return SQLQueryString("(\(ident: column) -> \(bind: jsonPath))")
            case .postgres:
                let keys = SQLList(path.map { SQLQueryString("\(bind: $0)::text") })
                return SQLQueryString("(jsonb_extract_path(\(ident: column)::jsonb, \(keys))::text)")
            }
        }
    }

    static func like(_ expression: any SQLExpression, startingWith prefix: String, lowercase: Bool = true,
                     afterSpace: Bool = false) -> any SQLExpression {
        if lowercase {
            let pattern = (afterSpace ? "% " : "") + escapeLike(prefix.lowercased()) + "%"
            return SQLQueryString("(lower(\(expression)) LIKE \(bind: pattern) ESCAPE '\\')")
        }
        return SQLQueryString("(\(expression) LIKE \(bind: escapeLike(prefix) + "%") ESCAPE '\\')")
    }

    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}
