import TesseraCore

/// What the composition root tells the console: which application it signs in through, and the service credentials
/// the analytics, GraphQL and directory APIs take (they know nothing of Tessera's users). The console hands those to
/// the APIs only on behalf of a person the Management API has just confirmed holds the admin role, and never puts
/// them in a page.
public protocol ConsoleBackend: Sendable {
    /// The `Tessera Console` application's client id, nil if someone deleted it.
    func consoleClientID() async throws -> String?
    /// The analytics workspaces with their admin tokens.
    func analyticsWorkspaces() async throws -> [ConsoleWorkspace]
    /// An API key for the directory's `/admin/v1`, nil when the directory is not served.
    func directoryKey() async throws -> String?
    /// The directory refused the key (deleted or expired elsewhere): make a new one next time.
    func forgetDirectoryKey() async
    /// How to reach `/v1/metadata` and `/v1/graphql` as admin; nil when no GraphQL engine is configured.
    var graphQL: ConsoleGraphQL? { get }
}

public struct ConsoleWorkspace: Sendable {
    public let id: String
    public let name: String
    public let adminToken: String

    public init(id: String, name: String, adminToken: String) {
        self.id = id
        self.name = name
        self.adminToken = adminToken
    }
}

public struct ConsoleGraphQL: Sendable {
    /// `x-hasura-admin-secret`, nil in development mode (every request is admin).
    public let adminSecret: String?

    public init(adminSecret: String?) { self.adminSecret = adminSecret }

    var headers: [(String, String)] { adminSecret.map { [("x-hasura-admin-secret", $0)] } ?? [] }
}

/// The settings fixed at start.
public struct ConsoleSettings: Sendable {
    public static let applicationName = "Tessera Console"
    public static let adminRole = "tessera:admin"
    /// `https://tenant/` or `http://127.0.0.1:8080/`: where the browser reaches this server.
    public let issuer: String
    public let managementAudience: String
    /// The Management API scopes the console asks for; the token carries those the person's roles grant.
    public let scopes: [String]

    /// Where Debian's `libjs-codemirror` keeps CodeMirror 5; the editors stay text areas when it is not there.
    public var codeMirrorDirectory: String

    public init(issuer: String, managementAudience: String, scopes: [String],
                codeMirrorDirectory: String = "/usr/share/javascript/codemirror") {
        self.issuer = issuer.hasSuffix("/") ? issuer : issuer + "/"
        self.managementAudience = managementAudience
        self.scopes = scopes
        self.codeMirrorDirectory = codeMirrorDirectory
    }

    var redirectURI: String { issuer + "console/callback" }
    var secureCookies: Bool { issuer.hasPrefix("https://") }
}
