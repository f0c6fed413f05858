import Foundation
import IdentityManagement
import SQLKit
import TesseraCore
import TesseraTokens
import TesseraStore

/// Authorization codes: single use, bound to client, redirect URI and PKCE verifier, valid 10 minutes at most.
public struct AuthorizationCodes: Sendable {
    let store: Store
    let clock: TesseraClock
    static let lifetime: TimeInterval = 600


    /// A new code, committed with what `batch` holds (the sign-in's login, session and Actions' writes).
    public func issue(_ grant: GrantRecord, request: AuthorizationRequest, committing batch: WriteBatch? = nil) async throws -> String {
        let code = OpaqueSecret.generate()
        let expires = Int(clock.now().addingTimeInterval(Self.lifetime).timeIntervalSince1970)
        try await store.transaction(committing: batch) { db in
            try await db.insert(into: "authorization_codes")
                .columns("code_digest", "family_id", "client_id", "user_id", "redirect_uri", "scope", "audience", "nonce",
                         "code_challenge", "code_challenge_method", "session_id", "auth_time", "expires_at", "custom_claims")
                .values(SQLBind(OpaqueSecret.digest(code)), SQLBind(grant.familyID), SQLBind(grant.clientID), SQLBind(grant.userID),
                        SQLBind(request.redirectURI), SQLBind(grant.scopes.joined(separator: " ")), SQLBind(grant.audience),
                        SQLBind(grant.nonce), SQLBind(request.codeChallenge), SQLBind(request.codeChallengeMethod),
                        SQLBind(grant.sessionID), SQLBind(grant.authTime), SQLBind(expires),
                        SQLBind(grant.customClaims?.jsonText()))
                .run()
        }
        return code
    }

    public enum RedeemError: Error, Equatable {
        case unknown, expired, replayed(familyID: String), clientMismatch, redirectMismatch, pkceMismatch
    }

    /// Marks the code used and returns what it grants. A second redemption reports `replayed` with the
    /// family, so the caller can revoke everything the first one issued.
    public func redeem(_ code: String, clientID: String, redirectURI: String?, verifier: String?) async throws
        -> Result<GrantRecord, RedeemError>
    {
        let now = Int(clock.now().timeIntervalSince1970)
        return try await store.transaction { db in
            guard let row = try await db.select().columns("*").from("authorization_codes")
                .where("code_digest", .equal, OpaqueSecret.digest(code)).first()
            else { return .failure(.unknown) }
            let familyID = try row.string("family_id")
            if try row.decode(column: "used_at", as: Int?.self) != nil { return .failure(.replayed(familyID: familyID)) }
            try await db.update("authorization_codes").set("used_at", to: now)
                .where("code_digest", .equal, OpaqueSecret.digest(code)).run()
            guard try row.integer("expires_at") > now else { return .failure(.expired) }
            guard try row.string("client_id") == clientID else { return .failure(.clientMismatch) }
            let boundRedirect = try row.string("redirect_uri")
            guard redirectURI == boundRedirect else { return .failure(.redirectMismatch) }
            if let challenge = try row.optionalString("code_challenge") {
                guard let verifier, PKCE.matches(verifier: verifier, challenge: challenge) else { return .failure(.pkceMismatch) }
            } else if verifier != nil {
                return .failure(.pkceMismatch)
            }
            return .success(GrantRecord(
                familyID: familyID, clientID: clientID, userID: try row.string("user_id"),
                scopes: try row.string("scope").split(separator: " ").map(String.init),
                audience: try row.optionalString("audience"), sessionID: try row.optionalString("session_id"),
                authTime: try row.integer("auth_time"), nonce: try row.optionalString("nonce"),
                customClaims: try row.optionalString("custom_claims").map(JSONValue.parse)))
        }
    }
}
