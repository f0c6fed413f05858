import TesseraCore

/// Auth0's post-login `event`: a sample for tests, and the merge rules for edited test payloads.
public enum ActionEvent {
    public static let samplePostLogin: JSONValue = .object([
        "user": .object([
            "user_id": .string("auth0|5f7c8ec7c33c6c004bbafe82"), "id": .string("auth0|5f7c8ec7c33c6c004bbafe82"),
            "email": .string("j+smith@example.com"), "email_verified": .bool(true), "name": .string("j+smith@example.com"),
            "nickname": .string("j+smith"), "created_at": .string("2024-01-01T00:00:00.000Z"),
            "updated_at": .string("2024-01-01T00:00:00.000Z"), "app_metadata": .object([:]), "user_metadata": .object([:]),
            "identities": .array([]),
        ]),
        "authorization": .object(["roles": .array([])]),
        "client": .object(["client_id": .string("client-id"), "name": .string("All Applications"), "metadata": .object([:])]),
        "connection": .object(["id": .string("con_tessera_database"), "name": .string("Username-Password-Authentication"),
                               "strategy": .string("auth0"), "metadata": .object([:])]),
        "request": .object(["ip": .string("127.0.0.1"), "method": .string("GET"), "hostname": .string("localhost"),
                            "language": .string("en"), "query": .object([:]), "body": .object([:])]),
        "transaction": .object(["requested_scopes": .array([.string("openid")]), "protocol": .string("oidc-basic-profile"),
                                "locale": .string("en")]),
        "tenant": .object(["id": .string("tessera")]),
        "stats": .object(["logins_count": .number(1)]),
    ])

    /// The sample (or any event) with the test payload's fields laid over it, then the action's own secrets
    /// and configuration.
    public static func merged(_ base: JSONValue, with payload: [String: JSONValue],
                              secrets: [String: JSONValue], configuration: [String: JSONValue]) -> JSONValue {
        var event = base.objectValue ?? [:]
        for (key, value) in payload where key != "secrets" && key != "configuration" { event[key] = value }
        if var user = event["user"]?.objectValue, user["id"] == nil, let userID = user["user_id"] {
            user["id"] = userID
            event["user"] = .object(user)
        }
        event["secrets"] = .object(secrets)
        event["configuration"] = .object(configuration)
        return .object(event)
    }
}
