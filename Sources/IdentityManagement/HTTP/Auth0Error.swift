import HTTPTypes
import Hummingbird
import Logging
import TesseraCore
import TesseraHTTP

/// Maps every error on the Management API to Auth0's shape:
/// `{"statusCode":403,"error":"Forbidden","message":"…","errorCode":"insufficient_scope"}`.
/// Unexpected errors are logged and answered 500 without detail, so nothing internal leaks.
public struct Auth0ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context,
                       next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as DomainError {
            return Self.response(status: Self.status(for: error.kind), message: error.message, code: error.code)
        } catch let error as HTTPError {
            return Self.response(status: error.status, message: error.body ?? error.status.reasonPhrase, code: nil)
        } catch {
            context.logger.error("management API failure", metadata: ["error": "\(String(reflecting: error))"])
            return Self.response(status: .internalServerError, message: "Internal error", code: nil)
        }
    }

    public static func response(status: HTTPResponse.Status, message: String, code: String?) -> Response {
        var body: [String: JSONValue] = [
            "statusCode": .number(Double(status.code)),
            "error": .string(status.reasonPhrase),
            "message": .string(message),
        ]
        if let code { body["errorCode"] = .string(code) }
        return JSONResponse.text(JSONValue.object(body).jsonText(), status: status)
    }

    static func status(for kind: DomainError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .invalidInput: .badRequest
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .unavailable: .serviceUnavailable
        }
    }
}
