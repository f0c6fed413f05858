import Foundation
import SQLKit
import TesseraCore
import TesseraStore

/// The directory's users in the main store. Every write is one transaction; reads see committed users only.
public struct DirectoryStore: Sendable {
    let store: Store
    let clock: TesseraClock

    public init(store: Store, clock: TesseraClock = .system) {
        self.store = store
        self.clock = clock
    }

    // MARK: - Users

    public func user(_ identifier: UserIdentifier) async throws -> DirectoryUser {
        try await store.read { db in try await Self.user(identifier, in: db) }
    }

    public func create(_ change: UserFields.Change) async throws -> DirectoryUser {
        let now = Timestamp.string(clock.now())
        var user = DirectoryUser(id: RandomToken.identifier(prefix: "usr", bytes: 10), uniqueId: change.uniqueId ?? nil,
                                 profile: [:], createTime: now, updateTime: now)
        Self.apply(change.profile, to: &user)
        let created = user
        return try await store.transaction { db in
            try await Self.insert(created, in: db)
            return created
        }
    }

    /// Applies the fields the change names; with `allowMissing`, a uniqueId that names no user creates it.
    public func update(_ identifier: UserIdentifier, _ change: UserFields.Change, allowMissing: Bool) async throws -> DirectoryUser {
        let now = Timestamp.string(clock.now())
        return try await store.transaction { db in
            guard var user = try await Self.find(identifier, in: db) else {
                guard allowMissing else { throw DirectoryError.userNotFound(Self.describe(identifier)) }
                guard case .uniqueId(let uniqueId) = identifier else {
                    throw DirectoryError.invalid("userId", "allowMissing needs the user's uniqueId as the identifier")
                }
                if case .some(let given) = change.uniqueId, given != uniqueId {
                    throw DirectoryError.invalid("uniqueId", "The body's uniqueId differs from the identifier")
                }
                var created = DirectoryUser(id: RandomToken.identifier(prefix: "usr", bytes: 10), uniqueId: uniqueId,
                                            profile: [:], createTime: now, updateTime: now)
                Self.apply(change.profile, to: &created)
                try await Self.insert(created, in: db)
                return created
            }
            guard !user.isDeleted else { throw Self.pendingDeletion(user) }
            if case .some(let uniqueId) = change.uniqueId { user.uniqueId = uniqueId }
            Self.apply(change.profile, to: &user)
            user.updateTime = now
            try await Self.write(user, in: db)
            return user
        }
    }

    /// Soft delete: the user stays, `PENDING_DELETION`, until purged or undeleted.
    public func delete(_ identifier: UserIdentifier) async throws -> DirectoryUser {
        let now = Timestamp.string(clock.now())
        return try await store.transaction { db in
            var user = try await Self.user(identifier, in: db)
            guard !user.isDeleted else { throw Self.pendingDeletion(user) }
            user.deleteTime = now
            user.updateTime = now
            try await Self.write(user, in: db)
            return user
        }
    }

    public func undelete(_ identifier: UserIdentifier) async throws -> DirectoryUser {
        let now = Timestamp.string(clock.now())
        return try await store.transaction { db in
            var user = try await Self.user(identifier, in: db)
            guard user.isDeleted else {
                throw DirectoryError(.failedPrecondition, "The user is not deleted", reason: "USER_NOT_DELETED")
            }
            user.deleteTime = nil
            user.updateTime = now
            try await Self.write(user, in: db)
            return user
        }
    }

    /// Removes a deleted user for good, with its accounts.
    public func purge(_ identifier: UserIdentifier) async throws {
        try await store.transaction { db in
            let user = try await Self.user(identifier, in: db)
            guard user.isDeleted else {
                throw DirectoryError(.failedPrecondition, "The user must be deleted before it is purged", reason: "USER_NOT_DELETED")
            }
            try await db.delete(from: "directory_accounts").where("user_id", .equal, user.id).run()
            try await db.delete(from: "directory_users").where("id", .equal, user.id).run()
        }
    }

    // MARK: - Listing

