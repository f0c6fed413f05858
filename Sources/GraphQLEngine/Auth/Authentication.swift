import Foundation
import TesseraCore
import TesseraTokens

/// What a request presents, read at the HTTP edge: header names lowercased, cookies by name.
public struct GraphQLCredentials: Sendable {
    public var headers: [String: String]
    public var cookies: [String: String]

    public init(headers: [String: String], cookies: [String: String] = [:]) {
        self.headers = headers
        self.cookies = cookies
    }

    /// `x-hasura-*` headers other than the secrets and the role: session variables from the request itself.
    var sessionHeaders: [String: JSONValue] {
        var variables: [String: JSONValue] = [:]
        for (name, value) in headers where name.hasPrefix("x-hasura-") && !Self.notSessionVariables.contains(name) {
            variables[name] = .string(value)
        }
        return variables
    }

    private static let notSessionVariables: Set<String> = ["x-hasura-admin-secret", "x-hasura-access-key", BackendOnlyHeader.name]
}

/// `x-hasura-use-backend-only-permissions`, read as Hasura reads it: a boolean text, anything else an error.
enum BackendOnlyHeader {
    static let name = "x-hasura-use-backend-only-permissions"

    static func value(in headers: [String: String]) throws(HasuraError) -> Bool {
        guard let text = headers[name] else { return false }
        switch text.lowercased() {
        case "true", "t", "yes", "y": return true
        case "false", "f", "no", "n": return false
        default:
            throw HasuraError("bad-request", #"\#(name):  Not a valid boolean text. True values are ["true","t","yes","y"] and  False values are ["false","f","no","n"]. All values are case insensitive"#, status: 400)
        }
    }
}

/// How a request becomes a session, as Hasura decides it: the admin secret first (a JWT is then not read), then the
/// JWT in JWT mode, else the unauthorized role, else Hasura's error for the mode.
struct Authentication: Sendable {
    let adminSecretDigest: String?
    let developmentMode: Bool
    let verifier: JWTVerifier?
    let unauthorizedRole: String?

    func session(_ credentials: GraphQLCredentials) async throws(HasuraError) -> GraphQLSession {
        let headers = credentials.headers
        // Header names are case-insensitive; role names are not (Hasura compares them as written).
        let requestedRole = headers["x-hasura-role"]
        if adminSecretDigest == nil, developmentMode {
            return GraphQLSession(role: requestedRole ?? "admin", variables: credentials.sessionHeaders,
                                  backendOnly: try BackendOnlyHeader.value(in: headers))
        }
        if let secret = headers["x-hasura-admin-secret"] ?? headers["x-hasura-access-key"] {
            _ = try isAdmin(secret: secret)
            return GraphQLSession(role: requestedRole ?? "admin", variables: credentials.sessionHeaders,
                                  backendOnly: try BackendOnlyHeader.value(in: headers))
        }
        if let verifier {
            guard let token = try token(credentials, location: verifier.settings.location) else {
                guard let unauthorizedRole else {
                    throw HasuraError("invalid-headers", "Missing 'Authorization' or 'Cookie' header in JWT authentication mode", status: 400)
                }
                return GraphQLSession(role: unauthorizedRole, variables: credentials.sessionHeaders)
            }
            let claims = try await verifier.claims(of: token)
            return try SessionClaims.session(claims: claims, settings: verifier.settings, requestedRole: requestedRole)
        }
        guard let unauthorizedRole else {
            throw HasuraError.accessDenied("x-hasura-admin-secret/x-hasura-access-key required, but not found")
        }
        return GraphQLSession(role: unauthorizedRole, variables: credentials.sessionHeaders)
    }

