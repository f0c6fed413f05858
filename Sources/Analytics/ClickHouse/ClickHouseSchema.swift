import Foundation
import TesseraCore

/// What a ClickHouse server can take, by version: Debian ships 18.16, which lacks types later datafiles use.
public struct ClickHouseCapabilities: Sendable, Equatable {
    public let major: Int
    public let minor: Int

    public init(version: String) {
        let parts = version.split(separator: ".").compactMap { Int($0) }
        major = parts.first ?? 0
        minor = parts.count > 1 ? parts[1] : 0
    }

    func atLeast(_ major: Int, _ minor: Int) -> Bool { self.major > major || (self.major == major && self.minor >= minor) }

    /// `LowCardinality` arrived in 19.0, `SimpleAggregateFunction` in 19.8, `DateTime64` in 20.1, `Bool` in 21.12.
    var lowCardinality: Bool { atLeast(19, 0) }
    var simpleAggregateFunction: Bool { atLeast(19, 8) }
    var dateTime64: Bool { atLeast(20, 1) }
    var bool: Bool { atLeast(21, 12) }
    /// Table TTL arrived in 19.6.
    var tableTTL: Bool { atLeast(19, 6) }
}

/// A data source as ClickHouse tables: its datafile's columns, `ENGINE`, `ENGINE_PARTITION_KEY`, `ENGINE_SORTING_KEY`,
/// `ENGINE_TTL` and `ENGINE_SETTINGS`, and its `_quarantine` table beside it. On a cluster, each node gets a local
/// table (`<name>_local`) and a `Distributed` table named like the data source in front of the cluster's local tables,
/// so any node takes writes (spread over the shards) and reads (gathered from them). The statements go to every node:
/// 18.16's `ON CLUSTER` needs ZooKeeper, which a two-server setup does not have.
public enum ClickHouseSchema {
    public struct Statement: Sendable, Equatable {
        public let sql: String
    }

    /// The `CREATE TABLE` statements for `definition`, to run in order on every node.
    public static func create(_ definition: DataSourceDefinition, database: String, cluster: String?,
                              capabilities: ClickHouseCapabilities) throws -> [Statement] {
        let columns = try definition.columns.map { "\(ClickHouseSQL.identifier($0.name)) \(try type($0.type, capabilities))" }
            .joined(separator: ", ")
        let local = cluster == nil ? definition.name : definition.name + localSuffix
        let engine = try engineClause(definition, capabilities)
        var statements = [Statement(sql: "CREATE TABLE IF NOT EXISTS \(qualified(database, local)) (\(columns)) \(engine)")]
        let quarantine = definition.name + "_quarantine"
        let quarantineLocal = cluster == nil ? quarantine : quarantine + localSuffix
        statements.append(Statement(sql: """
            CREATE TABLE IF NOT EXISTS \(qualified(database, quarantineLocal)) (c__error String, c__error_column String, \
            c__line String, insertion_date DateTime) ENGINE = MergeTree ORDER BY insertion_date
            """))
        if let cluster {
            for (name, localName) in [(definition.name, local), (quarantine, quarantineLocal)] {
                statements.append(Statement(sql: """
                    CREATE TABLE IF NOT EXISTS \(qualified(database, name)) AS \(qualified(database, localName)) \
                    ENGINE = Distributed(\(ClickHouseSQL.identifier(cluster)), \(ClickHouseSQL.identifier(database)), \
                    \(ClickHouseSQL.identifier(localName)), rand())
                    """))
            }
        }
        return statements
    }

    /// The statements that remove a data source's tables, local ones included.
    public static func drop(_ name: String, database: String, cluster: String?) -> [Statement] {
        var names = [name, name + "_quarantine"]
        if cluster != nil { names += [name + localSuffix, name + "_quarantine" + localSuffix] }
        return names.map { Statement(sql: "DROP TABLE IF EXISTS \(qualified(database, $0))") }
    }

    static let localSuffix = "_local"

    static func qualified(_ database: String, _ table: String) -> String {
        ClickHouseSQL.identifier(database) + "." + ClickHouseSQL.identifier(table)
    }

    /// A datafile type as this server spells it. What an old server lacks is replaced by what keeps the values
    /// (`LowCardinality(T)` by `T`, `Bool` by `UInt8`, `DateTime64` by `DateTime`, losing the fraction of a second);
    /// `SimpleAggregateFunction` has no such stand-in and is refused.
    static func type(_ type: ColumnType, _ capabilities: ClickHouseCapabilities) throws -> String {
        switch type {
        case .bool: return capabilities.bool ? "Bool" : "UInt8"
        case .dateTime64: return capabilities.dateTime64 ? type.description : "DateTime"
        case .nullable(let inner): return "Nullable(\(try self.type(inner, capabilities)))"
        case .lowCardinality(let inner):
            return capabilities.lowCardinality ? "LowCardinality(\(try self.type(inner, capabilities)))" : try self.type(inner, capabilities)
        case .array(let inner): return "Array(\(try self.type(inner, capabilities)))"
        case .simpleAggregate:
            guard capabilities.simpleAggregateFunction else {
                throw DomainError.invalidBody("\(type) needs ClickHouse 19.8 or newer; this server is \(capabilities.major).\(capabilities.minor)")
            }
            return type.description
        default: return type.description
        }
    }

    /// `ENGINE = …` with its keys and settings. The expressions come from the workspace's own datafiles; one
    /// statement per request is all ClickHouse's HTTP interface runs, and a `;` is refused before it gets there.
    static func engineClause(_ definition: DataSourceDefinition, _ capabilities: ClickHouseCapabilities) throws -> String {
        func value(_ keyword: String) throws -> String? {
            guard let line = definition.engine.first(where: { $0.hasPrefix(keyword + " ") }) else { return nil }
            let text = Datafile.unquote(String(line.dropFirst(keyword.count + 1))).trimmingCharacters(in: .whitespaces)
            guard !text.contains(";") else { throw DomainError.invalidBody("\(keyword) may not contain ';'") }
            return text.isEmpty ? nil : text
        }
        var engine = try value("ENGINE") ?? "MergeTree"
        if !engine.contains("(") {
            switch definition.tableEngine {
            case .replacingMergeTree(let version): engine += "(\(version.map(ClickHouseSQL.identifier) ?? ""))"
            default: engine += "()"
            }
        }
        var clause = "ENGINE = \(engine)"
        if let partition = try value("ENGINE_PARTITION_KEY") { clause += " PARTITION BY \(partition)" }
        clause += " ORDER BY \(try value("ENGINE_SORTING_KEY").map { $0.hasPrefix("(") ? $0 : "(\($0))" } ?? "tuple()")"
        if let ttl = try value("ENGINE_TTL") {
            guard capabilities.tableTTL else {
                throw DomainError.invalidBody("ENGINE_TTL needs ClickHouse 19.6 or newer; this server is \(capabilities.major).\(capabilities.minor)")
            }
            clause += " TTL \(ttl)"
        }
        if let settings = try value("ENGINE_SETTINGS") { clause += " SETTINGS \(settings)" }
        return clause
    }
}