    /// One page of users, in the query's order; the next page starts after the last user of this one (keyset
    /// paging: users added or removed meanwhile never shift a page). `previousPageToken` is UserHub's: absent on
    /// the first page, empty when the previous page is the first.
    public func list(_ query: UserQuery) async throws -> UserPage {
        let order = query.order
        let key = order.sortExpression
        let forward = order.descending ? "DESC" : "ASC", backward = order.descending ? "ASC" : "DESC"
        var page = Self.filtered(query)
        if let after = query.after {
            let comparison = order.descending ? "<" : ">"
            page += " AND (\(unsafeRaw: key) \(unsafeRaw: comparison) \(bind: after.value) OR (\(unsafeRaw: key) = \(bind: after.value) AND id \(unsafeRaw: comparison) \(bind: after.id)))"
        }
        page += " ORDER BY \(unsafeRaw: key) \(unsafeRaw: forward), id \(unsafeRaw: forward) LIMIT \(literal: query.pageSize + 1)"
        // The previous page ends with the cursor's row: read back from it, one row past a page, to find where it starts.
        var previous: SQLQueryString?
        if let after = query.after {
            let comparison = order.descending ? ">" : "<"
            var back = Self.filtered(query)
            back += " AND (\(unsafeRaw: key) \(unsafeRaw: comparison) \(bind: after.value) OR (\(unsafeRaw: key) = \(bind: after.value) AND id \(unsafeRaw: comparison)= \(bind: after.id)))"
            back += " ORDER BY \(unsafeRaw: key) \(unsafeRaw: backward), id \(unsafeRaw: backward) LIMIT \(literal: query.pageSize + 1)"
            previous = back
        }
        let statement = page, backStatement = previous
        return try await store.read { db in
            let rows = try await db.raw(statement).all()
            var users = try rows.prefix(query.pageSize).map(Self.decode)
            let accounts = query.view == .full ? try await Self.accounts(of: users.map(\.id), in: db) : [:]
            for index in users.indices {
                if query.view == .full { users[index].accounts = accounts[users[index].id] ?? [] }
                users[index].view = query.view
            }
            var result = UserPage(users: users)
            if rows.count > query.pageSize, let last = rows.prefix(query.pageSize).last {
                result.nextPageToken = query.token(after: UserQuery.Cursor(value: try last.string("sort_value"), id: try last.string("id")))
            }
            if let backStatement {
                let before = try await db.raw(backStatement).all()
                result.previousPageToken = before.count > query.pageSize
                    ? query.token(after: UserQuery.Cursor(value: try before[query.pageSize].string("sort_value"), id: try before[query.pageSize].string("id")))
                    : ""
            }
            return result
        }
    }

    /// `SELECT` with the query's filters (deleted users, email, display name), before any paging.
    static func filtered(_ query: UserQuery) -> SQLQueryString {
        var sql: SQLQueryString = "SELECT *, \(unsafeRaw: query.order.sortExpression) AS sort_value FROM directory_users WHERE 1 = 1"
        if !query.showDeleted { sql += " AND delete_time IS NULL" }
        for (column, filter) in [("email_key", query.email), ("display_name_key", query.displayName)] {
            switch filter {
            case nil: break
            case .exact(let value)?: sql += " AND \(unsafeRaw: column) = \(bind: value.lowercased())"
            case .prefix(let value)?: sql += " AND \(unsafeRaw: column) LIKE \(bind: likePrefix(value.lowercased())) ESCAPE '\\'"
            }
        }
        return sql
    }

