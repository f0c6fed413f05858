import Foundation
import SQLKit
import TesseraCore
import TesseraStore

/// Users of the database connection: create, read, search, update with Auth0's merge rules, delete.
public struct Users: Sendable {
    let store: Store
    let clock: TesseraClock
    let hasher: PasswordHasher

    public init(store: Store, clock: TesseraClock = .system, hasher: PasswordHasher = PasswordHasher()) {
        self.store = store
        self.clock = clock
        self.hasher = hasher
    }

    public static let notFound = DomainError.notFound("The user does not exist.", code: "inexistent_user")

    public func create(_ new: NewUser) async throws -> User {
        let email = try Validate.email(new.email)
        try PasswordPolicy.check(new.password)
        let localID = new.localID ?? RandomToken.hex(bytes: 12)
        guard !localID.isEmpty, !localID.contains("|") else {
            throw DomainError.invalidBody("Payload validation error: 'user_id must be non-empty and must not contain |' on property user_id.")
        }
        let now = Timestamp.string(clock.now())
        var user = User(
            userID: "auth0|\(localID)", connection: User.databaseConnection, email: email, emailVerified: false,
            username: nil, name: nil, givenName: nil, familyName: nil, nickname: nil, picture: nil,
            createdAt: now, updatedAt: now, lastLogin: nil, lastIP: nil, loginsCount: 0,
            blocked: false, appMetadata: [:], userMetadata: [:]
        )
        try new.profile.apply(to: &user)
        user.name = user.name ?? email
        user.nickname = user.nickname ?? email.split(separator: "@").first.map(String.init)
        user.appMetadata = Self.merge([:], new.appMetadata)
        user.userMetadata = Self.merge([:], new.userMetadata)
        let hash = try await hasher.hash(new.password)
        let created = user
        try await store.transaction { db in
            try await Self.insert(created, passwordHash: hash, db: db)
        }
        return user
    }

    public func get(_ userID: String) async throws -> User {
        guard let user = try await store.read({ db in try await Self.find(userID, db: db) }) else { throw Self.notFound }
        return user
    }

    public func byEmail(_ email: String) async throws -> [User] {
        let normalized = email.trimmingCharacters(in: .whitespaces).lowercased()
        guard !normalized.isEmpty else { throw DomainError.invalidQuery("Query validation error: 'email is required'.") }
        return try await store.read { db in
            try await db.select().columns("*").from("users").where("email", .equal, normalized)
                .orderBy("created_at").all().map(Self.decode)
        }
    }

    public func delete(_ userID: String) async throws {
        try await store.transaction { db in
            guard try await Self.find(userID, db: db) != nil else { throw Self.notFound }
            try await db.delete(from: "users").where("user_id", .equal, userID).run()
        }
    }

    /// Ends every sign-in session of the user and the refresh tokens issued in them (Auth0's
    /// `DELETE /api/v2/users/{id}/sessions`): their next visit to the hosted login asks for credentials again.
    public func revokeSessions(_ userID: String) async throws {
        let now = Int(clock.now().timeIntervalSince1970)
        try await store.transaction { db in
            guard try await Self.find(userID, db: db) != nil else { throw Self.notFound }
            try await db.update("sessions").set("revoked_at", to: now).where("user_id", .equal, userID)
                .where("revoked_at", .is, SQLLiteral.null).run()
            try await db.update("refresh_tokens").set("revoked_at", to: now).where("user_id", .equal, userID)
                .where("revoked_at", .is, SQLLiteral.null).run()
        }
    }

    /// Auth0's PATCH: `app_metadata` and `user_metadata` merge one level deep (`null` removes a key);
    /// every other field given replaces the stored one.
    /// `alongside` runs in the same transaction, so a caller's own write (an Actions execution record) costs no
    /// second commit.
    public func update(_ userID: String, _ patch: UserPatch,
                       alongside: (@Sendable (any SQLDatabase) async throws -> Void)? = nil) async throws -> User {
        var passwordHash: String?
        if let password = patch.password {
            try PasswordPolicy.check(password)
            passwordHash = try await hasher.hash(password)
        }
        let newEmail = try patch.email.map(Validate.email)
        let newHash = passwordHash
        return try await store.transaction { db in
            let user = try await write(userID, patch, email: newEmail, passwordHash: newHash, in: db)
            try await alongside?(db)
            return user
        }
    }

    /// The same PATCH as one step of a caller's transaction (a sign-in's batch). A new password is refused here:
    /// hashing it would hold the transaction for a bcrypt.
    public func update(_ userID: String, _ patch: UserPatch, in db: any SQLDatabase) async throws -> User {
        guard patch.password == nil else {
            throw DomainError.invalidBody("A password is changed on its own, not within another write")
        }
        return try await write(userID, patch, email: try patch.email.map(Validate.email), passwordHash: nil, in: db)
    }

