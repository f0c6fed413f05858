import TesseraCore

/// Auth0's JSON for `POST /api/v2/users` and `PATCH /api/v2/users/{id}`, decoded with Auth0's own error messages: the
/// fields it knows, their JSON types and lengths. The rules on the values themselves (email syntax, password policy,
/// the connection) are the domain's, in ``Users``.
extension NewUser {
    static let fields: Set<String> = UserPatch.fields.union(["user_id"])

    public init(auth0JSON body: JSONValue) throws {
        let payload = try Payload(body, allowed: Self.fields)
        guard try payload.requiredString("connection") == User.databaseConnection else {
            throw DomainError.invalidBody("The connection does not exist.")
        }
        guard let email = try payload.string("email", maxLength: 320) else {
            throw DomainError.invalidBody("Payload validation error: 'Missing required property: email'.")
        }
        self.init(email: email, password: try payload.requiredString("password", maxLength: 256))
        localID = try payload.string("user_id", maxLength: 200)
        profile = try ProfileChanges(payload)
        appMetadata = try payload.object("app_metadata") ?? [:]
        userMetadata = try payload.object("user_metadata") ?? [:]
    }
}

extension UserPatch {
    static let fields: Set<String> = [
        "email", "email_verified", "username", "name", "given_name", "family_name", "nickname", "picture",
        "blocked", "app_metadata", "user_metadata", "password", "connection", "verify_email", "phone_number",
    ]

    public init(auth0JSON body: JSONValue) throws {
        let payload = try Payload(body, allowed: Self.fields)
        if let connection = try payload.string("connection"), connection != User.databaseConnection {
            throw DomainError.invalidBody("The connection does not exist.")
        }
        self.init()
        email = try payload.string("email", maxLength: 320)
        password = try payload.string("password", maxLength: 256)
        profile = try ProfileChanges(payload)
        appMetadata = try Self.metadata(payload, "app_metadata")
        userMetadata = try Self.metadata(payload, "user_metadata")
    }

    static func metadata(_ payload: Payload, _ key: String) throws -> MetadataChange {
        if payload.isNull(key) { return .cleared }
        return try payload.object(key).map(MetadataChange.merge) ?? .unchanged
    }
}

extension ProfileChanges {
    init(_ payload: Payload) throws {
        self.init()
        func change(_ key: String, maxLength: Int = 300) throws -> FieldChange<String> {
            guard payload.has(key) else { return .unchanged }
            return try payload.string(key, maxLength: maxLength).map(FieldChange.set) ?? .cleared
        }
        username = try change("username", maxLength: 128)
        name = try change("name")
        givenName = try change("given_name")
        familyName = try change("family_name")
        nickname = try change("nickname")
        picture = try change("picture", maxLength: 2048)
        emailVerified = try payload.bool("email_verified")
        blocked = try payload.bool("blocked")
        // Accepted as Auth0 accepts them, and checked for their type, though Tessera sends no mail and no SMS.
        _ = try payload.bool("verify_email")
        _ = try payload.string("phone_number", maxLength: 32)
    }
}
