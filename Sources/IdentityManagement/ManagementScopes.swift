/// The Management API's scopes, named exactly as Auth0 names them.
public enum ManagementScope: String, Sendable, CaseIterable {
    case readUsers = "read:users"
    case createUsers = "create:users"
    case updateUsers = "update:users"
    case deleteUsers = "delete:users"
    case readUsersAppMetadata = "read:users_app_metadata"
    case updateUsersAppMetadata = "update:users_app_metadata"
    case createUsersAppMetadata = "create:users_app_metadata"
    case deleteUsersAppMetadata = "delete:users_app_metadata"
    case readClients = "read:clients"
    case createClients = "create:clients"
    case updateClients = "update:clients"
    case deleteClients = "delete:clients"
    case readClientKeys = "read:client_keys"
    case updateClientKeys = "update:client_keys"
    case readResourceServers = "read:resource_servers"
    case createResourceServers = "create:resource_servers"
    case updateResourceServers = "update:resource_servers"
    case deleteResourceServers = "delete:resource_servers"
    case readClientGrants = "read:client_grants"
    case createClientGrants = "create:client_grants"
    case updateClientGrants = "update:client_grants"
    case deleteClientGrants = "delete:client_grants"
    case readRoles = "read:roles"
    case createRoles = "create:roles"
    case updateRoles = "update:roles"
    case deleteRoles = "delete:roles"
    case readRoleMembers = "read:role_members"
    case createRoleMembers = "create:role_members"
    case deleteRoleMembers = "delete:role_members"
    case readSigningKeys = "read:signing_keys"
    case createSigningKeys = "create:signing_keys"
    case updateSigningKeys = "update:signing_keys"
    case readActions = "read:actions"
    case createActions = "create:actions"
    case updateActions = "update:actions"
    case deleteActions = "delete:actions"
    case readAuthenticationMethods = "read:authentication_methods"
    case deleteAuthenticationMethods = "delete:authentication_methods"
    case deleteSessions = "delete:sessions"
    case readStats = "read:stats"
}

public enum ManagementScopes {
    /// Every scope, as the bootstrap application is granted them.
    public static let all: [String] = ManagementScope.allCases.map(\.rawValue)

    /// The Management API audience for an issuer such as `http://127.0.0.1:8080/`.
    public static func audience(issuer: String) -> String { issuer + "api/v2/" }
}
