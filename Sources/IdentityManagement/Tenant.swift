import TesseraCore
import TesseraStore
import TesseraTokens

/// Everything the tenant holds, over one store. Each part is a small repository with one job.
public struct Tenant: Sendable {
    public let issuer: String
    public let clients: Clients
    public let resourceServers: ResourceServers
    public let clientGrants: ClientGrants
    public let users: Users
    public let roles: Roles
    public let userExports: UserExports
    public let authenticationMethods: AuthenticationMethods
    public let keyRing: KeyRing
    public let stats: Stats

    public init(issuer: String, store: Store, keyRing: KeyRing, clock: TesseraClock = .system,
                hasher: PasswordHasher = PasswordHasher(), sealer: SecretSealer = .plain) {
        self.issuer = issuer
        clients = Clients(store: store, clock: clock)
        resourceServers = ResourceServers(store: store, clock: clock)
        clientGrants = ClientGrants(store: store, clock: clock)
        users = Users(store: store, clock: clock, hasher: hasher)
        roles = Roles(store: store)
        userExports = UserExports(store: store, clock: clock, users: users)
        authenticationMethods = AuthenticationMethods(store: store, clock: clock, sealer: sealer)
        self.keyRing = keyRing
        stats = Stats(store: store, clock: clock)
    }

    public var managementAudience: String { ManagementScopes.audience(issuer: issuer) }

    /// The Management API as a resource server, created once per tenant, like Auth0's system API.
    public func ensureManagementAPI() async throws {
        if let existing = try await resourceServers.find(managementAudience) {
            // Newer versions add scopes (such as the Actions ones): keep the system API's list current.
            let missing = ManagementScopes.all.filter { scope in !existing.scopes.contains { $0.value == scope } }
            if !missing.isEmpty {
                try await resourceServers.replaceSystemScopes(existing.id, ManagementScopes.all)
            }
            return
        }
        do {
            _ = try await resourceServers.create(.object([
            "name": .string("Tessera Management API"),
            "identifier": .string(managementAudience),
            "token_lifetime": .number(86_400),
            "scopes": .array(ManagementScopes.all.map { .object(["value": .string($0), "description": .string($0)]) }),
            ]), isSystem: true)
        } catch let error as DomainError where error.kind == .conflict {
            // Another instance sharing the database created it first.
        }
    }
}
