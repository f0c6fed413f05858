import SQLKit
import TesseraCore
import TesseraTokens
import TesseraStore

/// Everything the client-credentials grant needs, and nothing more, read in one query: the client, the API named by the
/// audience, and the client's grant on it. One round trip keeps the token endpoint bound by signing.
public struct MachineAccess: Sendable {
    public struct API: Sendable {
        public let identifier: String
        public let signingAlg: String
        public let signingSecret: String?
        public let tokenLifetime: Int
    }

    struct Key: Hashable, Sendable {
        let clientID: String
        let audience: String
    }

    public let clientID: String
    public let grantTypes: [GrantType]
    let secretDigest: String?
    public let api: API?
    /// The granted scopes, or `nil` when the client holds no grant for this audience.
    public let grantedScopes: [String]?

    /// Whether `secret` is this client's secret (constant-time). Public clients have none to match.
    public func authenticates(_ secret: String) -> Bool {
        guard let secretDigest else { return false }
        return OpaqueSecret.matches(secret, digest: secretDigest)
    }
}

extension Clients {
    public func machineAccess(clientID: String, audience: String) async throws -> MachineAccess? {
        try await cachedMachineAccess.value(MachineAccess.Key(clientID: clientID, audience: audience)) {
            try await readMachineAccess(clientID: clientID, audience: audience)
        }
    }

    private func readMachineAccess(clientID: String, audience: String) async throws -> MachineAccess? {
        try await store.read { db in
            guard let row = try await db.raw("""
                SELECT c.client_id, c.grant_types, c.client_secret_digest, rs.identifier AS rs_identifier, rs.signing_alg AS rs_signing_alg,
                       rs.signing_secret AS rs_signing_secret, rs.token_lifetime AS rs_token_lifetime,
                       g.scope AS grant_scope
                FROM clients c
                LEFT JOIN resource_servers rs ON rs.identifier = \(bind: audience)
                LEFT JOIN client_grants g ON g.client_id = c.client_id AND g.audience = rs.identifier
                WHERE c.client_id = \(bind: clientID)
                """).first()
            else { return nil }
            var api: MachineAccess.API?
            if let identifier = try row.optionalString("rs_identifier") {
                api = MachineAccess.API(identifier: identifier, signingAlg: try row.string("rs_signing_alg"),
                                        signingSecret: try row.optionalString("rs_signing_secret"),
                                        tokenLifetime: try row.integer("rs_token_lifetime"))
            }
            let scopes = try row.optionalString("grant_scope").map { text -> [String] in
                guard case .array(let items) = try JSONValue.parse(text) else { return [] }
                return items.compactMap(\.stringValue)
            }
            return MachineAccess(clientID: try row.string("client_id"), grantTypes: try row.jsonStrings("grant_types").compactMap(GrantType.init(rawValue:)),
                                 secretDigest: try row.optionalString("client_secret_digest"), api: api, grantedScopes: scopes)
        }
    }
}
