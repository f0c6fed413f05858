import TesseraCore

/// What the directory refuses, in UserHub's terms: the kind decides the status and the gRPC-style `code`
/// (`INVALID_ARGUMENT`, `NOT_FOUND`, …) at the HTTP edge; `reason` is UserHub's machine-readable detail
/// (`USER_PENDING_DELETION`) and `param` names the field or parameter at fault.
public struct DirectoryError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case invalidArgument
        case failedPrecondition
        case unauthenticated
        case permissionDenied
        case notFound
        case alreadyExists
        case resourceExhausted
        case unavailable
    }

    public let kind: Kind
    public let message: String
    public let reason: String?
    public let param: String?

    public init(_ kind: Kind, _ message: String, reason: String? = nil, param: String? = nil) {
        self.kind = kind
        self.message = message
        self.reason = reason
        self.param = param
    }

    public var description: String { "\(kind): \(message)" }

    static func invalid(_ param: String, _ message: String) -> DirectoryError {
        DirectoryError(.invalidArgument, message, param: param)
    }

    static func userNotFound(_ identifier: String) -> DirectoryError {
        DirectoryError(.notFound, "User not found: \(identifier)", reason: "USER_NOT_FOUND")
    }
}
