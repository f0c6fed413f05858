import Analytics
import ArgumentParser
import Foundation
import TesseraCore
import TesseraServer

/// `tessera token create`: the command-line twin of seed 002's Flask endpoint, minting a workspace JWT
/// (HS256 with the workspace admin token) that reads the given pipes.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Analytics tokens.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mint a JWT that reads pipes of a workspace, signed with its admin token.",
            discussion: "Example: tessera token create --workspace demo --pipe sales_by_city --fixed-param cities=Madrid --ttl 48h")

        @Option(help: "The workspace, by name or id.") var workspace: String
        @Option(name: .customLong("pipe"), help: "A pipe the token may read (repeat for several).") var pipes: [String] = []
        @Option(name: .customLong("fixed-param"), help: "name=value, applied to every pipe and winning over query parameters (repeatable).")
        var fixedParams: [String] = []
        @Option(help: "How long the token lives: seconds, or a number with s, m, h or d (\"48h\", \"7d\").") var ttl = "48h"
        @Option(help: "Requests per second allowed for this token's name.") var rps: Int?
        @Option(help: "The token's name, which rate limits count by.") var name = "cli_token"
        @OptionGroup var store: StoreOptions

        func run() async throws {
            guard !pipes.isEmpty else { throw ValidationError("Give at least one --pipe") }
            let seconds = try Self.seconds(ttl)
            var fixed: [String: JSONValue] = [:]
            for pair in fixedParams {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw ValidationError("--fixed-param takes name=value, got \(pair)")
                }
                fixed[String(pair[..<equals])] = .string(String(pair[pair.index(after: equals)...]))
            }
            if let rps, rps < 1 { throw ValidationError("--rps must be at least 1") }
            let configuration = try store.configuration()
            try await withServices(configuration, logger: store.logger(configuration)) { services in
                let catalog = services.analytics.catalog
                let byName = try await catalog.workspace(named: workspace)
                let byID = UUID(uuidString: workspace) == nil ? nil : try await catalog.workspace(id: workspace)
                guard let found = byName ?? byID else {
                    throw ValidationError("No workspace is named or has the id \(workspace)")
                }
                for pipe in pipes where try await catalog.pipe(pipe, in: found) == nil {
                    throw ValidationError("Workspace \(found.name) has no pipe \(pipe)")
                }
                let scopes: [JSONValue] = pipes.map { pipe in
                    var scope: [String: JSONValue] = ["type": .string("PIPES:READ"), "resource": .string(pipe)]
                    if !fixed.isEmpty { scope["fixed_params"] = .object(fixed) }
                    return .object(scope)
                }
                let expiresAt = Int(services.clock.now().timeIntervalSince1970) + seconds
                say(try AnalyticsAccess.mintJWT(workspace: found, name: name, expiresAt: expiresAt, scopes: scopes, rps: rps))
            }
        }

        static func seconds(_ text: String) throws -> Int {
            let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
            if let plain = Int(text), plain > 0 { return plain }
            guard let unit = text.last, let multiplier = units[unit], let count = Int(text.dropLast()), count > 0 else {
                throw ValidationError("--ttl takes seconds or a number with s, m, h or d, such as 48h")
            }
            return count * multiplier
        }
    }
}
