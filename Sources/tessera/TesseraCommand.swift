import Actions
import Analytics
import ArgumentParser
import Console
import Foundation
import GraphQLEngine
import IdentityManagement
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import TenantFile
import TesseraCore
import TesseraHTTP
import TesseraServer
import TesseraTokens

@main
struct TesseraCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera",
        abstract: "Identity, analytics and GraphQL with JWTs, self-hosted in one binary.",
        subcommands: [Serve.self, Apply.self, Keys.self, ConsoleCommand.self, Login.self, ActionsCommand.self, TokenCommand.self, AnalyticsCommand.self, GraphQLCommand.self, DirectoryCommand.self, Speed.self]
    )

    static func main() async {
        // Files Tessera creates (the SQLite store, its WAL, key files) are readable by their owner only.
        umask(0o077)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// Options every command that opens the store shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Folder for the embedded store and key files.")
    var dataDir = ".tessera"

    @Option(name: .long, help: "A postgres:// URL to use PostgreSQL instead of the embedded SQLite store.")
    var database: String?

    @Option(name: .long, help: "Issuer URL tokens carry (default http://HOST:PORT/).")
    var issuer: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func configuration(host: String = "127.0.0.1", port: Int = 8080) throws -> ServerConfiguration {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error")
        }
        let environment = ProcessInfo.processInfo.environment
        // Auth0's cost (10) unless told otherwise; tests that create thousands of users lower it.
        var bcryptCost: UInt8 = 10
        if let text = environment["TESSERA_BCRYPT_COST"], !text.isEmpty {
            guard let cost = UInt8(text), (4...31).contains(cost) else {
                throw ValidationError("TESSERA_BCRYPT_COST must be a whole number from 4 to 31 (bcrypt's cost), not \(text)")
            }
            bcryptCost = cost
        }
        return ServerConfiguration(
            host: host, port: port, dataDirectory: dataDir,
            databaseURL: database ?? environment["TESSERA_DATABASE_URL"],
            issuer: issuer ?? environment["TESSERA_ISSUER"],
            masterKeyPassphrase: environment["TESSERA_MASTER_KEY"].flatMap { $0.isEmpty ? nil : $0 },
            logLevel: level, bcryptCost: bcryptCost
        )
    }

    func logger(_ configuration: ServerConfiguration) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = JSONLogHandler(label: label)
            handler.logLevel = configuration.logLevel
            return handler
        }
        var logger = Logger(label: "tessera")
        logger.logLevel = configuration.logLevel
        return logger
    }
}

/// Writes a line to standard output at once: a server keeps running, and a buffered line
/// (such as a secret shown once) would otherwise wait in a buffer until it stops.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// Turns domain errors into one clear line instead of a stack trace.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as DomainError {
        FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
        throw ExitCode.failure
    } catch let error as TenantFileError {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode.failure
    }
}

