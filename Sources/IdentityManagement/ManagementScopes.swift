/// The Management API's scopes, named exactly as Auth0 names them.
public enum ManagementScopes {
    public static let all: [String] = [
        "read:users", "create:users", "update:users", "delete:users",
        "read:users_app_metadata", "update:users_app_metadata", "create:users_app_metadata", "delete:users_app_metadata",
        "read:clients", "create:clients", "update:clients", "delete:clients", "read:client_keys", "update:client_keys",
        "read:resource_servers", "create:resource_servers", "update:resource_servers", "delete:resource_servers",
        "read:client_grants", "create:client_grants", "update:client_grants", "delete:client_grants",
        "read:roles", "create:roles", "update:roles", "delete:roles", "read:role_members", "create:role_members",
        "delete:role_members",
        "read:signing_keys", "create:signing_keys", "update:signing_keys",
        "read:actions", "create:actions", "update:actions", "delete:actions",
    ]

    /// The Management API audience for an issuer such as `http://127.0.0.1:8080/`.
    public static func audience(issuer: String) -> String { issuer + "api/v2/" }
}
