import Crypto
import Foundation
import TesseraCore
import TesseraTokens

/// Who is calling the Analytics API: a workspace's admin token, one of its static tokens, or a JWT signed with
/// its admin token. Every check fails with a 403 that says what is wrong, and never which workspaces exist.
public struct Principal: Sendable {
    public enum Kind: Sendable, Equatable { case admin, staticToken, jwt }

    /// A JWT scope's extras for one resource.
    public struct Grant: Sendable, Equatable {
        public var fixedParams: [String: String] = [:]
        public var filter: String?
    }

    public let workspace: Workspace
    public let name: String
    public let kind: Kind
    public let scopes: [TokenScope]
    public let grants: [String: Grant]
    public let rps: Int?

    public var isAdmin: Bool { scopes.contains(.admin) }

    public func has(_ scope: TokenScope) -> Bool { isAdmin || scopes.contains(scope) }

    /// Whether this caller may read the pipe (named by name or id), and the fixed parameters that then apply.
    public func pipeGrant(name: String, id: String?) -> Grant? {
        if isAdmin { return Grant() }
        for scope in scopes {
            if case .pipesRead(let resource) = scope, resource == name || resource == id {
                return grants["PIPES:READ:" + resource] ?? Grant()
            }
        }
        return nil
    }

    /// Row filters that apply to data sources this caller reads through pipes.
    public var dataSourceFilters: [String: String] {
        var filters: [String: String] = [:]
        for case .dataSourcesRead(let name, let filter?) in scopes { filters[name] = filter }
        for (key, grant) in grants where key.hasPrefix("DATASOURCES:READ:") {
            if let filter = grant.filter { filters[String(key.dropFirst("DATASOURCES:READ:".count))] = filter }
        }
        return filters
    }
}

public struct AnalyticsAccess: Sendable {
    let catalog: Catalog
    let clock: TesseraClock


    static func denied(_ message: String, code: String = "forbidden") -> DomainError {
        DomainError(.forbidden, code: code, message)
    }

    public func principal(token: String?) async throws -> Principal {
        guard let token, !token.isEmpty else {
            throw Self.denied("Missing token: send it as 'Authorization: Bearer <token>' or as the token query parameter", code: "missing_token")
        }
        guard token.utf8.count <= 16_384 else { throw Self.denied("Invalid token: too long") }
        if !token.hasPrefix("p."), token.split(separator: ".", omittingEmptySubsequences: false).count == 3 {
            return try await jwt(token)
        }
        if let workspace = try await catalog.workspace(adminToken: token) {
            return Principal(workspace: workspace, name: "admin token", kind: .admin, scopes: [.admin], grants: [:], rps: nil)
        }
        if let (workspace, found) = try await catalog.token(value: token) {
            return Principal(workspace: workspace, name: found.name, kind: .staticToken, scopes: found.scopes, grants: [:], rps: nil)
        }
        throw Self.denied("Invalid token: it is not a token of any workspace here", code: "invalid_token")
    }

    /// Tinybird's JWTs: HS256 with the workspace admin token, whatever the header claims.
    func jwt(_ token: String) async throws -> Principal {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard let payloadData = Data(base64URLEncoded: String(parts[1])), let signature = Data(base64URLEncoded: String(parts[2])),
              let headerData = Data(base64URLEncoded: String(parts[0])),
              case .object(let header)? = try? JSONValue.parse(String(decoding: headerData, as: UTF8.self)),
              case .object(let claims)? = try? JSONValue.parse(String(decoding: payloadData, as: UTF8.self))
        else { throw Self.denied("Invalid JWT: it is not three base64url parts of JSON", code: "invalid_token") }
        guard header["alg"]?.stringValue == "HS256" else {
            throw Self.denied("Invalid JWT: Tinybird JWTs are signed with HS256 and the workspace admin token", code: "invalid_token")
        }
        guard let workspaceID = claims["workspace_id"]?.stringValue, UUID(uuidString: workspaceID) != nil,
              let workspace = try await catalog.workspace(id: workspaceID)
        else { throw Self.denied("Invalid JWT: its workspace_id does not name a workspace here", code: "invalid_token") }
        let key = SymmetricKey(data: Data(workspace.adminToken.utf8))
        let signingInput = Data((parts[0] + "." + parts[1]).utf8)
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: key) else {
            throw Self.denied("Invalid JWT: the signature does not match the workspace admin token", code: "invalid_signature")
        }
        guard case .number(let exp)? = claims["exp"] else { throw Self.denied("Invalid JWT: exp is required", code: "invalid_token") }
        guard clock.now().timeIntervalSince1970 < exp else {
            let when = Timestamp.string(Date(timeIntervalSince1970: exp))
            throw Self.denied("JWT expired at \(when): ask for a new token", code: "expired_token")
        }
        guard let name = claims["name"]?.stringValue, !name.isEmpty else {
            throw Self.denied("Invalid JWT: name is required", code: "invalid_token")
        }
        guard case .array(let items)? = claims["scopes"] else { throw Self.denied("Invalid JWT: scopes is required", code: "invalid_token") }
        var scopes: [TokenScope] = []
        var grants: [String: Principal.Grant] = [:]
        for item in items {
            guard let scope = item.objectValue, let type = scope["type"]?.stringValue, let resource = scope["resource"]?.stringValue else {
                throw Self.denied("Invalid JWT: each scope needs a type and a resource", code: "invalid_token")
            }
            var grant = Principal.Grant()
            if let fixed = scope["fixed_params"]?.objectValue {
                for (key, value) in fixed {
                    switch value {
                    case .string(let text): grant.fixedParams[key] = text
                    case .array(let values): grant.fixedParams[key] = values.map { $0.stringValue ?? $0.jsonText() }.joined(separator: ",")
                    default: grant.fixedParams[key] = value.jsonText()
                    }
                }
            }
            grant.filter = scope["filter"]?.stringValue
            switch type {
            case "PIPES:READ": scopes.append(.pipesRead(resource))
            case "DATASOURCES:READ": scopes.append(.dataSourcesRead(resource, filter: nil))
            default: throw Self.denied("Invalid JWT: scope type \(type.prefix(40)) is not PIPES:READ or DATASOURCES:READ", code: "invalid_token")
            }
            grants["\(type):\(resource)"] = grant
        }
        var rps: Int?
        if case .number(let limit)? = claims["limits"]?.objectValue?["rps"] {
            guard limit >= 1, limit <= 1_000_000 else {
                throw Self.denied("Invalid JWT: limits.rps must be from 1 to 1000000", code: "invalid_token")
            }
            rps = Int(limit)
        }
        return Principal(workspace: workspace, name: name, kind: .jwt, scopes: scopes, grants: grants, rps: rps)
    }

    /// `POST /v0/tokens?expiration_time=…`: a JWT signed with the workspace admin token.
    public static func mintJWT(workspace: Workspace, name: String, expiresAt: Int, scopes: [JSONValue], rps: Int?) throws -> String {
        var claims: [String: JSONValue] = [
            "workspace_id": .string(workspace.id), "name": .string(name), "exp": .number(Double(expiresAt)), "scopes": .array(scopes),
        ]
        if let rps { claims["limits"] = .object(["rps": .number(Double(rps))]) }
        return try JWS.hs256(ClaimSet(claims), secret: workspace.adminToken)
    }
}