/// Opens the store and services, runs `body`, and closes the store whether `body` succeeded or not.
func withServices(_ configuration: ServerConfiguration, logger: Logger,
                  _ body: (TesseraServices) async throws -> Void) async throws {
    let services: TesseraServices
    do {
        services = try await TesseraServices.open(configuration, logger: logger)
    } catch {
        try reportingErrors { throw error }
        return
    }
    do {
        try await body(services)
    } catch {
        await services.shutdown()
        try reportingErrors { throw error }
    }
    await services.shutdown()
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run Tessera: every service on one port.")

    @Option(name: .long, help: "Address to listen on.") var host = "127.0.0.1"
    @Option(name: .long, help: "Port to listen on (0 picks a free one).") var port = 8080
    @Option(name: .long, help: "A tenant file to apply at start (see README).") var apply: String?
    @Option(name: .long, help: "Reverse proxies (addresses or CIDRs, comma-separated) whose Forwarded / X-Forwarded-For headers name the client.")
    var trustedProxies: String = ""
    @Flag(name: .long, help: "Development mode: the GraphQL engine runs even without an admin secret, open to anyone who reaches it.")
    var dev = false
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let tenantFile = try apply.map { path in try reportingErrors { try TenantFile.load(path: path) } }
        let configuration = try {
            var configuration = try store.configuration(host: host, port: port)
            do { configuration.trustedProxies = try TrustedProxies(trustedProxies) } catch let error as DomainError {
                throw ValidationError(error.message)
            }
            let settings = tenantFile?.graphql
            do {
                configuration.graphql = try GraphQLConfiguration.from(
                    project: settings?.project, adminSecret: settings?.adminSecret, databaseURL: settings?.databaseURL,
                    jwtSecret: settings?.jwtSecret, unauthorizedRole: settings?.unauthorizedRole,
                    dataDirectory: configuration.dataDirectory, developmentMode: dev, defaultIssuer: configuration.issuer,
                    environment: ProcessInfo.processInfo.environment)
            } catch let error as DomainError {
                throw ValidationError(error.message)
            }
            return configuration
        }()
        let logger = store.logger(configuration)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        try await withServices(configuration, logger: logger) { services in
            if let credentials = try await AdminClient.ensure(services) {
                say("""
                    Created the bootstrap Management API client (shown once; also saved 0600 in \(credentials.path)):
                      client_id:     \(credentials.clientID)
                      client_secret: \(credentials.secret)
                    """)
            }
            // Before the tenant file, so that it may give people the console's role.
            if try await ConsoleSetup.ensure(services) {
                say("""
                    Created the \(ConsoleSettings.adminRole) role for the web console at \(configuration.issuer)console/.
                    Grant it to a user with: tessera console grant <email> (with the same --data-dir or database)
                    """)
            }
            if let apply, let tenantFile {
                let report = try await tenantFile.apply(to: services)
                say(report.summary(file: apply))
            }
            let hasDemo = try await services.tenant.clients.list().contains { $0.name == DemoRoutes.applicationName }
            if let seconds = tenantFile?.directoryResyncSeconds { await services.directory.sync.configure(interval: .seconds(seconds)) }
            let app = try await TesseraApplication.make(services: services, metrics: registry, logger: logger) { port in
                // The directory may import from Tessera itself, so its passes start once the port is open.
                await services.directory.sync.start()
                await services.directory.delivery.start()
                if hasDemo {
                    say("""

                        Tessera is running. Open \(configuration.issuer)demo/ in a browser: sign up, sign in, and see your ID token,
                        the analytics JWT the post-login Action put in it, the endpoint it reads and the chart it embeds.
                        The console is at \(configuration.issuer)console/ (the demo user holds \(ConsoleSettings.adminRole)).
                        Management API credentials: \(configuration.dataDirectory)/admin-client.json. Stop with Ctrl-C.
                        """)
                }
                logger.info("Tessera is listening", metadata: [
                    "url": "http://\(configuration.host):\(port)/", "issuer": .string(configuration.issuer),
                    "store": .string(configuration.databaseURL == nil ? "sqlite" : "postgres"),
                    "graphql": .string(services.graphql.map { "\($0.dialect)" } ?? "off (set graphql.admin_secret or HASURA_GRAPHQL_ADMIN_SECRET)"),
                ])
            }
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        }
    }
}

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or update applications, APIs, grants, roles and users from a tenant file, idempotently.")

    @Argument(help: "The tenant file (YAML).") var file: String
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let configuration = try store.configuration()
        let logger = store.logger(configuration)
        let tenantFile = try reportingErrors { try TenantFile.load(path: file) }
        try await withServices(configuration, logger: logger) { services in
            say(try await tenantFile.apply(to: services).summary(file: file))
        }
    }
}

struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console", abstract: "The web console at /console/.", subcommands: [Grant.self])

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a user the \(ConsoleSettings.adminRole) role, which opens the console.")
        @Argument(help: "The user's email.") var email: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let configuration = try store.configuration()
            try await withServices(configuration, logger: store.logger(configuration)) { services in
                try await ConsoleSetup.ensure(services)
                let users = try await services.tenant.users.byEmail(email)
                guard !users.isEmpty else { throw ValidationError("No user has the email \(email)") }
                guard let role = try await services.tenant.roles.list(nameFilter: ConsoleSettings.adminRole)
                    .first(where: { $0.name == ConsoleSettings.adminRole }) else { throw ValidationError("The console role is missing") }
                for user in users { try await services.tenant.roles.assign(roleIDs: [role.id], toUser: user.userID) }
                say("\(email) now holds \(ConsoleSettings.adminRole): open \(configuration.issuer)console/ and sign in")
            }
        }
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Signing keys.", subcommands: [List.self, Rotate.self])


    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List signing keys and their state.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let configuration = try store.configuration()
            try await withServices(configuration, logger: store.logger(configuration)) { services in
                for key in try await services.keyRing.current().keys {
                    say("\(key.kid)  \(key.state.rawValue)  created \(key.createdAt)")
                }
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Promote the next key to current; running servers pick it up within 30 seconds.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let configuration = try store.configuration()
            try await withServices(configuration, logger: store.logger(configuration)) { services in
                say("current signing key is now \(try await services.keyRing.rotate().kid)")
            }
        }
    }
}

