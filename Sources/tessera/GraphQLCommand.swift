import ArgumentParser
import Foundation
import GraphQLEngine
import TesseraCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `tessera graphql`: what the Hasura CLI does for a project, against a running Tessera over Hasura's own API, so it
/// works the same on SQLite and PostgreSQL and the server sees every change at once.
struct GraphQLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graphql", abstract: "The GraphQL engine: migrations, metadata and queries of a Hasura project.",
        subcommands: [Migrate.self, MetadataCommand.self, Query.self])

    struct Connection: ParsableArguments {
        @Option(help: "Where Tessera runs.") var endpoint = "http://127.0.0.1:8080"
        @Option(help: "The admin secret (default: $HASURA_GRAPHQL_ADMIN_SECRET).") var adminSecret: String?
        @Option(help: "The Hasura project folder (migrations/, metadata/).") var project = "hasura"

        var client: HasuraClient {
            get throws {
                guard let base = URL(string: endpoint.hasSuffix("/") ? endpoint : endpoint + "/"), base.host != nil else {
                    throw ValidationError("--endpoint must be a URL such as http://127.0.0.1:8080")
                }
                return HasuraClient(base: base, adminSecret: adminSecret ?? ProcessInfo.processInfo.environment["HASURA_GRAPHQL_ADMIN_SECRET"])
            }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Project migrations.", subcommands: [Apply.self])

        struct Apply: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Run the project's migrations/default/<version>_<name>/up.sql not yet applied, oldest first, each in one transaction.")
            @OptionGroup var connection: Connection

            func run() async throws {
                let client = try connection.client
                let migrations = try HasuraProject(directory: connection.project).migrations()
                // The version table is where the engine keeps it: hdb_catalog on PostgreSQL, hdb_ tables on SQLite.
                var table = "hdb_catalog.schema_migrations"
                var applied: [JSONValue]
                var falseValue = "false"
                do {
                    applied = try await client.runSQL("SELECT version FROM \(table) WHERE dirty = false")
                } catch {
                    (table, falseValue) = ("hdb_schema_migrations", "0")
                    applied = try await client.runSQL("SELECT version FROM \(table) WHERE dirty = 0")
                }
                let done = Set(applied.dropFirst().compactMap { $0.arrayValue?.first?.stringValue.flatMap { Int64($0) } })
                var count = 0
                for migration in migrations where !done.contains(migration.version) {
                    _ = try await client.runSQL(migration.sql + "\n;\nINSERT INTO \(table) (version, dirty) VALUES (\(migration.version), \(falseValue))")
                    say("applied \(migration.version)_\(migration.name)")
                    count += 1
                }
                say(count == 0 ? "nothing to apply" : "\(count) migration(s) applied")
            }
        }
    }

    struct MetadataCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "metadata", abstract: "Project metadata (format v3).",
                                                        subcommands: [Export.self, Apply.self])

        struct Export: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Write the server's metadata into <project>/metadata/.")
            @OptionGroup var connection: Connection

            func run() async throws {
                let metadata = try Metadata(json: try await connection.client.post("v1/metadata", ["type": "export_metadata", "args": [:]]))
                try HasuraProject.write(metadata, to: connection.project)
                say("metadata exported to \(connection.project)/metadata (\(metadata.trackedTables.count) table(s))")
            }
        }

        struct Apply: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Replace the server's metadata with <project>/metadata/.")
            @OptionGroup var connection: Connection

            func run() async throws {
                guard let metadata = try HasuraProject(directory: connection.project).metadata() else {
                    throw ValidationError("\(connection.project)/metadata/databases/databases.yaml does not exist")
                }
                _ = try await connection.client.post("v1/metadata", ["type": "replace_metadata", "version": 2, "args": ["metadata": metadata.json]])
                say("metadata applied (\(metadata.trackedTables.count) table(s))")
            }
        }
    }

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send one GraphQL operation as admin and print the response.")
        @Argument(help: "The GraphQL document.") var document: String
        @Option(help: "Variables as a JSON object.") var variables = "{}"
        @Option(help: "The operation to run, when the document has several.") var operationName: String?
        @OptionGroup var connection: Connection

        func run() async throws {
            guard let parsed = try? JSONValue.parse(variables), case .object = parsed else {
                throw ValidationError("--variables must be a JSON object")
            }
            var body: [String: JSONValue] = ["query": .string(document), "variables": parsed]
            if let operationName { body["operationName"] = .string(operationName) }
            let response = try await connection.client.post("v1/graphql", .object(body))
            say(response.jsonText())
            if response.objectValue?["errors"] != nil { throw ExitCode.failure }
        }
    }
}

/// Hasura's HTTP API as a client: JSON in, JSON out, admin errors as one readable line.
struct HasuraClient {
    let base: URL
    let adminSecret: String?

    func post(_ path: String, _ body: JSONValue) async throws -> JSONValue {
        var request = URLRequest(url: base.appendingPathComponent(path))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let adminSecret { request.setValue(adminSecret, forHTTPHeaderField: "x-hasura-admin-secret") }
        request.httpBody = Data(body.jsonText().utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        let answer = (try? JSONValue.parse(bytes: Array(data))) ?? .string(String(decoding: data, as: UTF8.self))
        if let status = (response as? HTTPURLResponse)?.statusCode, status >= 400 {
            throw ValidationError("\(path): \(status) \(answer.objectValue?["error"]?.stringValue ?? answer.jsonText())")
        }
        return answer
    }

    /// `run_sql`'s rows (the first is the column names).
    func runSQL(_ sql: String) async throws -> [JSONValue] {
        try await post("v2/query", ["type": "run_sql", "args": ["source": "default", "sql": .string(sql)]]).objectValue?["result"]?.arrayValue ?? []
    }
}
