import ArgumentParser
import Directory
import Foundation
import TesseraServer

/// `tessera directory key create|list`: the directory's admin API keys (UserHub's "New API key").
struct DirectoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "directory", abstract: "The user directory (UserHub's Admin API).", subcommands: [Key.self])

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
