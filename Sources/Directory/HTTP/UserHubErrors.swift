import HTTPTypes
import Hummingbird
import TesseraCore
import TesseraHTTP

/// UserHub's error body, `{"code","message","reason","param"}`, with the gRPC-style code that matches the status
/// (UserHub's SDKs read `code` and raise on any non-2xx).
public enum UserHubErrors: ErrorEnvelope {
    public static let family = "Directory admin API"

    public static func response(status: HTTPResponse.Status, code: String?, message: String) -> Response {
        body(status: status, code: grpcCode(status), message: message, reason: nil, param: nil)
    }

    public static func response(toFamilyError error: any Error) -> Response? {
        guard let error = error as? DirectoryError else { return nil }
        let (status, code) = statusAndCode(error.kind)
        return body(status: status, code: code, message: error.message, reason: error.reason, param: error.param)
    }

    static func statusAndCode(_ kind: DirectoryError.Kind) -> (HTTPResponse.Status, String) {
        switch kind {
        case .invalidArgument: (.badRequest, "INVALID_ARGUMENT")
        case .failedPrecondition: (.badRequest, "FAILED_PRECONDITION")
        case .unauthenticated: (.unauthorized, "UNAUTHENTICATED")
        case .permissionDenied: (.forbidden, "PERMISSION_DENIED")
        case .notFound: (.notFound, "NOT_FOUND")
        case .alreadyExists: (.conflict, "ALREADY_EXISTS")
        case .resourceExhausted: (.tooManyRequests, "RESOURCE_EXHAUSTED")
        case .unavailable: (.serviceUnavailable, "UNAVAILABLE")
        }
    }

    static func grpcCode(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 401: "UNAUTHENTICATED"
        case 403: "PERMISSION_DENIED"
        case 404: "NOT_FOUND"
        case 409: "ALREADY_EXISTS"
        case 413, 414, 400..<500: "INVALID_ARGUMENT"
        case 503: "UNAVAILABLE"
        default: "INTERNAL"
        }
    }

    static func body(status: HTTPResponse.Status, code: String, message: String, reason: String?, param: String?) -> Response {
        var fields: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        if let reason { fields["reason"] = .string(reason) }
        if let param { fields["param"] = .string(param) }
        return JSONResponse.text(JSONValue.object(fields).jsonText(), status: status)
    }
}
