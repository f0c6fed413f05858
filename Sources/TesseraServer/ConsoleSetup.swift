import Analytics
import Console
import Directory
import Foundation
import IdentityManagement
import TesseraCore

/// What the console needs from a tenant at first start: its own application (a public client signing in with PKCE) and
/// the `tessera:admin` role, holding every Management API permission, that people need to open it.
public enum ConsoleSetup {
    /// Creates what is missing and says whether the role was new (the first start prints how to grant it). Later starts
    /// keep the application's URLs on the current issuer and give the role any Management API scope a newer Tessera added.
    @discardableResult
    public static func ensure(_ services: TesseraServices) async throws -> Bool {
        let tenant = services.tenant
        let issuer = ConsoleSettings(issuer: services.configuration.issuer, managementAudience: "", scopes: []).issuer
        let urls: [String: JSONValue] = [
            "callbacks": .array([.string(issuer + "console/callback")]),
            "allowed_logout_urls": .array([.string(issuer + "console/")]),
        ]
        if let client = try await tenant.clients.list().first(where: { $0.name == ConsoleSettings.applicationName }) {
            _ = try await tenant.clients.update(client.clientID, .object(urls))
        } else {
            var body = urls
            body["name"] = .string(ConsoleSettings.applicationName)
            body["app_type"] = .string("spa")
            body["token_endpoint_auth_method"] = .string("none")
            body["grant_types"] = .array([.string("authorization_code")])
            body["description"] = .string("Tessera's web console at /console/. Signs in people holding the \(ConsoleSettings.adminRole) role.")
            do { _ = try await tenant.clients.create(.object(body)) } catch let error as DomainError where error.kind == .conflict {}
        }
        let permissions: ([String]) -> JSONValue = { scopes in
            .object(["permissions": .array(scopes.map {
                .object(["resource_server_identifier": .string(tenant.managementAudience), "permission_name": .string($0)])
            })])
        }
        if let role = try await tenant.roles.list(nameFilter: ConsoleSettings.adminRole).first(where: { $0.name == ConsoleSettings.adminRole }) {
            let held = Set(try await tenant.roles.permissions(of: role.id).map(\.permissionName))
            let missing = ManagementScopes.all.filter { !held.contains($0) }
            if !missing.isEmpty { try await tenant.roles.addPermissions(role.id, permissions(missing)) }
            return false
        }
        do {
            let role = try await tenant.roles.create(.object([
                "name": .string(ConsoleSettings.adminRole),
                "description": .string("Opens Tessera's web console, with every Management API permission"),
            ]))
            try await tenant.roles.addPermissions(role.id, permissions(ManagementScopes.all))
            return true
        } catch let error as DomainError where error.kind == .conflict {
            return false  // another instance on the same database made it first
        }
    }

    /// `TESSERA_CODEMIRROR_DIR` points the console's editors at another copy of CodeMirror 5 than Debian's.
    public static func settings(_ services: TesseraServices,
                                environment: [String: String] = ProcessInfo.processInfo.environment) -> ConsoleSettings {
        var settings = ConsoleSettings(issuer: services.configuration.issuer, managementAudience: services.tenant.managementAudience,
                                       scopes: ManagementScopes.all)
        if let directory = environment["TESSERA_CODEMIRROR_DIR"], !directory.isEmpty { settings.codeMirrorDirectory = directory }
        return settings
    }
}

/// The console's view of this server: its application, the analytics workspaces' admin tokens, a short-lived directory
/// key and the GraphQL admin secret. Nothing here reaches a browser.
struct ServerConsoleBackend: ConsoleBackend {
    let services: TesseraServices
    let directoryKeys: DirectoryKeyLease

    init(services: TesseraServices) {
        self.services = services
        self.directoryKeys = DirectoryKeyLease(keys: services.directory.keys, clock: services.clock)
    }

    func consoleClientID() async throws -> String? {
        try await services.tenant.clients.list().first { $0.name == ConsoleSettings.applicationName }?.clientID
    }

    func analyticsWorkspaces() async throws -> [ConsoleWorkspace] {
        try await services.analytics.catalog.workspaces().map { ConsoleWorkspace(id: $0.id, name: $0.name, adminToken: $0.adminToken) }
    }

    func directoryKey() async throws -> String? { try await directoryKeys.current() }

    func forgetDirectoryKey() async { await directoryKeys.forget() }

    var graphQL: ConsoleGraphQL? {
        services.graphql == nil ? nil : ConsoleGraphQL(adminSecret: services.configuration.graphql?.adminSecret)
    }
}

/// A directory API key for the console, valid one hour and replaced ten minutes before it ends, so no long-lived key
/// exists for it. Each instance holds its own.
actor DirectoryKeyLease {
    static let lifetime: TimeInterval = 3600
    let keys: APIKeys
    let clock: TesseraClock
    struct Lease: Sendable { let value: String; let id: String; let expires: Date }
    private var key: Lease?
    /// The one renewal under way: callers arriving meanwhile wait for it rather than making keys of their own.
    private var renewing: Task<Lease, any Error>?
    /// The key before the current one; it has expired by the time the next renewal deletes it.
    private var retired: String?

    init(keys: APIKeys, clock: TesseraClock) {
        self.keys = keys
        self.clock = clock
    }

    func current() async throws -> String {
        let now = clock.now()
        if let key, key.expires.timeIntervalSince(now) > 600 { return key.value }
        if let renewing { return try await renewing.value.value }
        let expires = now.addingTimeInterval(Self.lifetime)
        let task = Task { [keys] in
            let created = try await keys.create(description: "Tessera Console (expires after an hour)", integration: nil, expires: expires)
            return Lease(value: created.key, id: created.record.id, expires: expires)
        }
        renewing = task
        defer { renewing = nil }
        let lease = try await task.value
        // Requests may still hold the key being replaced, so it stays until it expires; the one before it goes now.
        if let retired { try? await keys.delete(id: retired) }
        retired = key?.id
        key = lease
        return lease.value
    }

    func forget() { key = nil }
}
