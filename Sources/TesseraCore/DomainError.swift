/// What went wrong in domain code, in terms every API family can map to its own wire shape (`TesseraHTTP`'s
/// `ErrorEnvelope`). `kind` decides the status; `code` is a machine-readable reason, spelled as Auth0's `errorCode`
/// where the Management API has one (its clients branch on it), which other families translate or leave out;
/// `message` is for people.
public struct DomainError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case invalidInput
        case unauthenticated
        case forbidden
        case notFound
        case conflict
        case payloadTooLarge
        /// A request target (path and query) longer than the server reads.
        case uriTooLong
        case unavailable
    }

    public let kind: Kind
    public let code: String
    public let message: String

    public init(_ kind: Kind, code: String, _ message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    public static func invalidBody(_ message: String) -> DomainError {
        DomainError(.invalidInput, code: "invalid_body", message)
    }

    public static func invalidQuery(_ message: String) -> DomainError {
        DomainError(.invalidInput, code: "invalid_query_string", message)
    }

    public static func notFound(_ message: String, code: String = "inexistent_resource") -> DomainError {
        DomainError(.notFound, code: code, message)
    }

    public static func conflict(_ message: String, code: String = "conflict") -> DomainError {
        DomainError(.conflict, code: code, message)
    }
}