    /// The JWT where the configuration says it travels; nil when the request carries none.
    private func token(_ credentials: GraphQLCredentials, location: JWTSettings.TokenLocation) throws(HasuraError) -> String? {
        switch location {
        case .authorization:
            guard let header = credentials.headers["authorization"] else { return nil }
            // Exactly `Bearer <token>`, as Hasura splits it on white space. Read as bytes: a token is long, and
            // splitting it by Character costs more than verifying it.
            let bytes = Array(header.utf8)
            func space(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
            var start = 0
            while start < bytes.count, space(bytes[start]) { start += 1 }
            var end = bytes.count
            while end > start, space(bytes[end - 1]) { end -= 1 }
            let scheme = Array("Bearer".utf8)
            guard end - start > scheme.count + 1, Array(bytes[start..<start + scheme.count]) == scheme, space(bytes[start + scheme.count]) else {
                throw HasuraError("invalid-headers", "Malformed Authorization header", status: 400)
            }
            var tokenStart = start + scheme.count
            while tokenStart < end, space(bytes[tokenStart]) { tokenStart += 1 }
            guard tokenStart < end, !bytes[tokenStart..<end].contains(where: space) else {
                throw HasuraError("invalid-headers", "Malformed Authorization header", status: 400)
            }
            return String(decoding: bytes[tokenStart..<end], as: UTF8.self)
        case .cookie(let name): return credentials.cookies[name].flatMap { $0.isEmpty ? nil : $0 }
        case .customHeader(let name): return credentials.headers[name].flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    /// Whether a secret makes the request admin: it matches (digests compared in constant time), or there is no
    /// secret to match in development mode. A wrong secret is Hasura's error, not a quiet no.
    func isAdmin(secret: String?) throws(HasuraError) -> Bool {
        guard let expected = adminSecretDigest else { return developmentMode }
        guard let secret else { return false }
        guard OpaqueSecret.matches(secret, digest: expected) else {
            throw HasuraError.accessDenied("invalid x-hasura-admin-secret/x-hasura-access-key")
        }
        return true
    }
}

/// Hasura's session from JWT claims: the namespace (or `claims_map`), the roles, and every `x-hasura-*` claim as a
/// session variable. Beyond Hasura, a claim may be a JSON array or number, usable with `_in` as it is.
enum SessionClaims {
    static func session(claims: JSONValue, settings: JWTSettings, requestedRole: String?) throws(HasuraError) -> GraphQLSession {
        var values: [String: JSONValue] = [:]
        if let map = settings.claimsMap {
            for (name, mapping) in map {
                switch mapping {
                case .literal(let value): values[name] = value
                case .path(let path, let fallback):
                    guard let value = (try? JSONPath(path))?.value(in: claims) ?? fallback else {
                        // Missing roles are Hasura's role errors below, not a claims_map error.
                        if ["x-hasura-allowed-roles", "x-hasura-default-role"].contains(name) { continue }
                        throw invalid("JWT claim from claims_map, \(name) not found")
                    }
                    values[name] = value
                }
            }
        } else {
            var namespace: JSONValue
            if let path = settings.claimsNamespacePath {
                guard let found = (try? JSONPath(path))?.value(in: claims) else {
                    throw invalid("claims not found at claims_namespace_path: '\(path)'")
                }
                namespace = found
            } else {
                guard let found = claims.objectValue?[settings.claimsNamespace] else {
                    throw invalid("claims key: '\(settings.claimsNamespace)' not found")
                }
                namespace = found
            }
            switch (settings.claimsFormat, namespace) {
            case (.stringifiedJSON, .string(let text)):
                guard let parsed = try? JSONValue.parse(text), case .object = parsed else {
                    throw invalid("expecting stringified json at: 'claims_namespace \(settings.claimsNamespace)', but found: \(text)")
                }
                namespace = parsed
            case (.stringifiedJSON, _): throw invalid("expecting a string when claims_format is stringified_json")
            case (.json, .object): break
            case (.json, _): throw invalid("expecting a json object when claims_format is json")
            }
            for (key, value) in namespace.objectValue ?? [:] { values[key.lowercased()] = value }
        }
        let variables = values.filter { $0.key.hasPrefix("x-hasura-") }
        guard let allowedValue = variables["x-hasura-allowed-roles"] else {
            throw HasuraError("jwt-missing-role-claims", "JWT claim does not contain x-hasura-allowed-roles", status: 400)
        }
        guard case .array(let allowedItems) = allowedValue else {
            throw invalid("invalid x-hasura-allowed-roles; should be a list of roles: parsing [] failed, expected Array, but encountered \(kind(allowedValue))")
        }
        let allowed = allowedItems.compactMap(\.stringValue)
        guard let defaultRole = variables["x-hasura-default-role"]?.stringValue else {
            throw HasuraError("jwt-missing-role-claims", "JWT claim does not contain x-hasura-default-role", status: 400)
        }
        let role = requestedRole ?? defaultRole
        guard allowed.contains(role) else {
            throw HasuraError.accessDenied("Your requested role is not in allowed roles")
        }
        var session = variables
        session["x-hasura-allowed-roles"] = nil
        session["x-hasura-default-role"] = nil
        session["x-hasura-role"] = .string(role)
        return GraphQLSession(role: role, variables: session)
    }

    private static func invalid(_ message: String) -> HasuraError {
        HasuraError("jwt-invalid-claims", message, status: 400)
    }

    private static func kind(_ value: JSONValue) -> String {
        switch value {
        case .string: "String"
        case .number: "Number"
        case .bool: "Boolean"
        case .object: "Object"
        case .null: "Null"
        case .array: "Array"
        }
    }
}
