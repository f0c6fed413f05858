import HTTPTypes
import Hummingbird
import TesseraCore
import TesseraHTTP

/// OAuth's error body, `{"error": "…", "error_description": "…"}`, shared by the token endpoint and the resources
/// that take access tokens. Domain errors are put in OAuth's words by their status, since OAuth clients branch on
/// `error`, not on Auth0's codes.
public protocol OAuthErrorEnvelope: ErrorEnvelope {
    /// The code a 401 stands for in this family.
    static var unauthorizedCode: OAuthErrorCode { get }
    /// The `WWW-Authenticate` challenge sent with a 401.
    static func challenge(for error: OAuthError) -> String
}

extension OAuthErrorEnvelope {
    public static func response(status: HTTPResponse.Status, code: String?, message: String) -> Response {
        let oauthCode: OAuthErrorCode = switch status {
        case .unauthorized: unauthorizedCode
        case .internalServerError: .serverError
        case .serviceUnavailable: .temporarilyUnavailable
        default: .invalidRequest
        }
        return response(OAuthError(oauthCode, message), status: status)
    }

    public static func response(toFamilyError error: any Error) -> Response? {
        guard let error = error as? OAuthError else { return nil }
        return response(error, status: error.code.status)
    }

    static func response(_ error: OAuthError, status: HTTPResponse.Status) -> Response {
        let body = JSONValue.object(["error": .string(error.code.rawValue), "error_description": .string(error.description)])
        var headers: HTTPFields = [.pragma: "no-cache"]
        if status == .unauthorized { headers[.wwwAuthenticate] = challenge(for: error) }
        return JSONResponse.text(body.jsonText(), status: status, headers: headers)
    }
}

/// RFC 6749 §5.2 for `/oauth/token` and `/oauth/revoke`: a client that fails to authenticate is 401 with a Basic
/// challenge; a body that is too large is 413; other request mistakes are 400 `invalid_request`.
public enum OAuthTokenErrors: OAuthErrorEnvelope {
    public static let family = "token endpoint"
    public static let unauthorizedCode = OAuthErrorCode.invalidClient

    public static func status(for kind: DomainError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .payloadTooLarge: .contentTooLarge
        case .uriTooLong: .uriTooLong
        case .unavailable: .serviceUnavailable
        case .unauthenticated: .unauthorized
        default: .badRequest
        }
    }

    public static func challenge(for error: OAuthError) -> String { "Basic realm=\"tessera\"" }
}

/// RFC 6750 §3 for `/userinfo`: every token problem is 401 `invalid_token` with a `Bearer` challenge naming it.
public enum BearerTokenErrors: OAuthErrorEnvelope {
    public static let family = "userinfo"
    public static let unauthorizedCode = OAuthErrorCode.invalidToken

    public static func challenge(for error: OAuthError) -> String {
        let description = error.description.replacingOccurrences(of: "\"", with: "'")
        return "Bearer error=\"\(error.code.rawValue)\", error_description=\"\(description)\""
    }
}
