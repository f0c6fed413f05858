import TesseraCore

/// An error in Hasura's vocabulary: its `code` strings (`validation-failed`, `constraint-violation`, …), a JSON path
/// into the request (`$.selectionSet.users.args.where`) and a message worded as Hasura words it, since clients and
/// tests match on all three. `status` is what the admin endpoints answer with; `/v1/graphql` answers 200 whatever it is.
public struct HasuraError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var path: String
    public var status: Int

    public init(_ code: String, _ message: String, path: String = "$", status: Int = 400) {
        self.code = code
        self.message = message
        self.path = path
        self.status = status
    }

    public var description: String { "\(code) at \(path): \(message)" }

    static func validation(_ message: String, path: String) -> HasuraError {
        HasuraError("validation-failed", message, path: path)
    }

    static func fieldNotFound(_ field: String, in type: String, path: String) -> HasuraError {
        validation("field '\(field)' not found in type: '\(type)'", path: path)
    }

    static func parseFailed(_ message: String, path: String = "$") -> HasuraError {
        HasuraError("parse-failed", message, path: path)
    }

    static func notSupported(_ message: String, path: String = "$") -> HasuraError {
        HasuraError("not-supported", message, path: path)
    }

    static func notFound(_ message: String, path: String = "$") -> HasuraError {
        HasuraError("not-found", message, path: path, status: 400)
    }

    static func accessDenied(_ message: String) -> HasuraError {
        HasuraError("access-denied", message, path: "$", status: 401)
    }

    /// A database failure the client did not cause: nothing of the statement or the database's words goes out.
    static let unexpected = HasuraError("unexpected", "database query error", status: 500)
}
