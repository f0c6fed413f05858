import Foundation
import IdentityManagement
import SQLKit
import TesseraCore
import TesseraTokens
import TesseraStore

/// A login page's server-side half: the authorization request it will complete, bound to the browser
/// by a CSRF token that is both in a cookie and in the form, and kept here only as a digest.
public struct LoginTransactions: Sendable {
    let store: Store
    let clock: TesseraClock
    static let lifetime: TimeInterval = 3600

    public init(store: Store, clock: TesseraClock) {
        self.store = store
        self.clock = clock
    }

    public func create(_ request: AuthorizationRequest) async throws -> (id: String, csrf: String) {
        let id = RandomToken.base64URL(bytes: 18), csrf = OpaqueSecret.generate()
        let text = String(decoding: try JSONCoding.encoder.encode(request), as: UTF8.self)
        let expires = Int(clock.now().addingTimeInterval(Self.lifetime).timeIntervalSince1970)
        let now = Int(clock.now().timeIntervalSince1970)
        try await store.transaction { db in
            try await db.delete(from: "login_transactions").where("expires_at", .lessThan, now).run()
            try await db.insert(into: "login_transactions").columns("id", "client_id", "request", "csrf_digest", "expires_at")
                .values(SQLBind(id), SQLBind(request.clientID), SQLBind(text), SQLBind(OpaqueSecret.digest(csrf)), SQLBind(expires))
                .run()
        }
        return (id, csrf)
    }

    /// The request behind a login form, if the transaction exists, is fresh, and `csrf` is its token.
    public func find(_ id: String, csrf: String?) async throws -> AuthorizationRequest? {
        let now = Int(clock.now().timeIntervalSince1970)
        guard let row = try await store.read({ db in
            try await db.select().columns("request", "csrf_digest", "expires_at").from("login_transactions")
                .where("id", .equal, id).first()
        }) else { return nil }
        guard try row.integer("expires_at") > now else { return nil }
        if let csrf {
            guard OpaqueSecret.matches(csrf, digest: try row.string("csrf_digest")) else { return nil }
        }
        return try JSONDecoder().decode(AuthorizationRequest.self, from: Data(try row.string("request").utf8))
    }

    public func delete(_ id: String) async throws {
        try await store.transaction { db in try await db.delete(from: "login_transactions").where("id", .equal, id).run() }
    }
}

/// A signed-in browser. The cookie holds a random secret; the store keeps its digest and a public `sid`.
public struct Session: Sendable, Equatable {
    public let id: String
    public let userID: String
    public let authTime: Int
}

public struct Sessions: Sendable {
    let store: Store
    let clock: TesseraClock
    public static let lifetime: TimeInterval = 7 * 24 * 3600

    public init(store: Store, clock: TesseraClock) {
        self.store = store
        self.clock = clock
    }

    public func create(userID: String) async throws -> (session: Session, cookie: String) {
        let secret = OpaqueSecret.generate()
        let now = clock.now()
        let session = Session(id: RandomToken.base64URL(bytes: 16), userID: userID, authTime: Int(now.timeIntervalSince1970))
        try await store.transaction { db in
            try await db.insert(into: "sessions").columns("id", "secret_digest", "user_id", "auth_time", "expires_at")
                .values(SQLBind(session.id), SQLBind(OpaqueSecret.digest(secret)), SQLBind(userID), SQLBind(session.authTime),
                        SQLBind(Int(now.addingTimeInterval(Self.lifetime).timeIntervalSince1970)))
                .run()
        }
        return (session, secret)
    }

    public func find(cookie: String) async throws -> Session? {
        let now = Int(clock.now().timeIntervalSince1970)
        return try await store.read { db in
            try await db.select().columns("id", "user_id", "auth_time").from("sessions")
                .where("secret_digest", .equal, OpaqueSecret.digest(cookie))
                .where("expires_at", .greaterThan, now).where("revoked_at", .is, SQLLiteral.null)
                .first().map { Session(id: try $0.string("id"), userID: try $0.string("user_id"), authTime: try $0.integer("auth_time")) }
        }
    }

    public func revoke(id: String) async throws {
        let now = Int(clock.now().timeIntervalSince1970)
        try await store.transaction { db in
            try await db.update("sessions").set("revoked_at", to: now).where("id", .equal, id).run()
        }
    }
}

