import Foundation
import IdentityManagement
import SQLKit
import TesseraCore
import TesseraTokens
import TesseraStore

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
