import Foundation
import Actions
import Directory
import IdentityManagement
import TesseraCore

/// What an apply did, line by line; new client secrets are shown here and nowhere else.
public struct ApplyReport: Sendable {
    public var changes: [String] = []
    public var unchanged = 0
    public var secrets: [(application: String, clientID: String, secret: String)] = []

    public var changed: Bool { !changes.isEmpty }

    public func summary(file: String) -> String {
        var lines = changes.isEmpty ? ["\(file): no changes (\(unchanged) items already as described)"]
            : ["\(file): \(changes.count) change(s), \(unchanged) unchanged"] + changes.map { "  " + $0 }
        for secret in secrets {
            if secret.application.hasPrefix("workspace ") {
                lines.append("  new \(secret.application) (workspace id \(secret.clientID)), shown once: \(secret.secret)")
            } else {
                lines.append("  new client secret for \(secret.application) (client_id \(secret.clientID)), shown once: \(secret.secret)")
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension TenantFile {
    public func apply(to services: TenantServices) async throws -> ApplyReport {
        let tenant = services.tenant
        try await checkReferences(tenant)
        let runner = actions.isEmpty ? nil : try ActionRunner()
        if let runner {
            for action in actions {
                do {
                    try runner.checkSyntax(action.code)
                    try runner.checkRequires(action.code)
                } catch let error as ActionError {
                    throw DomainError.invalidBody("action \(action.name): \(error)")
                }
            }
        }
        let known = Set(actions.map(\.name))
        for (trigger, names) in flows {
            if let unknown = names.first(where: { !known.contains($0) }) {
                throw DomainError.invalidBody("flows.\(trigger): action \(unknown) is not defined in the file")
            }
        }
        var report = ApplyReport()
        for api in apis { try await applyAPI(api, tenant, &report) }
        for application in applications { try await applyApplication(application, tenant, &report) }
        for role in roles { try await applyRole(role, tenant, &report) }
        for user in users { try await applyUser(user, tenant, &report) }
        for var connection in directoryConnections {
            if connection.clientId.hasPrefix("application:") {
                let name = String(connection.clientId.dropFirst("application:".count))
                guard let client = try await tenant.clients.list().first(where: { $0.name == name }) else {
                    throw DomainError.invalidBody("directory connection \(connection.id): no application is named \(name)")
                }
                connection.clientId = client.clientID
            }
            if try await services.directory.connections.save(connection) {
                report.changes.append("saved directory connection \(connection.id) (\(connection.domain))")
            } else {
                report.unchanged += 1
            }
        }
        for webhook in directoryWebhooks {
            if try await services.directory.webhooks.save(webhook) {
                report.changes.append("saved directory webhook \(webhook.id) (\(webhook.url))")
            } else {
                report.unchanged += 1
            }
        }
        for spec in directoryKeys {
            let (record, changed) = try await services.directory.keys.register(spec.key, description: spec.description,
                                                                               integration: spec.integration, expires: nil)
            if changed {
                report.changes.append("registered directory API key \(record.id) (\(spec.description.isEmpty ? "no description" : spec.description))")
            } else {
                report.unchanged += 1
            }
        }
        let store = services.actions
        if let outbound, try await store.setOutboundPolicy(outbound) {
            report.changes.append("set the Actions outbound allow list: \(outbound.allow.isEmpty ? "(public addresses only)" : outbound.allow.joined(separator: ", "))")
        } else if outbound != nil {
            report.unchanged += 1
        }
        for action in actions {
            switch try await store.deploy(name: action.name, trigger: action.trigger, code: action.code, secrets: action.secrets,
                                          configuration: action.configuration, runner: runner!) {
            case .created: report.changes.append("deployed action \(action.name)")
            case .updated: report.changes.append("deployed a new version of action \(action.name)")
            case .unchanged: report.unchanged += 1
            }
        }
        for (trigger, names) in flows.sorted(by: { $0.key < $1.key }) {
            if try await store.bind(trigger: trigger, names: names) {
                report.changes.append("bound \(trigger) flow: \(names.joined(separator: " → "))")
            } else {
                report.unchanged += 1
            }
        }
        try await applyWorkspaces(services, &report)
        return report
    }

    func audience(_ name: String, _ tenant: Tenant) -> String {
        name == Self.managementAlias ? tenant.managementAudience : name
    }

    /// Every audience, scope and role the file names must exist, in the file or in the tenant,
    /// before the first write: a bad file changes nothing.
    private func checkReferences(_ tenant: Tenant) async throws {
        var scopesByAudience: [String: Set<String>] = [:]
        for server in try await tenant.resourceServers.list() {
            scopesByAudience[server.identifier] = Set(server.scopes.map(\.value))
        }
        for api in apis {
            let scopes = api.body["scopes"].flatMap { value -> [String]? in
                guard case .array(let items) = value else { return nil }
                return items.compactMap { $0.objectValue?["value"]?.stringValue }
            }
            scopesByAudience[api.identifier] = Set(scopes ?? [])
        }
        func check(_ audience: String, _ scopes: [String], _ owner: String) throws {
            guard let known = scopesByAudience[audience] else {
                throw DomainError.invalidBody("\(owner): API \(audience) is not defined in the file or the tenant")
            }
            if let unknown = scopes.first(where: { !known.contains($0) }) {
                throw DomainError.invalidBody("\(owner): scope \(unknown) is not defined by API \(audience)")
            }
        }
        for application in applications {
            for grant in application.grants {
                try check(audience(grant.audience, tenant), grant.scopes, "application \(application.name)")
            }
        }
        for role in roles {
            for permission in role.permissions {
                try check(audience(permission.resourceServerIdentifier, tenant), [permission.permissionName], "role \(role.name)")
            }
        }
        let roleNames = Set(try await tenant.roles.list().map(\.name)).union(roles.map(\.name))
        for user in users {
            if let unknown = user.roles.first(where: { !roleNames.contains($0) }) {
                throw DomainError.invalidBody("user \(user.email): role \(unknown) is not defined in the file or the tenant")
            }
        }
    }

    private func applyAPI(_ api: API, _ tenant: Tenant, _ report: inout ApplyReport) async throws {
        guard let existing = try await tenant.resourceServers.find(api.identifier) else {
            _ = try await tenant.resourceServers.create(.object(api.body))
            report.changes.append("created API \(api.identifier)")
            return
        }
        var patch = api.body
        patch.removeValue(forKey: "identifier")
        let current = try JSONValue.parse(String(decoding: try JSONCoding.encoder.encode(existing), as: UTF8.self))
        if patch.allSatisfy({ current.objectValue?[$0.key] == $0.value }) {
            report.unchanged += 1
        } else {
            _ = try await tenant.resourceServers.update(existing.id, .object(patch))
            report.changes.append("updated API \(api.identifier)")
        }
    }

    private func applyApplication(_ application: Application, _ tenant: Tenant, _ report: inout ApplyReport) async throws {
        let existing = try await tenant.clients.list().first { $0.name == application.name }
        let client: Client
        if let existing {
            let current = try JSONValue.parse(String(decoding: try JSONCoding.encoder.encode(existing), as: UTF8.self))
            if application.body.allSatisfy({ current.objectValue?[$0.key] == $0.value }) {
                report.unchanged += 1
                client = existing
            } else {
                client = try await tenant.clients.update(existing.clientID, .object(application.body))
                report.changes.append("updated application \(application.name)")
            }
        } else {
            client = try await tenant.clients.create(.object(application.body))
            report.changes.append("created application \(application.name) (client_id \(client.clientID))")
            if let secret = client.clientSecret, application.clientSecret == nil {
                report.secrets.append((application.name, client.clientID, secret))
            }
        }
        if let secret = application.clientSecret {
            if try await tenant.clients.authenticate(clientID: client.clientID, secret: secret) == nil {
                try await tenant.clients.setSecret(client.clientID, to: secret)
                report.changes.append("set the client secret of \(application.name) from the file")
            } else {
                report.unchanged += 1
            }
        }
        for grant in application.grants {
            let audience = audience(grant.audience, tenant)
            if let found = try await tenant.clientGrants.find(clientID: client.clientID, audience: audience) {
                if Set(found.scope) == Set(grant.scopes) {
                    report.unchanged += 1
                } else {
                    _ = try await tenant.clientGrants.update(found.id, .object(["scope": .array(grant.scopes.map(JSONValue.string))]))
                    report.changes.append("updated grant of \(application.name) for \(audience)")
                }
            } else {
                _ = try await tenant.clientGrants.create(.object([
                    "client_id": .string(client.clientID), "audience": .string(audience),
                    "scope": .array(grant.scopes.map(JSONValue.string)),
                ]))
                report.changes.append("granted \(application.name) access to \(audience)")
            }
        }
    }

    private func applyRole(_ spec: RoleSpec, _ tenant: Tenant, _ report: inout ApplyReport) async throws {
        let role: Role
        if let existing = try await tenant.roles.list(nameFilter: spec.name).first {
            if existing.description == spec.description {
                report.unchanged += 1
                role = existing
            } else {
                role = try await tenant.roles.update(existing.id, .object(["description": .string(spec.description)]))
                report.changes.append("updated role \(spec.name)")
            }
        } else {
            role = try await tenant.roles.create(.object(["name": .string(spec.name), "description": .string(spec.description)]))
            report.changes.append("created role \(spec.name)")
        }
        let wanted = Set(spec.permissions.map {
            RolePermission(resourceServerIdentifier: audience($0.resourceServerIdentifier, tenant), permissionName: $0.permissionName)
        })
        let held = Set(try await tenant.roles.permissions(of: role.id))
        let toAdd = wanted.subtracting(held), toRemove = held.subtracting(wanted)
        if !toAdd.isEmpty {
            try await tenant.roles.addPermissions(role.id, Self.permissionsBody(toAdd))
            report.changes.append("added \(toAdd.count) permission(s) to role \(spec.name)")
        }
        if !toRemove.isEmpty {
            try await tenant.roles.removePermissions(role.id, Self.permissionsBody(toRemove))
            report.changes.append("removed \(toRemove.count) permission(s) from role \(spec.name)")
        }
    }

    static func permissionsBody(_ permissions: Set<RolePermission>) -> JSONValue {
        .object(["permissions": .array(permissions.sorted { $0.permissionName < $1.permissionName }.map {
            .object(["resource_server_identifier": .string($0.resourceServerIdentifier),
                     "permission_name": .string($0.permissionName)])
        })])
    }

    private func applyUser(_ spec: UserSpec, _ tenant: Tenant, _ report: inout ApplyReport) async throws {
        let user: User
        if let existing = try await tenant.users.byEmail(spec.email).first(where: { $0.connection == User.databaseConnection }) {
            // The password is set when the user is created and never overwritten by a later apply.
            var patch = spec.body
            patch.removeValue(forKey: "password")
            let profile = existing.profile
            let differs = patch.contains { key, value in
                switch key {
                case "connection": return false
                case "app_metadata", "user_metadata":
                    let stored = profile[key]?.objectValue ?? [:]
                    return (value.objectValue ?? [:]).contains { stored[$0.key] != $0.value }
                default: return profile[key] != value
                }
            }
            if differs {
                user = try await tenant.users.update(existing.userID, try UserPatch(auth0JSON: .object(patch)))
                report.changes.append("updated user \(spec.email)")
            } else {
                user = existing
                report.unchanged += 1
            }
        } else {
            user = try await tenant.users.create(try NewUser(auth0JSON: .object(spec.body)))
            report.changes.append("created user \(spec.email)")
        }
        guard !spec.roles.isEmpty else { return }
        let held = Set(try await tenant.roles.roles(ofUser: user.userID).map(\.name))
        let all = try await tenant.roles.list()
        let missing = all.filter { spec.roles.contains($0.name) && !held.contains($0.name) }
        if !missing.isEmpty {
            try await tenant.roles.assign(roleIDs: missing.map(\.id), toUser: user.userID)
            report.changes.append("assigned \(missing.map(\.name).joined(separator: ", ")) to \(spec.email)")
        }
    }
}
