import HTTPTypes
import Hummingbird
import TesseraCore
import TesseraHTTP

/// Auth0's Management API error shape:
/// `{"statusCode":403,"error":"Forbidden","message":"…","errorCode":"insufficient_scope"}`.
/// Statuses are the RFC 9110 defaults, as Auth0 answers them: a missing, malformed or expired token is 401
/// (`invalid_token`), a valid token without the scope 403 (`insufficient_scope`).
public enum Auth0ManagementErrors: ErrorEnvelope {
    public static let family = "management API"

    public static func response(status: HTTPResponse.Status, code: String?, message: String) -> Response {
        var body: [String: JSONValue] = [
            "statusCode": .number(Double(status.code)),
            "error": .string(status.reasonPhrase),
            "message": .string(message),
        ]
        if let code { body["errorCode"] = .string(code) }
        return JSONResponse.text(JSONValue.object(body).jsonText(), status: status)
    }
}
