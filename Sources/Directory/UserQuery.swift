import Foundation
import TesseraCore

/// A list request: filters, order, page size and where the page starts. The page token carries the query it was
/// made for, so a token used with other filters is refused instead of silently skipping users.
public struct UserQuery: Sendable, Equatable {
    public enum Filter: Sendable, Equatable {
        case exact(String)
        /// `value*`: at least 3 characters before the wildcard.
        case prefix(String)

        init(_ text: String, param: String) throws(DirectoryError) {
            guard text.hasSuffix("*") else { self = .exact(text); return }
            let prefix = String(text.dropLast())
            guard prefix.count >= 3, !prefix.contains("*") else {
                throw DirectoryError.invalid(param, "A prefix filter needs at least 3 characters before the trailing *")
            }
            self = .prefix(prefix)
        }

        var text: String {
            switch self {
            case .exact(let value): value
            case .prefix(let value): value + "*"
            }
        }
    }

    /// UserHub's orders. Each sorts on one key column, then the id, so paging is exact.
    public enum Order: String, Sendable, CaseIterable {
        case displayName = "displayName asc"
        case email = "email asc"
        case signupTime = "signupTime desc"
        case createTime = "createTime desc"
        case deleteTime = "deleteTime desc"

        var descending: Bool { rawValue.hasSuffix("desc") }
        var sortExpression: String {
            switch self {
            case .displayName: "display_name_key"
            case .email: "email_key"
            case .signupTime: "COALESCE(signup_time, '')"
            case .createTime: "create_time"
            case .deleteTime: "COALESCE(delete_time, '')"
            }
        }

        init(_ text: String) throws(DirectoryError) {
            let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let normalized = words.count == 1 ? words[0] + (["displayName", "email"].contains(words[0]) ? " asc" : " desc") : words.joined(separator: " ")
            guard let order = Order(rawValue: normalized) else {
                throw DirectoryError.invalid("orderBy", "orderBy must be one of: \(Order.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self = order
        }
    }

    struct Cursor: Sendable, Equatable {
        var value: String
        var id: String
    }

    public var email: Filter?
    public var displayName: Filter?
    public var order: Order = .displayName
    public var pageSize = 20
    public var showDeleted = false
    /// BASIC (the list's default) leaves out the account connections; FULL has them.
    public var view: DirectoryUser.View = .basic
    var after: Cursor?

    public init() {}

    /// Reads UserHub's list parameters (`pageSize`, `pageToken`, `email`, `displayName`, `orderBy`, `showDeleted`,
    /// `view`), as the SDKs send them (Python writes booleans as `True`).
    public init(parameters: [String: String]) throws(DirectoryError) {
        let known: Set<String> = ["email", "displayName", "orderBy", "pageSize", "pageToken", "showDeleted", "view"]
        if let unknown = parameters.keys.sorted().first(where: { !known.contains($0) }) {
            throw DirectoryError.invalid(unknown, "Unknown parameter: \(unknown)")
        }
        if let email = parameters["email"], !email.isEmpty { self.email = try Filter(email, param: "email") }
        if let name = parameters["displayName"], !name.isEmpty { displayName = try Filter(name, param: "displayName") }
        if let order = parameters["orderBy"], !order.isEmpty { self.order = try Order(order) }
        if let size = parameters["pageSize"], !size.isEmpty {
            guard let number = Int(size), number >= 0 else { throw DirectoryError.invalid("pageSize", "pageSize must be a non-negative integer") }
            pageSize = number == 0 ? 20 : min(number, 100)
        }
        if let flag = parameters["showDeleted"] { showDeleted = try Self.boolean(flag, param: "showDeleted") }
        if let view = parameters["view"], !view.isEmpty {
            guard let chosen = DirectoryUser.View(rawValue: view) else { throw DirectoryError.invalid("view", "view must be BASIC or FULL") }
            self.view = chosen
        }
        if let token = parameters["pageToken"], !token.isEmpty { after = try cursor(from: token) }
    }

    static func boolean(_ text: String, param: String) throws(DirectoryError) -> Bool {
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0", "": return false
        default: throw DirectoryError.invalid(param, "\(param) must be true or false")
        }
    }

    /// What a token must agree with: everything but the page itself.
    private var fingerprint: JSONValue {
        ["o": .string(order.rawValue), "w": .string(view.rawValue), "e": email.map { .string($0.text) } ?? .null, "d": displayName.map { .string($0.text) } ?? .null,
         "s": .bool(showDeleted)]
    }

    func token(after cursor: Cursor) -> String {
        let body: JSONValue = ["q": fingerprint, "v": .string(cursor.value), "i": .string(cursor.id)]
        return Data(body.jsonText().utf8).base64URLEncoded()
    }

    private func cursor(from token: String) throws(DirectoryError) -> Cursor {
        guard token.utf8.count <= 4_096, let data = Data(base64URLEncoded: token), let body = try? JSONValue.parse(String(decoding: data, as: UTF8.self)),
              let value = body.objectValue?["v"]?.stringValue, let id = body.objectValue?["i"]?.stringValue else {
            throw DirectoryError.invalid("pageToken", "The page token is malformed")
        }
        guard body.objectValue?["q"] == fingerprint else {
            throw DirectoryError.invalid("pageToken", "The page token was made for other parameters: keep them as they were")
        }
        return Cursor(value: value, id: id)
    }
}

/// One page of a list, with UserHub's tokens.
public struct UserPage: Sendable {
    public var users: [DirectoryUser]
    public var nextPageToken: String?
    public var previousPageToken: String?

    public var wire: JSONValue {
        var body: [String: JSONValue] = ["users": .array(users.map(\.wire))]
        if let nextPageToken { body["nextPageToken"] = .string(nextPageToken) }
        if let previousPageToken { body["previousPageToken"] = .string(previousPageToken) }
        return .object(body)
    }
}
