import Foundation
import SQLKit
import TesseraCore
import TesseraStore

/// Roles, their permissions on APIs, and which users hold them.
public struct Roles: Sendable {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    static let notFound = DomainError.notFound("The role does not exist.", code: "inexistent_role")

    public func create(_ body: JSONValue) async throws -> Role {
        let payload = try Payload(body, allowed: ["name", "description"])
        let role = Role(id: RandomToken.identifier(prefix: "rol", bytes: 12),
                        name: try Validate.name(try payload.requiredString("name", maxLength: 50)),
                        description: try payload.string("description", maxLength: 140) ?? "")
        try await store.transaction { db in
            do {
                try await db.insert(into: "roles").columns("id", "name", "description")
                    .values(SQLBind(role.id), SQLBind(role.name), SQLBind(role.description)).run()
            } catch where error.isUniqueViolation {
                throw DomainError.conflict("A role with this name already exists", code: "role_conflict")
            }
        }
        return role
    }

    /// Every role, or those whose name contains `nameFilter` ignoring case, as Auth0's `name_filter` finds them.
    public func list(nameFilter: String? = nil) async throws -> [Role] {
        let roles = try await store.read { db in
            try await db.select().columns("*").from("roles").orderBy("name").all().map(Self.decode)
        }
        guard let nameFilter, !nameFilter.isEmpty else { return roles }
        return roles.filter { $0.name.range(of: nameFilter, options: .caseInsensitive) != nil }
    }

    public func get(_ id: String) async throws -> Role {
        guard let role = try await store.read({ db in
            try await db.select().columns("*").from("roles").where("id", .equal, id).first().map(Self.decode)
        }) else { throw Self.notFound }
        return role
    }

    public func update(_ id: String, _ body: JSONValue) async throws -> Role {
        let payload = try Payload(body, allowed: ["name", "description"])
        var role = try await get(id)
        if let name = try payload.string("name", maxLength: 50) { role.name = try Validate.name(name) }
        if let description = try payload.string("description", maxLength: 140) { role.description = description }
        let updated = role
        try await store.transaction { db in
            do {
                try await db.update("roles").set("name", to: updated.name).set("description", to: updated.description)
                    .where("id", .equal, id).run()
            } catch where error.isUniqueViolation {
                throw DomainError.conflict("A role with this name already exists", code: "role_conflict")
            }
        }
        return updated
    }

    public func delete(_ id: String) async throws {
        _ = try await get(id)
        try await store.transaction { db in
            try await db.delete(from: "roles").where("id", .equal, id).run()
        }
    }

    // MARK: permissions

    public func permissions(of roleID: String) async throws -> [RolePermission] {
        _ = try await get(roleID)
        return try await store.read { db in
            try await db.select().columns("resource_server_identifier", "permission_name").from("role_permissions")
                .where("role_id", .equal, roleID).orderBy("resource_server_identifier").orderBy("permission_name")
                .all().map(Self.decodePermission)
        }
    }

    public func addPermissions(_ roleID: String, _ body: JSONValue) async throws {
        let permissions = try Self.permissionList(body)
        _ = try await get(roleID)
        try await store.transaction { db in
            for permission in permissions {
                guard let server = try await db.select().column("scopes").from("resource_servers")
                    .where("identifier", .equal, permission.resourceServerIdentifier).first()
                else {
                    throw DomainError.notFound("Resource server \(permission.resourceServerIdentifier) does not exist",
                                               code: "inexistent_resource_server")
                }
                guard try ResourceServers.decodeScopeValues(server).contains(permission.permissionName) else {
                    throw DomainError.invalidBody("Permission \(permission.permissionName) is not defined by \(permission.resourceServerIdentifier)")
                }
                try await db.insert(into: "role_permissions")
                    .columns("role_id", "resource_server_identifier", "permission_name")
                    .values(SQLBind(roleID), SQLBind(permission.resourceServerIdentifier), SQLBind(permission.permissionName))
                    .ignoringConflicts().run()
            }
        }
    }

    public func removePermissions(_ roleID: String, _ body: JSONValue) async throws {
        let permissions = try Self.permissionList(body)
        _ = try await get(roleID)
        try await store.transaction { db in
            for permission in permissions {
                try await db.delete(from: "role_permissions").where("role_id", .equal, roleID)
                    .where("resource_server_identifier", .equal, permission.resourceServerIdentifier)
                    .where("permission_name", .equal, permission.permissionName).run()
            }
        }
    }

    // MARK: members

