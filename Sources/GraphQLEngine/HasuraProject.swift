import Foundation
import TesseraCore
import Yams

/// A project as the Hasura CLI writes it: `migrations/default/<version>_<name>/up.sql` and `metadata/` in the v3
/// directory format, whose YAML files pull each other in with `!include`.
public struct HasuraProject: Sendable {
    public struct Migration: Sendable, Equatable {
        public var version: Int64
        public var name: String
        public var sql: String
    }

    public let directory: URL

    public init(directory: String) {
        self.directory = URL(fileURLWithPath: directory, isDirectory: true)
    }

    /// Migrations of source `default`, oldest first. Folders without a numeric version prefix are not migrations.
    public func migrations() throws(HasuraError) -> [Migration] {
        let folder = directory.appendingPathComponent("migrations/default", isDirectory: true)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        var migrations: [Migration] = []
        for name in names {
            let parts = name.split(separator: "_", maxSplits: 1)
            guard let version = parts.first.flatMap({ Int64($0) }) else { continue }
            let file = folder.appendingPathComponent(name).appendingPathComponent("up.sql")
            guard let sql = try? String(contentsOf: file, encoding: .utf8) else { continue }
            migrations.append(Migration(version: version, name: parts.count > 1 ? String(parts[1]) : "", sql: sql))
        }
        return migrations.sorted { $0.version < $1.version }
    }

    /// The metadata folder read into the JSON `replace_metadata` takes, or nil when the project has none.
    public func metadata() throws(HasuraError) -> Metadata? {
        let folder = directory.appendingPathComponent("metadata", isDirectory: true)
        let databases = folder.appendingPathComponent("databases/databases.yaml")
        guard FileManager.default.fileExists(atPath: databases.path) else { return nil }
        if let version = try YAMLFiles.load(folder.appendingPathComponent("version.yaml"), optional: true),
           version.objectValue?["version"] != .number(3) {
            throw HasuraError.notSupported("metadata/version.yaml: only metadata version 3 is supported")
        }
        let sources = try YAMLFiles.load(databases, optional: false) ?? .array([])
        var object: [String: JSONValue] = ["version": .number(3), "sources": sources]
        // Files that exist but Tessera does not serve yet are kept so that export gives them back.
        for (key, file) in [("actions", "actions.yaml"), ("allowlist", "allow_list.yaml"), ("cron_triggers", "cron_triggers.yaml"),
                            ("query_collections", "query_collections.yaml"), ("remote_schemas", "remote_schemas.yaml"),
                            ("inherited_roles", "inherited_roles.yaml"), ("rest_endpoints", "rest_endpoints.yaml")] {
            if let value = try YAMLFiles.load(folder.appendingPathComponent(file), optional: true), value != .array([]), value != .null {
                object[key] = value
            }
        }
        return try Metadata(json: .object(object), path: "$")
    }

    /// Writes metadata as the CLI's `metadata export` does: one file per table, included from `tables.yaml`.
    public static func write(_ metadata: Metadata, to directory: String) throws {
        let folder = URL(fileURLWithPath: directory, isDirectory: true).appendingPathComponent("metadata", isDirectory: true)
        let tablesFolder = folder.appendingPathComponent("databases/default/tables", isDirectory: true)
        try FileManager.default.createDirectory(at: tablesFolder, withIntermediateDirectories: true)
        try YAMLFiles.write(.object(["version": .number(3)]), to: folder.appendingPathComponent("version.yaml"))
        var includes: [JSONValue] = []
        for entry in metadata.tables {
            guard let table = try? Metadata.qualifiedTable(entry["table"]!, path: "$") else { continue }
            let file = "\(table.schema)_\(table.name).yaml"
            try YAMLFiles.write(.object(entry), to: tablesFolder.appendingPathComponent(file))
            includes.append(.string("!include \(file)"))
        }
        try YAMLFiles.write(.array(includes), to: tablesFolder.appendingPathComponent("tables.yaml"))
        guard case .object(let object) = metadata.json, case .array(let sources) = object["sources"] ?? .null,
              case .object(var source) = sources.first ?? .null else { return }
        source["tables"] = .string("!include default/tables/tables.yaml")
        try YAMLFiles.write(.array([.object(source)]), to: folder.appendingPathComponent("databases/databases.yaml"))
    }
}

/// YAML read into JSON values, with Hasura's `!include <path>` strings replaced by the file they name.
enum YAMLFiles {
    static func load(_ file: URL, optional: Bool, depth: Int = 0) throws(HasuraError) -> JSONValue? {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            if optional { return nil }
            throw HasuraError.notFound("metadata file \(file.lastPathComponent) could not be read")
        }
        guard depth < 8 else { throw HasuraError.parseFailed("\(file.lastPathComponent): !include nested too deeply") }
        let parsed: Any?
        do { parsed = try Yams.load(yaml: text) } catch {
            throw HasuraError.parseFailed("\(file.lastPathComponent) is not valid YAML: \(error)")
        }
        return try resolve(json(parsed), relativeTo: file.deletingLastPathComponent(), depth: depth)
    }

    private static func resolve(_ value: JSONValue, relativeTo folder: URL, depth: Int) throws(HasuraError) -> JSONValue {
        switch value {
        case .string(let text) where text.hasPrefix("!include "):
            let path = String(text.dropFirst(9)).trimmingCharacters(in: .whitespaces)
            guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                throw HasuraError.parseFailed("!include must name a file inside the metadata folder: \(path)")
            }
            return try load(folder.appendingPathComponent(path), optional: false, depth: depth + 1) ?? .null
        case .array(let values):
            var result: [JSONValue] = []
            for item in values { result.append(try resolve(item, relativeTo: folder, depth: depth)) }
            return .array(result)
        case .object(let fields):
            var result: [String: JSONValue] = [:]
            for (key, item) in fields { result[key] = try resolve(item, relativeTo: folder, depth: depth) }
            return .object(result)
        default: return value
        }
    }

    static func json(_ value: Any?) -> JSONValue {
        switch value {
        case nil, is NSNull: return .null
        case let value as Bool: return .bool(value)
        case let value as Int: return .number(Double(value))
        case let value as Double: return .number(value)
        case let value as String: return .string(value)
        case let value as [Any]: return .array(value.map(json))
        case let value as [String: Any]: return .object(value.mapValues(json))
        case let value as [AnyHashable: Any]:
            return .object(Dictionary(value.map { ("\($0.key)", json($0.value)) }, uniquingKeysWith: { a, _ in a }))
        default: return .string("\(value!)")
        }
    }

    static func plain(_ value: JSONValue) -> Any {
        switch value {
        case .null: return NSNull()
        case .bool(let flag): return flag
        case .number(let number): return number.rounded() == number && abs(number) < 1e15 ? Int(number) : number
        case .string(let text): return text
        case .array(let values): return values.map(plain)
        case .object(let fields): return fields.mapValues(plain)
        }
    }

    static func write(_ value: JSONValue, to file: URL) throws {
        try Yams.dump(object: plain(value), sortKeys: true).write(to: file, atomically: true, encoding: .utf8)
    }
}