    static func likePrefix(_ value: String) -> String {
        var escaped = ""
        for character in value {
            if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped + "%"
    }

    // MARK: - Rows

    static func describe(_ identifier: UserIdentifier) -> String {
        switch identifier {
        case .id(let id): id
        case .account(let externalId, let connectionId): "\(externalId)@\(connectionId)"
        case .uniqueId(let uniqueId): uniqueId
        }
    }

    static func pendingDeletion(_ user: DirectoryUser) -> DirectoryError {
        DirectoryError(.failedPrecondition, "The user is pending deletion", reason: "USER_PENDING_DELETION")
    }

    static func apply(_ profile: [String: JSONValue?], to user: inout DirectoryUser) {
        for (name, value) in profile { user.profile[name] = value }
    }

    static func user(_ identifier: UserIdentifier, in db: any SQLDatabase) async throws -> DirectoryUser {
        guard let user = try await find(identifier, in: db) else { throw DirectoryError.userNotFound(describe(identifier)) }
        return user
    }

    static func find(_ identifier: UserIdentifier, in db: any SQLDatabase) async throws -> DirectoryUser? {
        let row: (any SQLRow)?
        switch identifier {
        case .id(let id):
            row = try await db.select().columns("*").from("directory_users").where("id", .equal, id).first()
        case .uniqueId(let uniqueId):
            row = try await db.select().columns("*").from("directory_users").where("unique_id", .equal, uniqueId).first()
        case .account(let externalId, let connectionId):
            row = try await db.select().columns(SQLColumn(SQLLiteral.all, table: SQLIdentifier("u"))).from(SQLAlias(SQLIdentifier("directory_users"), as: SQLIdentifier("u")))
                .join(SQLAlias(SQLIdentifier("directory_accounts"), as: SQLIdentifier("a")), on: SQLColumn("user_id", table: "a"), .equal, SQLColumn("id", table: "u"))
                .where(SQLColumn("connection_id", table: "a"), .equal, SQLBind(connectionId))
                .where(SQLColumn("external_id", table: "a"), .equal, SQLBind(externalId)).first()
        }
        guard let row else { return nil }
        var user = try decode(row)
        user.accounts = try await accounts(of: user.id, in: db)
        return user
    }

    static func decode(_ row: any SQLRow) throws -> DirectoryUser {
        DirectoryUser(id: try row.string("id"), uniqueId: try row.optionalString("unique_id"), profile: try row.jsonObject("profile"),
                      createTime: try row.string("create_time"), updateTime: try row.string("update_time"),
                      deleteTime: try row.optionalString("delete_time"))
    }

    static func accounts(of userId: String, in db: any SQLDatabase) async throws -> [DirectoryUser.Account] {
        try await accounts(of: [userId], in: db)[userId] ?? []
    }

    /// The accounts of several users in one query (a webhook batch, a page), by user id.
    static func accounts(of userIds: [String], in db: any SQLDatabase) async throws -> [String: [DirectoryUser.Account]] {
        guard !userIds.isEmpty else { return [:] }
        var byUser: [String: [DirectoryUser.Account]] = [:]
        let rows = try await db.select()
            .columns(SQLColumn(SQLLiteral.all, table: SQLIdentifier("a")), SQLAlias(SQLColumn("display_name", table: "c"), as: SQLIdentifier("connection_name")),
                     SQLAlias(SQLColumn("type", table: "c"), as: SQLIdentifier("connection_type")),
                     SQLAlias(SQLColumn("state", table: "c"), as: SQLIdentifier("connection_state")))
            .from(SQLAlias(SQLIdentifier("directory_accounts"), as: SQLIdentifier("a")))
            .join(SQLAlias(SQLIdentifier("directory_connections"), as: SQLIdentifier("c")), on: SQLColumn("id", table: "c"), .equal, SQLColumn("connection_id", table: "a"))
            .where(SQLColumn("user_id", table: "a"), .in, SQLBind.group(userIds))
            .orderBy(SQLColumn("create_time", table: "a"))
            .all()
        for row in rows {
            byUser[try row.string("user_id"), default: []].append(
                DirectoryUser.Account(
                    connection: ConnectionSummary(id: try row.string("connection_id"), displayName: try row.string("connection_name"),
                                                  type: try row.string("connection_type"), state: try row.string("connection_state")),
                    externalId: try row.string("external_id"), profile: try row.jsonObject("profile"),
                    pullTime: try row.optionalString("pull_time"), pushTime: try row.optionalString("push_time"),
                    createTime: try row.string("create_time"), updateTime: try row.string("update_time")))
        }
        return byUser
    }

    static func insert(_ user: DirectoryUser, in db: any SQLDatabase) async throws {
        do {
            try await db.insert(into: "directory_users")
                .columns("id", "unique_id", "profile", "display_name_key", "email_key", "state", "signup_time", "create_time", "update_time", "delete_time")
                .values(SQLBind(user.id), SQLBind(user.uniqueId), jsonBind(user.profile), SQLBind(sortKey(user.profile["displayName"])),
                        SQLBind(sortKey(user.profile["email"])), SQLBind(user.state.rawValue), SQLBind(user.profile["signupTime"]?.stringValue),
                        SQLBind(user.createTime), SQLBind(user.updateTime), SQLBind(user.deleteTime))
                .run()
        } catch where error.isUniqueViolation {
            throw DirectoryError(.alreadyExists, "A user with uniqueId \(user.uniqueId ?? "") already exists", reason: "USER_ALREADY_EXISTS", param: "uniqueId")
        }
    }

    static func write(_ user: DirectoryUser, in db: any SQLDatabase) async throws {
        do {
            try await db.update("directory_users")
                .set("unique_id", to: SQLBind(user.uniqueId)).set("profile", to: jsonBind(user.profile))
                .set("display_name_key", to: SQLBind(sortKey(user.profile["displayName"])))
                .set("email_key", to: SQLBind(sortKey(user.profile["email"]))).set("state", to: SQLBind(user.state.rawValue))
                .set("signup_time", to: SQLBind(user.profile["signupTime"]?.stringValue))
                .set("update_time", to: SQLBind(user.updateTime)).set("delete_time", to: SQLBind(user.deleteTime))
                .where("id", .equal, user.id).run()
        } catch where error.isUniqueViolation {
            throw DirectoryError(.alreadyExists, "A user with uniqueId \(user.uniqueId ?? "") already exists", reason: "USER_ALREADY_EXISTS", param: "uniqueId")
        }
    }

    /// Filters and sorts compare case-insensitively, so the key columns hold lowercased text ('' when absent).
    static func sortKey(_ value: JSONValue?) -> String { value?.stringValue?.lowercased() ?? "" }
}
