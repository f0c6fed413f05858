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

    /// The deletion as one statement of a caller's transaction (the session the form's sign-in creates).
    public static func delete(_ id: String, in db: any SQLDatabase) async throws {
        try await db.delete(from: "login_transactions").where("id", .equal, id).run()
    }
}
