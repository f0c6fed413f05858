import Foundation
import IdentityManagement
import SQLKit
import TesseraCore
import TesseraTokens
import TesseraStore

/// A sign-in waiting for its browser: sent to another site by a redirect Action (until `/continue`), or asked for a
/// second factor (until `/u/mfa` accepts a code). The state the browser carries is random and kept only as a
/// digest; it is bound to the session that paused, used once, and gone after ten minutes.
public struct PausedSignIn: Sendable {
    public enum Kind: String, Sendable { case redirect, multifactor }

    public let kind: Kind
    public let sessionID: String
    public let request: AuthorizationRequest
    public let result: PostLoginResult
    /// The hook's record of a paused flow (redirect), or `verified` once a second factor was accepted (multifactor).
    public let resume: JSONValue?
}

public struct PausedSignIns: Sendable {
    let store: Store
    let clock: TesseraClock
    /// Auth0 gives a redirected sign-in about as long to come back.
    static let lifetime: TimeInterval = 600
    static let verified: JSONValue = .string("verified")

    /// Stores a paused sign-in; returns its state and, for the hosted MFA page, a CSRF token for its form.
    /// Pauses a sign-in, committing what `batch` holds with it.
    public func create(_ kind: PausedSignIn.Kind, session: Session, request: AuthorizationRequest, result: PostLoginResult,
                       resume: JSONValue?, committing batch: WriteBatch? = nil) async throws -> (state: String, csrf: String) {
        let state = OpaqueSecret.generate(), csrf = OpaqueSecret.generate()
        let now = Int(clock.now().timeIntervalSince1970)
        let text = String(decoding: try JSONCoding.encoder.encode(request), as: UTF8.self)
        try await store.transaction(committing: batch) { db in
            try await db.delete(from: "paused_sign_ins").where("expires_at", .lessThan, now).run()
            try await db.insert(into: "paused_sign_ins")
                .columns("state_digest", "kind", "session_id", "request", "result", "resume", "csrf_digest", "expires_at")
                .values(SQLBind(OpaqueSecret.digest(state)), SQLBind(kind.rawValue), SQLBind(session.id), SQLBind(text),
                        SQLBind(result.stored.jsonText()), SQLBind(resume?.jsonText()), SQLBind(OpaqueSecret.digest(csrf)),
                        SQLBind(now + Int(Self.lifetime)))
                .run()
        }
        return (state, csrf)
    }

    /// The paused sign-in behind `state`, if it is of this kind, fresh, this session's and (when given) `csrf` is its
    /// token. It stays stored: the MFA page may be submitted again after a wrong code.
    public func find(_ state: String, kind: PausedSignIn.Kind, session: Session, csrf: String? = nil) async throws -> PausedSignIn? {
        let row = try await store.read { db in
            try await db.select().columns("*").from("paused_sign_ins").where("state_digest", .equal, OpaqueSecret.digest(state)).first()
        }
        return try row.flatMap { try decode($0, kind: kind, session: session, csrf: csrf) }
    }

    /// Removes and returns the paused sign-in: whoever takes it first goes on, any later use of the state finds nothing.
    public func take(_ state: String, kind: PausedSignIn.Kind, session: Session, csrf: String? = nil) async throws -> PausedSignIn? {
        let row = try await store.transaction { db in
            try await db.delete(from: "paused_sign_ins").where("state_digest", .equal, OpaqueSecret.digest(state))
                .returning("*").first()
        }
        return try row.flatMap { try decode($0, kind: kind, session: session, csrf: csrf) }
    }

    /// Notes that the second factor was given (the page then shows a new recovery code before going on).
    public func markVerified(_ state: String) async throws {
        try await store.transaction { db in
            try await db.update("paused_sign_ins").set("resume", to: Self.verified.jsonText())
                .where("state_digest", .equal, OpaqueSecret.digest(state)).run()
        }
    }

    private func decode(_ row: any SQLRow, kind: PausedSignIn.Kind, session: Session, csrf: String?) throws -> PausedSignIn? {
        guard try row.string("kind") == kind.rawValue, try row.string("session_id") == session.id,
              try row.integer("expires_at") > Int(clock.now().timeIntervalSince1970) else { return nil }
        if let csrf {
            guard let digest = try row.optionalString("csrf_digest"), OpaqueSecret.matches(csrf, digest: digest) else { return nil }
        }
        return PausedSignIn(
            kind: kind, sessionID: session.id,
            request: try JSONDecoder().decode(AuthorizationRequest.self, from: Data(try row.string("request").utf8)),
            result: PostLoginResult(stored: try JSONValue.parse(try row.string("result"))),
            resume: try row.optionalString("resume").map(JSONValue.parse))
    }
}

/// Browsers a user let skip the second factor for a while (`allowRememberBrowser`): a random cookie, kept as a digest.
public struct RememberedBrowsers: Sendable {
    let store: Store
    let clock: TesseraClock
    public static let lifetime: TimeInterval = 30 * 24 * 3600

    public func remember(userID: String) async throws -> String {
        let secret = OpaqueSecret.generate()
        let now = Int(clock.now().timeIntervalSince1970)
        try await store.transaction { db in
            try await db.delete(from: "remembered_browsers").where("expires_at", .lessThan, now).run()
            try await db.insert(into: "remembered_browsers").columns("secret_digest", "user_id", "expires_at")
                .values(SQLBind(OpaqueSecret.digest(secret)), SQLBind(userID), SQLBind(now + Int(Self.lifetime))).run()
        }
        return secret
    }

    public func isRemembered(_ secret: String?, userID: String) async throws -> Bool {
        guard let secret else { return false }
        let now = Int(clock.now().timeIntervalSince1970)
        return try await store.read { db in
            try await db.select().column("user_id").from("remembered_browsers")
                .where("secret_digest", .equal, OpaqueSecret.digest(secret)).where("user_id", .equal, userID)
                .where("expires_at", .greaterThan, now).first() != nil
        }
    }
}
