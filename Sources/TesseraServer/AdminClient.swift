import Foundation
import IdentityManagement
import Logging
import TesseraCore

/// The first application of a new tenant: a machine-to-machine client with every Management API scope,
/// so a newcomer can call the Management API at once. Its secret is written once, 0600, to the data folder.
public enum AdminClient {
    public static let name = "Tessera Admin (bootstrap)"
    public static let credentialsFile = "admin-client.json"

    /// Creates the client when the tenant has no applications yet; returns the credentials only then.
    /// On later starts, grants the bootstrap client any Management API scope a newer Tessera added (the
    /// Actions scopes, for instance), so upgrading does not lock the admin out of new endpoints.
    public static func ensure(_ services: TesseraServices) async throws -> (clientID: String, secret: String, path: String)? {
        let tenant = services.tenant
        let clients = try await tenant.clients.list()
        guard clients.isEmpty else {
            for client in clients where client.name == name {
                guard let grant = try await tenant.clientGrants.find(clientID: client.clientID, audience: tenant.managementAudience)
                else { continue }
                let missing = ManagementScopes.all.filter { !grant.scope.contains($0) }
                if !missing.isEmpty {
                    _ = try await tenant.clientGrants.update(grant.id, .object(["scope": .array((grant.scope + missing).map(JSONValue.string))]))
                }
            }
            return nil
        }
        let client: Client
        do {
            client = try await tenant.clients.create(.object([
                "name": .string(name), "app_type": .string("non_interactive"),
                "description": .string("Created on first start. Rotate its secret or delete it once you have your own."),
            ]))
        } catch let error as DomainError where error.kind == .conflict {
            return nil  // another instance sharing the database made it first and printed its secret
        }
        _ = try await tenant.clientGrants.create(.object([
            "client_id": .string(client.clientID),
            "audience": .string(tenant.managementAudience),
            "scope": .array(ManagementScopes.all.map(JSONValue.string)),
        ]))
        guard let secret = client.clientSecret else { return nil }
        let path = services.configuration.dataDirectory + "/" + credentialsFile
        let document = JSONValue.object([
            "client_id": .string(client.clientID), "client_secret": .string(secret),
            "audience": .string(tenant.managementAudience), "token_url": .string(tenant.issuer + "oauth/token"),
        ])
        _ = FileManager.default.createFile(atPath: path, contents: Data(document.jsonText().utf8),
                                       attributes: [.posixPermissions: 0o600])
        return (client.clientID, secret, path)
    }
}
