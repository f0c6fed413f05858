import ArgumentParser
import Directory
import Foundation
import TesseraCore
import TesseraServer

/// `tessera directory key create|list`: the directory's admin API keys (UserHub's "New API key"); `sync` runs a
/// connection's import in the foreground; `status` shows connections and webhooks.
struct DirectoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "directory", abstract: "The user directory (UserHub's Admin API).", subcommands: [Key.self, Sync.self, Status.self])

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run (or resume) a connection's full import in the foreground.",
            discussion: """
                On a terminal a progress bar shows users done / total, the rate and the time left; otherwise one JSON \
                line a second ({"connection","done","total","rate","eta_s","elapsed_s"}) and a last one with "finished". \
                Stopped with Ctrl-C (or killed), the import resumes where it stopped, here or in the server.
                """)

        @Option(help: "The connection to import (conn_…).") var connection: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let configuration = try store.configuration()
            try await withServices(configuration, logger: store.logger(configuration)) { services in
                let before: SyncState
                do { before = try await services.directory.connections.connection(connection).sync } catch let error as DirectoryError {
                    FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
                    throw ExitCode.failure
                }
                let report = ProgressReport(subject: ("connection", connection), unit: "users", terminal: isatty(STDERR_FILENO) == 1,
                                            clock: services.clock, resumedAt: before.pass == nil ? 0 : before.done)
                do {
                    let state = try await services.directory.importer.sync(connection) { state in await report.update(done: state.done, total: state.total) }
                    await report.finish(done: state.lastPassUsers ?? state.done, total: state.total)
                } catch let error as DirectoryError {
                    await report.fail(error.message)
                    throw ExitCode.failure
                }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each connection's state, last pull, users and last error; each webhook's deliveries.")
        @Flag(help: "One JSON document instead of text.") var json = false
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let configuration = try store.configuration()
            try await withServices(configuration, logger: store.logger(configuration)) { services in
                let connections = try await services.directory.connections.list()
                let counts = try await services.directory.connections.accountCounts()
                let webhooks = try await services.directory.webhooks.list()
                if json {
                    var wire: [JSONValue] = []
                    for connection in connections {
                        var fields = connection.wire.objectValue ?? [:]
                        fields["users"] = .number(Double(counts[connection.id] ?? 0))
                        wire.append(.object(fields))
                    }
                    say(JSONValue.object([
                        "connections": .array(wire),
                        "webhooks": .array(webhooks.map { webhook, state in
                            var fields: [String: JSONValue] = ["id": .string(webhook.id), "url": .string(webhook.url),
                                                               "delivered": .number(Double(state.delivered)), "attempts": .number(Double(state.attempts))]
                            if let time = state.lastDeliveryTime { fields["lastDeliveryTime"] = .string(time) }
                            if let error = state.lastError { fields["lastError"] = .string(error) }
                            return .object(fields)
                        }),
                    ]).jsonText())
                    return
                }
                if connections.isEmpty { say("no connections (directory.connections in tessera.yaml, or POST /admin/v1/connections)") }
                for connection in connections {
                    let sync = connection.sync
                    var line = "\(connection.id)\t\(connection.state.rawValue)\t\(counts[connection.id] ?? 0) users\tlast pull \(sync.lastPullTime ?? "never")"
                    if sync.isRunning { line += "\trunning: \(sync.done)\(sync.total.map { " / \($0)" } ?? "") users" }
                    if let error = sync.lastError ?? connection.stateReason { line += "\terror: \(error)" }
                    say(line + "\t\(connection.domain)")
                }
                for (webhook, state) in webhooks {
                    var line = "\(webhook.id)\twebhook\t\(state.delivered) delivered\tlast \(state.lastDeliveryTime ?? "never")"
                    if let error = state.lastError { line += "\terror (\(state.attempts) tries): \(error)" }
                    say(line + "\t\(webhook.url)")
                }
            }
        }
    }

    struct Key: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "key", abstract: "Admin API keys.", subcommands: [Create.self, List.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create an admin API key; it is printed once and stored only as a digest.",
                discussion: "Example: tessera directory key create --description \"Auth0 Action\" --integration auth0")

            @Option(help: "What the key is for.") var description = "Admin API key"
            @Option(help: "Limit the key to an integration's calls (auth0: only :event and :import).") var integration: String?
            @Option(help: "How long the key lives: seconds, or a number with s, m, h or d (\"90d\"); none by default.") var expires: String?
            @OptionGroup var store: StoreOptions

            func run() async throws {
                if let integration, !APIKeys.integrations.contains(integration) {
                    throw ValidationError("--integration takes one of: \(APIKeys.integrations.sorted().joined(separator: ", "))")
                }
                let lifetime = try expires.map(TokenCommand.Create.seconds)
                let configuration = try store.configuration()
                try await withServices(configuration, logger: store.logger(configuration)) { services in
                    let expiry = lifetime.map { services.clock.now().addingTimeInterval(TimeInterval($0)) }
                    let (key, record) = try await services.directory.keys.create(description: description, integration: integration, expires: expiry)
                    say(key)
                    FileHandle.standardError.write(Data("created \(record.id)\(integration.map { " (\($0) only)" } ?? "")\(record.expireTime.map { ", expires \($0)" } ?? ""); the key is shown once\n".utf8))
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List admin API keys (ids and settings; keys are never shown again).")
            @OptionGroup var store: StoreOptions

            func run() async throws {
                let configuration = try store.configuration()
                try await withServices(configuration, logger: store.logger(configuration)) { services in
                    for key in try await services.directory.keys.list() {
                        say("\(key.id)\t\(key.integration ?? "all")\t\(key.expireTime ?? "never")\t\(key.description)")
                    }
                }
            }
        }
    }
}