/// `tessera speed`: what this machine's CPU allows, through Tessera's own code paths, so load tests can be
/// read as a fraction of it (like `openssl speed`).
struct Speed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure RS256 signatures/s or bcrypt verifications/s on this machine, on all cores.")

    enum Operation: String, ExpressibleByArgument { case rs256, bcrypt, action, clickhouse }

    @Argument(help: "rs256, bcrypt, action (with --code FILE), or clickhouse (with --url)") var operation: Operation = .rs256
    @Option(help: "For `action`: the action's code.") var code: String?
    @Option(help: "For `action`: JSON secrets for the event.") var secrets: String = "{}"
    @Option(help: "For `action`: JSON configuration for the event.") var configurationJSON: String = "{}"
    @Option(help: "For `action`: how many executions.") var executions = 10_000
    @Option(help: "Seconds to measure.") var seconds = 10.0
    @Option(help: "Concurrent workers (default: one per core).") var tasks = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "bcrypt cost.") var cost: UInt8 = 10
    @Option(help: "For `action`: a host its fetch may reach although loopback or private (as outbound.allow).") var allow: [String] = []
    @Option(help: "For `clickhouse`: the server's HTTP interface.") var url: String?
    @Option(help: "For `clickhouse`: rows to write.") var rows = 1_000_000
    @Option(help: "For `clickhouse`: rows per append (one Events API request).") var batch = 1_000

    func run() async throws {
        switch operation {
        case .rs256:
            let rate = try await SigningSpeed.measure(seconds: seconds, tasks: tasks)
            say(String(format: "%.1f RS256 signatures/s with %d workers", rate, tasks))
        case .bcrypt:
            let rate = try await PasswordHasher(cost: cost).verificationsPerSecond(seconds: seconds, tasks: tasks)
            say(String(format: "%.1f bcrypt verifications/s at cost %d with %d workers", rate, cost, tasks))
        case .action:
            guard let code, let source = FileManager.default.contents(atPath: code) else {
                throw ValidationError("speed action needs --code FILE")
            }
            let event = ActionEvent.merged(ActionEvent.samplePostLogin, with: [:],
                                           secrets: try JSONValue.parse(secrets).objectValue ?? [:],
                                           configuration: try JSONValue.parse(configurationJSON).objectValue ?? [:])
            let report = try await ActionSpeed.measure(code: String(decoding: source, as: UTF8.self), event: event,
                                                       executions: executions, tasks: tasks, outbound: OutboundPolicy(allow: allow),
                                                       userHubBaseURL: ProcessInfo.processInfo.environment["USERHUB_API_URL"])
            say(String(format: "%d executions, %.1f/s with %d workers, p50 %.2f ms, p99 %.2f ms, RSS %d KiB before, %d KiB after",
                       report.executions, report.perSecond, tasks, report.p50Milliseconds, report.p99Milliseconds,
                       report.residentKiBBefore, report.residentKiBAfter))
        case .clickhouse:
            guard let url else { throw ValidationError("speed clickhouse needs --url http://HOST:8123") }
            let report = try await ClickHouseIngestSpeed.measure(url: url, rows: rows, batch: batch, tasks: tasks)
            say(String(format: "%d rows in %.2f s: %.0f rows/s with %d appenders of %d rows, in %d blocks",
                       report.rows, report.seconds, report.rowsPerSecond, tasks, batch, report.blocks))
        }
    }
}

struct ActionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actions", abstract: "Post-login Actions.", subcommands: [Test.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run an action against a sample post-login event (or your own) and print what it did.")
        @Argument(help: "The action's name.") var name: String
        @Option(help: "A JSON file with event fields to lay over the sample event (user, authorization, request, …).")
        var event: String?
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let configuration = try store.configuration()
            var overrides: [String: JSONValue] = [:]
            if let event {
                guard let data = FileManager.default.contents(atPath: event),
                      let object = try? JSONValue.parse(bytes: Array(data)).objectValue
                else { throw ValidationError("\(event) is not a JSON object") }
                overrides = object
            }
            let fields = overrides
            try await withServices(configuration, logger: store.logger(configuration)) { services in
                let actions = services.actions
                guard let record = try await actions.list().first(where: { $0.name == name }) else {
                    throw DomainError.notFound("No action is named \(name)", code: "inexistent_action")
                }
                let event = ActionEvent.merged(ActionEvent.samplePostLogin, with: fields,
                                               secrets: record.secrets, configuration: record.configuration)
                let result = await ActionTest.run(try ActionRunner(), code: record.code, event: event)
                let pretty = try JSONSerialization.data(withJSONObject: JSONSerialization.jsonObject(with: Data(result.jsonText().utf8)),
                                                        options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                say(String(decoding: pretty, as: UTF8.self))
                if result.objectValue?["error"] != nil { throw ExitCode.failure }
            }
        }
    }
}
