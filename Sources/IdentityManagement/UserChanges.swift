import TesseraCore

/// A change to one optional profile field: left alone, set, or cleared.
public enum FieldChange<Value: Sendable & Equatable>: Sendable, Equatable {
    case unchanged
    case set(Value)
    case cleared

    func applied(to current: Value?) -> Value? {
        switch self {
        case .unchanged: current
        case .set(let value): value
        case .cleared: nil
        }
    }
}

/// A change to `app_metadata` or `user_metadata`: Auth0 merges one level deep (a `null` value removes its key), and a
/// `null` for the whole object empties it.
public enum MetadataChange: Sendable, Equatable {
    case unchanged
    case merge([String: JSONValue])
    case cleared

    func applied(to current: [String: JSONValue]) -> [String: JSONValue] {
        switch self {
        case .unchanged: current
        case .merge(let patch): Users.merge(current, patch)
        case .cleared: [:]
        }
    }
}

/// The profile fields a new user or a patch may set.
public struct ProfileChanges: Sendable, Equatable {
    public var username: FieldChange<String> = .unchanged
    public var name: FieldChange<String> = .unchanged
    public var givenName: FieldChange<String> = .unchanged
    public var familyName: FieldChange<String> = .unchanged
    public var nickname: FieldChange<String> = .unchanged
    public var picture: FieldChange<String> = .unchanged
    public var emailVerified: Bool?
    public var blocked: Bool?

    public init() {}

    func apply(to user: inout User) throws {
        user.username = username.applied(to: user.username)
        user.name = name.applied(to: user.name)
        user.givenName = givenName.applied(to: user.givenName)
        user.familyName = familyName.applied(to: user.familyName)
        user.nickname = nickname.applied(to: user.nickname)
        user.picture = picture.applied(to: user.picture)
        if let picture = user.picture { _ = try Validate.urls([picture], property: "picture") }
        user.emailVerified = emailVerified ?? user.emailVerified
        user.blocked = blocked ?? user.blocked
    }
}

/// A new user of the database connection, as `Users.create` takes it. Shapes on the wire (Auth0's JSON, the tenant
/// file, the sign-up form) are decoded into this at their edge.
public struct NewUser: Sendable, Equatable {
    public var email: String
    public var password: String
    /// The id's local part (`auth0|<this>`); random when nil.
    public var localID: String?
    public var profile = ProfileChanges()
    public var appMetadata: [String: JSONValue] = [:]
    public var userMetadata: [String: JSONValue] = [:]

    public init(email: String, password: String) {
        self.email = email
        self.password = password
    }
}

/// Auth0's PATCH of a user, as `Users.update` takes it.
public struct UserPatch: Sendable, Equatable {
    public var email: String?
    public var password: String?
    public var profile = ProfileChanges()
    public var appMetadata = MetadataChange.unchanged
    public var userMetadata = MetadataChange.unchanged

    public init() {}

    public var isEmpty: Bool { self == UserPatch() }
}
