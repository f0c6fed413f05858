import HTTPTypes
import Hummingbird
import Logging
import TesseraCore

/// How one API family answers errors: the status for each kind of ``DomainError`` and the body it wraps the message
/// in. Each family (Auth0's Management API, OAuth 2.0, Tinybird's `/v0`, the chart pages, and next Hasura and UserHub)
/// declares its envelope once; ``ErrorEnvelopeMiddleware`` applies it to every route of the family, so handlers only
/// throw.
///
/// The default statuses follow RFC 9110: `unauthenticated` (no credentials, or credentials that do not verify) is 401,
/// `forbidden` (a known caller without the right) is 403. A family whose anchor answers otherwise overrides
/// ``status(for:)`` and says why.
public protocol ErrorEnvelope: Sendable {
    /// Names the family in the log line of an unexpected error.
    static var family: String { get }

    static func status(for kind: DomainError.Kind) -> HTTPResponse.Status

    /// The family's body for a status, its machine-readable code (when the error has one) and a message for people.
    static func response(status: HTTPResponse.Status, code: String?, message: String) -> Response

    /// Errors of the family's own vocabulary (OAuth's error codes, a rate limit with its headers); nil for others.
    static func response(toFamilyError error: any Error) -> Response?
}

/// The RFC 9110 status of each kind of domain error, the default of every envelope.
public enum StandardErrorStatus {
    public static func status(for kind: DomainError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .invalidInput: .badRequest
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .uriTooLong: .uriTooLong
        case .unavailable: .serviceUnavailable
        }
    }
}

extension ErrorEnvelope {
    public static func status(for kind: DomainError.Kind) -> HTTPResponse.Status {
        StandardErrorStatus.status(for: kind)
    }

    public static func response(toFamilyError error: any Error) -> Response? { nil }

    /// The family's answer to any error: its own vocabulary first, then domain errors, then Hummingbird's (a missing
    /// route parameter, an undecodable body), and anything else as a 500 without detail, logged, so nothing internal
    /// leaks to a client.
    public static func response(to error: any Error, logger: Logger) -> Response {
        if let response = response(toFamilyError: error) { return response }
        switch error {
        case let error as DomainError:
            return response(status: status(for: error.kind), code: error.code, message: error.message)
        case let error as any HTTPResponseError where error.status.code < 500:
            let message = (error as? HTTPError)?.body ?? error.status.reasonPhrase
            return response(status: error.status, code: nil, message: message)
        default:
            logger.error("\(family) failure", metadata: ["error": "\(String(reflecting: error))"])
            return response(status: .internalServerError, code: nil, message: "Internal error")
        }
    }
}

/// Answers every error thrown under a route group in the family's envelope.
public struct ErrorEnvelopeMiddleware<Envelope: ErrorEnvelope, Context: RequestContext>: RouterMiddleware {
    public init(_ envelope: Envelope.Type = Envelope.self) {}

    public func handle(_ request: Request, context: Context,
                       next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return Envelope.response(to: error, logger: context.logger)
        }
    }
}
