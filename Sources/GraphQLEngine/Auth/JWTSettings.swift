import Foundation
import TesseraCore

/// Hasura's JWT mode configuration, read from the same JSON as `HASURA_GRAPHQL_JWT_SECRET` (or `graphql.jwt_secret`),
/// with Hasura's words for what it refuses.
public struct JWTSettings: Sendable, Equatable {
    public enum KeySource: Sendable, Equatable {
        /// `type` + `key`: an HMAC secret, or a PEM public key or X.509 certificate.
        case key(algorithm: String, material: String)
        case jwkURL(URL)
    }

    public enum TokenLocation: Sendable, Equatable {
        case authorization
        case cookie(String)
        case customHeader(String)
    }

    public enum ClaimsFormat: Sendable, Equatable { case json, stringifiedJSON }

    /// A `claims_map` entry: a literal value, or a JSON path into the claims with an optional default.
    public enum ClaimMapping: Sendable, Equatable {
        case literal(JSONValue)
        case path(String, fallback: JSONValue?)
    }

    public var source: KeySource
    public var claimsNamespace = "https://hasura.io/jwt/claims"
    public var claimsNamespacePath: String?
    public var claimsFormat = ClaimsFormat.json
    public var claimsMap: [String: ClaimMapping]?
    public var audiences: [String]?
    public var issuer: String?
    public var allowedSkew: Int = 0
    public var location = TokenLocation.authorization

    static let algorithms = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "Ed25519"]

    public init(source: KeySource, issuer: String? = nil, audiences: [String]? = nil) {
        self.source = source
        self.issuer = issuer
        self.audiences = audiences
    }

    /// Reads the JSON text of `HASURA_GRAPHQL_JWT_SECRET`.
    public init(jsonText: String) throws(DomainError) {
        guard let json = try? JSONValue.parse(jsonText) else {
            throw Self.invalid("HASURA_GRAPHQL_JWT_SECRET is not valid JSON")
        }
        try self.init(json: json)
    }

    public init(json: JSONValue) throws(DomainError) {
        guard case .object(let fields) = json else { throw Self.invalid("the JWT secret must be a JSON object") }
        let key = fields["key"]?.stringValue
        let url = fields["jwk_url"]?.stringValue
        switch (key, url) {
        case (nil, nil): throw Self.invalid("key and jwk_url both cannot be empty")
        case (.some, .some): throw Self.invalid("key, jwk_url both cannot be present")
        case (let key?, nil):
            let type = fields["type"]?.stringValue ?? ""
            guard Self.algorithms.contains(type) else { throw Self.invalid("Invalid JWK: Key type: \(type) is not supported") }
            if type.hasPrefix("HS") {
                // jwt-kit stops the process on a key shorter than the digest: refuse it here, with the reason.
                let minimum = ["HS256": 32, "HS384": 48, "HS512": 64][type]!
                guard key.utf8.count >= minimum else {
                    throw Self.invalid("the \(type) key must be at least \(minimum) characters long")
                }
            }
            source = .key(algorithm: type, material: key)
        case (nil, let url?):
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                throw Self.invalid("jwk_url must be an http(s) URL")
            }
            source = .jwkURL(parsed)
        }
        if let namespace = fields["claims_namespace"]?.stringValue { claimsNamespace = namespace }
        if let path = fields["claims_namespace_path"]?.stringValue {
            guard fields["claims_namespace"] == nil else {
                throw Self.invalid("claims_namespace and claims_namespace_path both cannot be set")
            }
            _ = try JSONPath(path)
            claimsNamespacePath = path
        }
        switch fields["claims_format"]?.stringValue {
        case nil, "json": claimsFormat = .json
        case "stringified_json": claimsFormat = .stringifiedJSON
        case let other?: throw Self.invalid("unexpected claims_format \(other); expected json or stringified_json")
        }
        if case .object(let map) = fields["claims_map"] ?? .null {
            var mappings: [String: ClaimMapping] = [:]
            for (name, value) in map {
                if case .object(let spec) = value, let path = spec["path"]?.stringValue {
                    _ = try JSONPath(path)
                    mappings[name.lowercased()] = .path(path, fallback: spec["default"])
                } else {
                    mappings[name.lowercased()] = .literal(value)
                }
            }
            for required in ["x-hasura-allowed-roles", "x-hasura-default-role"] where mappings[required] == nil {
                throw Self.invalid("\(required) is expected but not found")
            }
            claimsMap = mappings
        }
        switch fields["audience"] {
        case nil, .null?: audiences = nil
        case .string(let one)?: audiences = [one]
        case .array(let many)?: audiences = many.compactMap(\.stringValue)
        default: throw Self.invalid("audience must be a string or a list of strings")
        }
        issuer = fields["issuer"]?.stringValue
        if let skew = fields["allowed_skew"]?.numberValue { allowedSkew = max(0, Int(skew)) }
        if case .object(let header) = fields["header"] ?? .null {
            switch header["type"]?.stringValue {
            case "Authorization": location = .authorization
            case "Cookie":
                guard let name = header["name"]?.stringValue, !name.isEmpty else { throw Self.invalid("the Cookie header type needs a 'name'") }
                location = .cookie(name)
            case "CustomHeader":
                guard let name = header["name"]?.stringValue, !name.isEmpty else { throw Self.invalid("the CustomHeader type needs a 'name'") }
                location = .customHeader(name.lowercased())
            default: throw Self.invalid("expected 'type' is 'Authorization' or 'Cookie' or 'CustomHeader'")
            }
        }
    }

    private static func invalid(_ message: String) -> DomainError {
        DomainError(.invalidInput, code: "invalid_jwt_config", "HASURA_GRAPHQL_JWT_SECRET: \(message)")
    }
}