    private func write(_ userID: String, _ patch: UserPatch, email newEmail: String?, passwordHash newHash: String?,
                       in db: any SQLDatabase) async throws -> User {
        let now = Timestamp.string(clock.now())
        guard var user = try await Self.find(userID, db: db) else { throw Self.notFound }
        if let newEmail { user.email = newEmail }
        try patch.profile.apply(to: &user)
        user.appMetadata = patch.appMetadata.applied(to: user.appMetadata)
        user.userMetadata = patch.userMetadata.applied(to: user.userMetadata)
        user.updatedAt = now
        let update = db.update("users")
            .set("email", to: user.email).set("email_verified", to: user.emailVerified)
            .set("username", to: user.username).set("name", to: user.name)
            .set("given_name", to: user.givenName).set("family_name", to: user.familyName)
            .set("nickname", to: user.nickname).set("picture", to: user.picture)
            .set("blocked", to: user.blocked).set("app_metadata", to: jsonBind(user.appMetadata))
            .set("user_metadata", to: jsonBind(user.userMetadata)).set("updated_at", to: now)
        if let newHash { update.set("password_hash", to: newHash) }
        do {
            try await update.where("user_id", .equal, userID).run()
        } catch where error.isUniqueViolation {
            throw DomainError.conflict("The specified new email or username already exists", code: "auth0_idp_error")
        }
        return user
    }

    /// One level deep: `null` removes a key, any other value replaces it.
    static func merge(_ base: [String: JSONValue], _ patch: [String: JSONValue]) -> [String: JSONValue] {
        var merged = base
        for (key, value) in patch {
            if value == .null { merged.removeValue(forKey: key) } else { merged[key] = value }
        }
        return merged
    }

    static func insert(_ user: User, passwordHash: String?, db: any SQLDatabase) async throws {
        do {
            try await db.insert(into: "users")
                .columns("user_id", "connection", "email", "email_verified", "username", "name", "given_name",
                         "family_name", "nickname", "picture", "password_hash", "created_at", "updated_at",
                         "logins_count", "blocked", "app_metadata", "user_metadata")
                .values(SQLBind(user.userID), SQLBind(user.connection), SQLBind(user.email), SQLBind(user.emailVerified),
                        SQLBind(user.username), SQLBind(user.name), SQLBind(user.givenName), SQLBind(user.familyName),
                        SQLBind(user.nickname), SQLBind(user.picture), SQLBind(passwordHash), SQLBind(user.createdAt),
                        SQLBind(user.updatedAt), SQLBind(user.loginsCount), SQLBind(user.blocked),
                        jsonBind(user.appMetadata), jsonBind(user.userMetadata))
                .run()
        } catch where error.isUniqueViolation {
            throw DomainError.conflict("The user already exists.", code: "auth0_idp_error")
        }
    }

    static func find(_ userID: String, db: any SQLDatabase) async throws -> User? {
        try await db.select().columns("*").from("users").where("user_id", .equal, userID).first().map(decode)
    }

    static func decode(_ row: any SQLRow) throws -> User {
        User(
            userID: try row.string("user_id"), connection: try row.string("connection"),
            email: try row.optionalString("email"), emailVerified: try row.bool("email_verified"),
            username: try row.optionalString("username"), name: try row.optionalString("name"),
            givenName: try row.optionalString("given_name"), familyName: try row.optionalString("family_name"),
            nickname: try row.optionalString("nickname"), picture: try row.optionalString("picture"),
            createdAt: try row.string("created_at"), updatedAt: try row.string("updated_at"),
            lastLogin: try row.optionalString("last_login"), lastIP: try row.optionalString("last_ip"),
            loginsCount: try row.integer("logins_count"), blocked: try row.bool("blocked"),
            appMetadata: try row.jsonObject("app_metadata"), userMetadata: try row.jsonObject("user_metadata")
        )
    }
}

extension Users {
    /// A database-connection user by email with their password hash, for sign-in.
    public func credentials(email: String) async throws -> (user: User, passwordHash: String?)? {
        let normalized = email.trimmingCharacters(in: .whitespaces).lowercased()
        return try await store.read { db in
            guard let row = try await db.select().columns("*").from("users").where("email", .equal, normalized)
                .where("connection", .equal, User.databaseConnection).first()
            else { return nil }
            return (try Self.decode(row), try row.optionalString("password_hash"))
        }
    }

    /// Counts a successful sign-in (`logins_count`, `last_login`, `last_ip`) and returns the updated user.
    /// Counts a successful sign-in: one statement, added to the sign-in's `batch` after `alongside` (the sign-in's
    /// own clean-up). The user is answered as the statement will leave it, so Actions see this login counted.
    public func recordLogin(_ user: User, ip: String, in batch: WriteBatch,
                            alongside: WriteBatch.Step? = nil) async -> User {
        let now = Timestamp.string(clock.now())
        var counted = user
        counted.loginsCount += 1
        counted.lastLogin = now
        counted.lastIP = ip
        let userID = user.userID
        await batch.add { db in
            try await alongside?(db)
            try await db.raw("""
                UPDATE users SET logins_count = logins_count + 1, last_login = \(bind: now), last_ip = \(bind: ip)
                WHERE user_id = \(bind: userID)
                """).run()
        }
        return counted
    }

    public func verify(password: String, hash: String) async throws -> Bool {
        try await hasher.verify(password, hash: hash)
    }
}