/// What an authorization code or refresh token stands for.
public struct GrantRecord: Sendable, Equatable {
    public var familyID: String
    public var clientID: String
    public var userID: String
    public var scopes: [String]
    public var audience: String?
    public var sessionID: String?
    public var authTime: Int
    public var nonce: String?
    /// What post-login Actions added, as ``PostLoginResult`` stores it.
    public var customClaims: JSONValue?
}

/// Authorization codes: single use, bound to client, redirect URI and PKCE verifier, valid 10 minutes at most.
public struct AuthorizationCodes: Sendable {
    let store: Store
    let clock: TesseraClock
    static let lifetime: TimeInterval = 600

    public init(store: Store, clock: TesseraClock) {
        self.store = store
        self.clock = clock
    }

    public func issue(_ grant: GrantRecord, request: AuthorizationRequest) async throws -> String {
        let code = OpaqueSecret.generate()
        let expires = Int(clock.now().addingTimeInterval(Self.lifetime).timeIntervalSince1970)
        try await store.transaction { db in
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

public enum PKCE {
    /// RFC 7636 S256: BASE64URL(SHA256(verifier)) == challenge, with the verifier's own format checked.
    public static func matches(verifier: String, challenge: String) -> Bool {
        guard (43...128).contains(verifier.count),
              verifier.unicodeScalars.allSatisfy({ CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~").contains($0) })
        else { return false }
        return OpaqueSecret.sha256Base64URL(verifier) == challenge
    }
}

/// Refresh tokens, rotated on every use. Reusing a rotated token revokes its whole family, except within a
/// short grace period, so two tabs refreshing at once do not sign the user out.
public struct RefreshTokens: Sendable {
    let store: Store
    let clock: TesseraClock
    public static let lifetime: TimeInterval = 30 * 24 * 3600
    public static let reuseGrace: TimeInterval = 10

    public init(store: Store, clock: TesseraClock) {
        self.store = store
        self.clock = clock
    }

    public func issue(_ grant: GrantRecord) async throws -> String {
        try await store.transaction { db in try await insert(grant, db: db) }
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

/// Auth0's brute-force protection: after 10 failed attempts for one user from one IP, that IP is
/// throttled for that user (here for 15 minutes) until a successful sign-in from elsewhere resets nothing
/// but time. A success from the same IP clears the count.
public struct LoginThrottle: Sendable {
    let store: Store
    let clock: TesseraClock
    public static let limit = 10
    public static let window: TimeInterval = 15 * 60

    public init(store: Store, clock: TesseraClock) {
        self.store = store
        self.clock = clock
    }

    public func isThrottled(userID: String, ip: String) async throws -> Bool {
        let now = Int(clock.now().timeIntervalSince1970)
        guard let row = try await store.read({ db in
            try await db.select().columns("failures", "last_failure_at").from("login_failures")
                .where("user_id", .equal, userID).where("ip", .equal, ip).first()
        }) else { return false }
        return try row.integer("failures") >= Self.limit && now - (try row.integer("last_failure_at")) < Int(Self.window)
    }

    public func recordFailure(userID: String, ip: String) async throws {
        let now = Int(clock.now().timeIntervalSince1970)
        let window = Int(Self.window)
        try await store.transaction { db in
            let row = try await db.select().columns("failures", "last_failure_at").from("login_failures")
                .where("user_id", .equal, userID).where("ip", .equal, ip).first()
            if let row {
                let stale = now - (try row.integer("last_failure_at")) >= window
                try await db.update("login_failures").set("failures", to: stale ? 1 : try row.integer("failures") + 1)
                    .set("last_failure_at", to: now).where("user_id", .equal, userID).where("ip", .equal, ip).run()
            } else {
                try await db.insert(into: "login_failures").columns("user_id", "ip", "failures", "last_failure_at")
                    .values(SQLBind(userID), SQLBind(ip), SQLBind(1), SQLBind(now)).run()
            }
        }
    }

    public func reset(userID: String, ip: String) async throws {
        try await store.transaction { db in
            try await db.delete(from: "login_failures").where("user_id", .equal, userID).where("ip", .equal, ip).run()
        }
    }
}
