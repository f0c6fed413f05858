import Foundation
import IdentityManagement
import SQLKit
import TesseraCore
import TesseraTokens
import TesseraStore

/// Refresh tokens, rotated on every use. Reusing a rotated token revokes its whole family, except within a
/// short grace period, so two tabs refreshing at once do not sign the user out.
public struct RefreshTokens: Sendable {
    let store: Store
    let clock: TesseraClock
    public static let lifetime: TimeInterval = 30 * 24 * 3600
    public static let reuseGrace: TimeInterval = 10


    /// A new refresh token, committed with what `batch` holds (a password sign-in's writes).
    public func issue(_ grant: GrantRecord, committing batch: WriteBatch? = nil) async throws -> String {
        try await store.transaction(committing: batch) { db in try await insert(grant, db: db) }
    }

    private func insert(_ grant: GrantRecord, db: any SQLDatabase) async throws -> String {
        let token = OpaqueSecret.generate()
        let now = clock.now()
        try await db.insert(into: "refresh_tokens")
            .columns("token_digest", "family_id", "client_id", "user_id", "scope", "audience", "session_id", "auth_time",
                     "created_at", "expires_at", "custom_claims")
            .values(SQLBind(OpaqueSecret.digest(token)), SQLBind(grant.familyID), SQLBind(grant.clientID), SQLBind(grant.userID),
                    SQLBind(grant.scopes.joined(separator: " ")), SQLBind(grant.audience), SQLBind(grant.sessionID),
                    SQLBind(grant.authTime), SQLBind(Int(now.timeIntervalSince1970)),
                    SQLBind(Int(now.addingTimeInterval(Self.lifetime).timeIntervalSince1970)), SQLBind(grant.customClaims?.jsonText()))
            .run()
        return token
    }

    public enum RotateError: Error, Equatable { case invalid, reused }

    /// Exchanges a refresh token for its successor and what it grants.
    public func rotate(_ token: String, clientID: String) async throws -> Result<(GrantRecord, String), RotateError> {
        let now = Int(clock.now().timeIntervalSince1970)
        let grace = Int(Self.reuseGrace)
        return try await store.transaction { db in
            guard let row = try await db.select().columns("*").from("refresh_tokens")
                .where("token_digest", .equal, OpaqueSecret.digest(token)).first()
            else { return .failure(.invalid) }
            let familyID = try row.string("family_id")
            guard try row.string("client_id") == clientID, try row.decode(column: "revoked_at", as: Int?.self) == nil,
                  try row.integer("expires_at") > now
            else { return .failure(.invalid) }
            if let rotatedAt = try row.decode(column: "rotated_at", as: Int?.self), now - rotatedAt > grace {
                try await db.update("refresh_tokens").set("revoked_at", to: now).where("family_id", .equal, familyID).run()
                return .failure(.reused)
            }
            try await db.update("refresh_tokens").set("rotated_at", to: now)
                .where("token_digest", .equal, OpaqueSecret.digest(token)).run()
            let grant = GrantRecord(
                familyID: familyID, clientID: clientID, userID: try row.string("user_id"),
                scopes: try row.string("scope").split(separator: " ").map(String.init),
                audience: try row.optionalString("audience"), sessionID: try row.optionalString("session_id"),
                authTime: try row.integer("auth_time"), nonce: nil,
                customClaims: try row.optionalString("custom_claims").map(JSONValue.parse))
            return .success((grant, try await insert(grant, db: db)))
        }
    }

    public func revokeFamily(_ familyID: String) async throws {
        let now = Int(clock.now().timeIntervalSince1970)
        try await store.transaction { db in
            try await db.update("refresh_tokens").set("revoked_at", to: now).where("family_id", .equal, familyID).run()
        }
    }

    /// `/oauth/revoke`: revokes the token's family if it belongs to `clientID`; unknown tokens are ignored (RFC 7009).
    public func revoke(_ token: String, clientID: String) async throws {
        guard let row = try await store.read({ db in
            try await db.select().columns("family_id", "client_id").from("refresh_tokens")
                .where("token_digest", .equal, OpaqueSecret.digest(token)).first()
        }), try row.string("client_id") == clientID else { return }
        try await revokeFamily(try row.string("family_id"))
    }

    public func revokeSession(_ sessionID: String) async throws {
        let now = Int(clock.now().timeIntervalSince1970)
        try await store.transaction { db in
            try await db.update("refresh_tokens").set("revoked_at", to: now).where("session_id", .equal, sessionID).run()
        }
    }
}
