import Foundation
import GraphQLEngine
import Logging
import TesseraHTTP

/// How `tessera serve` runs: where it listens, where it keeps data, which store it uses.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var dataDirectory: String
    /// A `postgres://` URL; `nil` for the embedded SQLite store in `dataDirectory`.
    public var databaseURL: String?
    /// The issuer URL tokens carry, with a trailing slash as Auth0 writes it. Defaults to `http://host:port/`.
    public var issuer: String
    /// `TESSERA_MASTER_KEY`: seals private keys in the store instead of writing them to files.
    public var masterKeyPassphrase: String?
    public var logLevel: Logger.Level
    /// bcrypt cost for user passwords (Auth0 uses 10).
    public var bcryptCost: UInt8
    /// `--trusted-proxies`: peers whose forwarding headers name the client.
    public var trustedProxies: TrustedProxies
    /// The GraphQL engine, when it is switched on (a `graphql` section, `HASURA_GRAPHQL_ADMIN_SECRET`, or `--dev`).
    public var graphql: GraphQLConfiguration?

    public init(host: String = "127.0.0.1", port: Int = 8080, dataDirectory: String = ".tessera",
                databaseURL: String? = nil, issuer: String? = nil, masterKeyPassphrase: String? = nil,
                logLevel: Logger.Level = .info, bcryptCost: UInt8 = 10, trustedProxies: TrustedProxies = .none,
                graphql: GraphQLConfiguration? = nil) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.databaseURL = databaseURL
        var issuer = issuer ?? "http://\(host):\(port)/"
        if !issuer.hasSuffix("/") { issuer += "/" }
        self.issuer = issuer
        self.masterKeyPassphrase = masterKeyPassphrase
        self.logLevel = logLevel
        self.bcryptCost = bcryptCost
        self.trustedProxies = trustedProxies
        self.graphql = graphql
    }
}