    public func roles(ofUser userID: String) async throws -> [Role] {
        try await store.read { db in
            guard try await db.select().column("user_id").from("users").where("user_id", .equal, userID).first() != nil else {
                throw Users.notFound
            }
            return try await db.select().columns(SQLColumn("id", table: "roles"), SQLColumn("name", table: "roles"),
                                                 SQLColumn("description", table: "roles"))
                .from("roles").join("user_roles", on: SQLColumn("role_id", table: "user_roles"), .equal, SQLColumn("id", table: "roles"))
                .where(SQLColumn("user_id", table: "user_roles"), .equal, SQLBind(userID))
                .orderBy(SQLColumn("name", table: "roles")).all().map(Self.decode)
        }
    }

    public func users(inRole roleID: String) async throws -> [String] {
        _ = try await get(roleID)
        return try await store.read { db in
            try await db.select().column("user_id").from("user_roles").where("role_id", .equal, roleID)
                .orderBy("user_id").all().map { try $0.string("user_id") }
        }
    }

    /// Assigns roles to a user. Unknown role ids are refused; roles already held are left as they are.
    public func assign(roleIDs: [String], toUser userID: String) async throws {
        try await store.transaction { db in
            guard try await db.select().column("user_id").from("users").where("user_id", .equal, userID).first() != nil else {
                throw Users.notFound
            }
            for roleID in roleIDs {
                guard try await db.select().column("id").from("roles").where("id", .equal, roleID).first() != nil else {
                    throw DomainError.notFound("The role \(roleID) does not exist.", code: "inexistent_role")
                }
                try await db.insert(into: "user_roles").columns("user_id", "role_id")
                    .values(SQLBind(userID), SQLBind(roleID)).ignoringConflicts().run()
            }
        }
    }

    /// Assigns one role to several users, all or none: an unknown user leaves every membership as it was.
    public func assign(userIDs: [String], toRole roleID: String) async throws {
        try await store.transaction { db in
            guard try await db.select().column("id").from("roles").where("id", .equal, roleID).first() != nil else {
                throw DomainError.notFound("The role \(roleID) does not exist.", code: "inexistent_role")
            }
            for userID in userIDs {
                guard try await db.select().column("user_id").from("users").where("user_id", .equal, userID).first() != nil else {
                    throw Users.notFound
                }
                try await db.insert(into: "user_roles").columns("user_id", "role_id")
                    .values(SQLBind(userID), SQLBind(roleID)).ignoringConflicts().run()
            }
        }
    }

    public func unassign(roleIDs: [String], fromUser userID: String) async throws {
        try await store.transaction { db in
            guard try await db.select().column("user_id").from("users").where("user_id", .equal, userID).first() != nil else {
                throw Users.notFound
            }
            for roleID in roleIDs {
                try await db.delete(from: "user_roles").where("user_id", .equal, userID).where("role_id", .equal, roleID).run()
            }
        }
    }

    /// Permissions a user holds on an API through their roles: the `permissions` claim of access tokens.
    public func permissions(ofUser userID: String, audience: String) async throws -> [String] {
        try await store.read { db in
            try await db.select().distinct().column(SQLColumn("permission_name", table: "role_permissions"))
                .from("role_permissions")
                .join("user_roles", on: SQLColumn("role_id", table: "user_roles"), .equal, SQLColumn("role_id", table: "role_permissions"))
                .where(SQLColumn("user_id", table: "user_roles"), .equal, SQLBind(userID))
                .where(SQLColumn("resource_server_identifier", table: "role_permissions"), .equal, SQLBind(audience))
                .orderBy(SQLColumn("permission_name", table: "role_permissions"))
                .all().map { try $0.string("permission_name") }
        }
    }

    static func idList(_ body: JSONValue, key: String) throws -> [String] {
        let payload = try Payload(body, allowed: [key])
        guard let ids = try payload.strings(key, maxCount: 100), !ids.isEmpty else {
            throw DomainError.invalidBody("Payload validation error: 'Missing required property: \(key)'.")
        }
        return ids
    }

    static func permissionList(_ body: JSONValue) throws -> [RolePermission] {
        let payload = try Payload(body, allowed: ["permissions"])
        guard let items = try payload.array("permissions"), !items.isEmpty else {
            throw DomainError.invalidBody("Payload validation error: 'Missing required property: permissions'.")
        }
        return try items.map { item in
            let permission = try Payload(item, allowed: ["resource_server_identifier", "permission_name"])
            return RolePermission(resourceServerIdentifier: try permission.requiredString("resource_server_identifier"),
                                  permissionName: try permission.requiredString("permission_name"))
        }
    }

    static func decode(_ row: any SQLRow) throws -> Role {
        Role(id: try row.string("id"), name: try row.string("name"), description: try row.string("description"))
    }

    static func decodePermission(_ row: any SQLRow) throws -> RolePermission {
        RolePermission(resourceServerIdentifier: try row.string("resource_server_identifier"),
                       permissionName: try row.string("permission_name"))
    }
}
