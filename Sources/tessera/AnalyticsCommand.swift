import Analytics
import ArgumentParser
import Foundation
import TesseraCore
import TesseraServer

/// `tessera analytics migrate`: moves a workspace onto ClickHouse while its endpoints keep answering.
struct AnalyticsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analytics", abstract: "Analytics workspaces.", subcommands: [Migrate.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a workspace's data sources from the embedded engine into ClickHouse, verify, then switch it.",
            discussion: """
                The ClickHouse settings come from the workspace's clickhouse section in tessera.yaml, or from the options \
                here, which win. Endpoints answer from the embedded engine until the switch and from ClickHouse after it; \
                rows appended during the copy are copied after the switch. Afterwards set engine: clickhouse in tessera.yaml. \
                Example: tessera analytics migrate --workspace demo --to clickhouse --url http://127.0.0.1:8123
                """)

        @Option(help: "The workspace, by name.") var workspace: String
        @Option(help: "The engine to move to: clickhouse.") var to: String
        @Option(help: "ClickHouse's HTTP interface (http://host:8123).") var url: String?
        @Option(help: "The ClickHouse database for the workspace's tables (default tessera_<workspace>).") var database: String?
        @Option(help: "The ClickHouse user.") var user: String?
        @Option(name: .customLong("password-env"), help: "The variable holding the ClickHouse password (default TESSERA_CLICKHOUSE_PASSWORD).")
        var passwordEnv: String?
        @Option(help: "The remote_servers cluster to spread the tables over.") var cluster: String?
        @Option(name: .customLong("node"), help: "Another node of the cluster, for its DDL (repeatable).") var nodes: [String] = []
        @OptionGroup var store: StoreOptions

        func run() async throws {
            guard to == "clickhouse" else { throw ValidationError("--to clickhouse is the one move supported (from the embedded engine)") }
            let configuration = try store.configuration()
            try await withServices(configuration, logger: store.logger(configuration)) { services in
                let analytics = services.analytics
                guard let found = try await analytics.catalog.workspace(named: workspace) else {
                    throw ValidationError("no workspace named \(workspace)")
                }
                var clickHouse = found.settings["clickhouse"]?.objectValue ?? [:]
                for (key, value) in [("url", url), ("database", database), ("user", user), ("password_env", passwordEnv), ("cluster", cluster)] {
                    if let value { clickHouse[key] = .string(value) }
                }
                if !nodes.isEmpty { clickHouse["nodes"] = .array(nodes.map(JSONValue.string)) }
                guard clickHouse["url"] != nil else {
                    throw ValidationError("name the ClickHouse server: --url, or clickhouse.url on the workspace in tessera.yaml")
                }
                let terminal = isatty(STDERR_FILENO) == 1
                let reports = ProgressReports(terminal: terminal, clock: services.clock)
                do {
                    let copied = try await ClickHouseMigration(analytics: analytics).migrate(found, clickHouse: clickHouse) { name, done, total in
                        await reports.update(name, done: done, total: total)
                    }
                    await reports.finishAll()
                    for item in copied {
                        say("\(item.dataSource)\t\(item.rows) rows\t\(item.populated ? "populated by its materialized view" : "copied")")
                    }
                    say("workspace \(workspace) now runs on ClickHouse; set engine: clickhouse on it in tessera.yaml")
                } catch let error as DomainError {
                    FileHandle.standardError.write(Data("\nerror: \(error.message)\n".utf8))
                    throw ExitCode.failure
                }
            }
        }
    }
}

/// One progress report per data source, in the order they start.
actor ProgressReports {
    let terminal: Bool
    let clock: TesseraClock
    private var reports: [(name: String, report: ProgressReport, done: Int, total: Int)] = []

    init(terminal: Bool, clock: TesseraClock) {
        self.terminal = terminal
        self.clock = clock
    }

    func update(_ name: String, done: Int, total: Int) async {
        if reports.last?.name != name {
            if let previous = reports.last { await previous.report.finish(done: previous.done, total: previous.total) }
            reports.append((name, ProgressReport(subject: ("datasource", name), unit: "rows", terminal: terminal, clock: clock), done, total))
        }
        reports[reports.count - 1].done = done
        reports[reports.count - 1].total = total
        await reports[reports.count - 1].report.update(done: done, total: total)
    }

    func finishAll() async {
        if let last = reports.last { await last.report.finish(done: last.done, total: last.total) }
    }
}
