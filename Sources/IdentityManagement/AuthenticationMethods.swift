import Foundation
import SQLKit
import TesseraCore
import TesseraStore
import TesseraTokens

/// A second factor a user has enrolled, as the Management API's `authentication-methods` lists it.
public struct AuthenticationMethod: Sendable, Equatable {
    public let id: String
    public let type: String
    public let confirmed: Bool
    public let createdAt: String
    public let lastAuthAt: String?

    public var json: JSONValue {
        var fields: [String: JSONValue] = ["id": .string(id), "type": .string(type), "confirmed": .bool(confirmed),
                                           "created_at": .string(createdAt)]
        if let lastAuthAt { fields["last_auth_at"] = .string(lastAuthAt) }
        return .object(fields)
    }
}

/// Users' second factors: one TOTP authenticator (an authenticator app) and one recovery code each. TOTP secrets
/// are sealed with the master key; recovery codes are kept as digests and shown once.
public struct AuthenticationMethods: Sendable {
    let store: Store
    let clock: TesseraClock
    let sealer: SecretSealer

    static let totp = "totp", recoveryCode = "recovery-code"
    static let notFound = DomainError.notFound("The authentication method does not exist.", code: "inexistent_authentication_method")

    public init(store: Store, clock: TesseraClock, sealer: SecretSealer) {
        self.store = store
        self.clock = clock
        self.sealer = sealer
    }

    public func list(userID: String) async throws -> [AuthenticationMethod] {
        try await store.read { db in
            guard try await Users.find(userID, db: db) != nil else { throw Users.notFound }
            return try await db.select().columns("*").from("user_authenticators").where("user_id", .equal, userID)
                .orderBy("created_at").all().map(Self.decode)
        }
    }

    /// One page of the user's methods, and how many there are in all.
    public func list(userID: String, page: Int, perPage: Int) async throws -> (methods: [AuthenticationMethod], total: Int) {
        let all = try await list(userID: userID)
        let start = page.multipliedReportingOverflow(by: perPage)
        guard !start.overflow, start.partialValue < all.count else { return ([], all.count) }
        return (Array(all[start.partialValue...].prefix(perPage)), all.count)
    }

    public func get(userID: String, id: String) async throws -> AuthenticationMethod {
        guard let method = try await list(userID: userID).first(where: { $0.id == id }) else { throw Self.notFound }
        return method
    }

    public func delete(userID: String, id: String) async throws {
        _ = try await get(userID: userID, id: id)
        try await store.transaction { db in
            try await db.delete(from: "user_authenticators").where("user_id", .equal, userID).where("id", .equal, id).run()
        }
    }

    /// Removes every factor: the user enrolls again at the next sign-in that asks for one.
    public func deleteAll(userID: String) async throws {
        try await store.transaction { db in
            guard try await Users.find(userID, db: db) != nil else { throw Users.notFound }
            try await db.delete(from: "user_authenticators").where("user_id", .equal, userID).run()
        }
    }

    /// Auth0's names for what `event.user.multifactor` lists: a confirmed authenticator app shows as `guardian`.
    public func enrolledProviders(userID: String) async throws -> [String] {
        try await hasConfirmedTOTP(userID: userID) ? ["guardian"] : []
    }

    public func hasConfirmedTOTP(userID: String) async throws -> Bool {
        try await store.read { db in
            try await db.select().column("id").from("user_authenticators").where("user_id", .equal, userID)
                .where("type", .equal, Self.totp).where("confirmed", .equal, 1).first() != nil
        }
    }

    /// The secret of the user's TOTP enrolment in progress, created on first asking; nil once one is confirmed.
    public func pendingTOTPSecret(userID: String) async throws -> [UInt8]? {
        if try await hasConfirmedTOTP(userID: userID) { return nil }
        if let row = try await totpRow(userID: userID) {
            return Base32.decode(try sealer.open(try row.string("secret")))
        }
        let secret = RandomToken.bytes(20)
        try await store.transaction { db in
            try await db.insert(into: "user_authenticators")
                .columns("id", "user_id", "type", "secret", "confirmed", "created_at")
                .values(SQLBind(Self.totp + "|dev_" + RandomToken.base64URL(bytes: 12)), SQLBind(userID), SQLBind(Self.totp),
                        SQLBind(try sealer.seal(Base32.encode(secret))), SQLBind(0), SQLBind(Timestamp.string(clock.now())))
                .run()
        }
        return secret
    }

    /// Checks a code against the user's authenticator (confirming an enrolment in progress). A code is good once:
    /// its step must be later than the last one accepted, and the update that records it is conditional on that,
    /// so two requests racing with one code cannot both pass.
    public func verifyTOTP(userID: String, code: String) async throws -> Bool {
        guard let row = try await totpRow(userID: userID),
              let secret = Base32.decode(try sealer.open(try row.string("secret"))),
              let step = TOTP.matchingStep(code, secret: secret, at: clock.now())
        else { return false }
        let id = try row.string("id")
        let now = Timestamp.string(clock.now())
        return try await store.transaction { db in
            try await db.update("user_authenticators").set("last_step", to: SQLBind(step)).set("confirmed", to: 1)
                .set("last_auth_at", to: now).where("id", .equal, id)
                .where(SQLGroupExpression(SQLBinaryExpression(
                    SQLBinaryExpression(SQLColumn("last_step"), .is, SQLLiteral.null), .or,
                    SQLBinaryExpression(SQLColumn("last_step"), .lessThan, SQLBind(step)))))
                .returning("id").first() != nil
        }
    }

    /// A new recovery code, replacing the previous one; the only time it is ever readable.
    public func issueRecoveryCode(userID: String) async throws -> String {
        let code = Base32.encode(RandomToken.bytes(15))
        try await store.transaction { db in
            try await db.delete(from: "user_authenticators").where("user_id", .equal, userID).where("type", .equal, Self.recoveryCode).run()
            try await db.insert(into: "user_authenticators")
                .columns("id", "user_id", "type", "secret", "confirmed", "created_at")
                .values(SQLBind(Self.recoveryCode + "|dev_" + RandomToken.base64URL(bytes: 12)), SQLBind(userID),
                        SQLBind(Self.recoveryCode), SQLBind(OpaqueSecret.digest(Self.normalized(code))), SQLBind(1),
                        SQLBind(Timestamp.string(clock.now())))
                .run()
        }
        return code
    }

    /// Spends the user's recovery code if `code` is it.
    public func useRecoveryCode(userID: String, code: String) async throws -> Bool {
        let digest = OpaqueSecret.digest(Self.normalized(code))
        return try await store.transaction { db in
            try await db.delete(from: "user_authenticators").where("user_id", .equal, userID)
                .where("type", .equal, Self.recoveryCode).where("secret", .equal, digest).returning("id").first() != nil
        }
    }

    static func normalized(_ code: String) -> String {
        code.uppercased().filter { $0.isLetter || $0.isNumber }
    }

    private func totpRow(userID: String) async throws -> (any SQLRow)? {
        try await store.read { db in
            try await db.select().columns("id", "secret").from("user_authenticators").where("user_id", .equal, userID)
                .where("type", .equal, Self.totp).orderBy("confirmed", .descending).first()
        }
    }

    static func decode(_ row: any SQLRow) throws -> AuthenticationMethod {
        AuthenticationMethod(id: try row.string("id"), type: try row.string("type"), confirmed: try row.integer("confirmed") != 0,
                             createdAt: try row.string("created_at"), lastAuthAt: try row.optionalString("last_auth_at"))
    }
}
