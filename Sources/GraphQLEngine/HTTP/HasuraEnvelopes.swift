import HTTPTypes
import Hummingbird
import TesseraCore
import TesseraHTTP

/// Hasura's `/v1/graphql` errors: `{"errors":[{"message","extensions":{"path","code"}}]}`, always with status 200,
/// as Hasura answers on this endpoint (its tests assert 200 for the same errors that are 4xx on `/v1alpha1`).
public enum HasuraGraphQLErrors: ErrorEnvelope {
    public static let family = "GraphQL API"

    /// `status` names the kind of error (it picks Hasura's code); the response itself is 200.
    public static func response(status: HTTPResponse.Status, code: String?, message: String) -> Response {
        JSONResponse.text(GraphQLService.errorResponse(HasuraError(HasuraCodes.code(forStatus: status, domainCode: code), message)))
    }

    public static func response(toFamilyError error: any Error) -> Response? {
        guard let error = error as? HasuraError else { return nil }
        return JSONResponse.text(GraphQLService.errorResponse(error))
    }
}

/// Hasura's admin endpoints (`/v1/metadata`, `/v2/query`): `{"path","error","code"}` with the real status.
public enum HasuraAdminErrors: ErrorEnvelope {
    public static let family = "GraphQL admin API"

    public static func response(status: HTTPResponse.Status, code: String?, message: String) -> Response {
        body(HasuraError(HasuraCodes.code(forStatus: status, domainCode: code), message, status: status.code))
    }

    public static func response(toFamilyError error: any Error) -> Response? {
        (error as? HasuraError).map(body)
    }

    static func body(_ error: HasuraError) -> Response {
        JSONResponse.text(JSONValue.object(["path": .string(error.path), "error": .string(error.message), "code": .string(error.code)]).jsonText(),
                          status: HTTPResponse.Status(code: error.status))
    }
}

enum HasuraCodes {
    /// Hasura's code for an error raised at the HTTP edge (an unreadable or oversize body).
    static func code(forStatus status: HTTPResponse.Status, domainCode: String?) -> String {
        switch status.code {
        case 401, 403: "access-denied"
        case 404: "not-found"
        case 413: "payload-too-large"
        case 400..<500: domainCode == "invalid_body" ? "invalid-json" : "bad-request"
        default: "unexpected"
        }
    }
}
