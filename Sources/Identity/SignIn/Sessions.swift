import Foundation
import IdentityManagement
import SQLKit
import TesseraCore
import TesseraTokens
import TesseraStore

/// One way a session's user proved who they are (`pwd`, `mfa`, or what an Action recorded), and when.
public struct SignInMethod: Sendable, Equatable {
    public let name: String
    public let time: Int

    public init(name: String, time: Int) {
        self.name = name
        self.time = time
    }

    static func list(_ text: String?, authTime: Int) -> [SignInMethod] {
        guard let items = text.flatMap({ try? JSONValue.parse($0) })?.arrayValue else { return [SignInMethod(name: "pwd", time: authTime)] }
        return items.compactMap { item in
            guard let name = item.objectValue?["name"]?.stringValue, let time = item.objectValue?["time"]?.numberValue else { return nil }
            return SignInMethod(name: name, time: Int(time))
        }
    }

    static func text(_ methods: [SignInMethod]) -> String {
        JSONValue.array(methods.map { .object(["name": .string($0.name), "time": .number(Double($0.time))]) }).jsonText()
    }
}

/// A signed-in browser. The cookie holds a random secret; the store keeps its digest and a public `sid`.
public struct Session: Sendable, Equatable {
    public let id: String
    public let userID: String
    public let authTime: Int
    public var methods: [SignInMethod]

    public init(id: String, userID: String, authTime: Int, methods: [SignInMethod]? = nil) {
        self.id = id
        self.userID = userID
        self.authTime = authTime
        self.methods = methods ?? [SignInMethod(name: "pwd", time: authTime)]
    }
}

public struct Sessions: Sendable {
    let store: Store
    let clock: TesseraClock
    public static let lifetime: TimeInterval = 7 * 24 * 3600


    /// A new session for `userID`, written with the rest of the sign-in's `batch`.
    public func create(userID: String, in batch: WriteBatch) async -> (session: Session, cookie: String) {
        let secret = OpaqueSecret.generate()
        let now = clock.now()
        let session = Session(id: RandomToken.base64URL(bytes: 16), userID: userID, authTime: Int(now.timeIntervalSince1970))
        await batch.add { db in
            try await db.insert(into: "sessions").columns("id", "secret_digest", "user_id", "auth_time", "expires_at", "methods")
                .values(SQLBind(session.id), SQLBind(OpaqueSecret.digest(secret)), SQLBind(userID), SQLBind(session.authTime),
                        SQLBind(Int(now.addingTimeInterval(Self.lifetime).timeIntervalSince1970)),
                        SQLBind(SignInMethod.text(session.methods)))
                .run()
        }
        return (session, secret)
    }

    public func find(cookie: String) async throws -> Session? {
        let now = Int(clock.now().timeIntervalSince1970)
        return try await store.read { db in
            try await db.select().columns("id", "user_id", "auth_time", "methods").from("sessions")
                .where("secret_digest", .equal, OpaqueSecret.digest(cookie))
                .where("expires_at", .greaterThan, now).where("revoked_at", .is, SQLLiteral.null)
                .first().map { row in
                    let authTime = try row.integer("auth_time")
                    return Session(id: try row.string("id"), userID: try row.string("user_id"), authTime: authTime,
                                   methods: SignInMethod.list(try row.optionalString("methods"), authTime: authTime))
                }
        }
    }

    /// Records a further way the session's user proved who they are; a method already there gets the new time.
    /// With a `batch` (a sign-in whose session is not written yet), the change waits for the batch's commit.
    public func record(_ name: String, in session: Session, batch: WriteBatch? = nil) async throws -> Session {
        var updated = session
        updated.methods.removeAll { $0.name == name }
        updated.methods.append(SignInMethod(name: name, time: Int(clock.now().timeIntervalSince1970)))
        let text = SignInMethod.text(updated.methods)
        let write: WriteBatch.Step = { db in
            try await db.update("sessions").set("methods", to: text).where("id", .equal, session.id).run()
        }
        if let batch { await batch.add(write) } else { try await store.transaction(write) }
        return updated
    }

    public func revoke(id: String) async throws {
        let now = Int(clock.now().timeIntervalSince1970)
        try await store.transaction { db in
            try await db.update("sessions").set("revoked_at", to: now).where("id", .equal, id).run()
        }
    }
}
