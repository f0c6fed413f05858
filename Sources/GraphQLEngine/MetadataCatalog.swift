import Foundation
import SQLKit
import TesseraCore
import TesseraStore

/// The engine's own bookkeeping in its database, beside the app's tables: the metadata with its resource version, and
/// which project migrations ran. On PostgreSQL they live in schema `hdb_catalog`, where Hasura keeps them
/// (`schema_migrations` is the table the Hasura CLI reads); on SQLite in tables prefixed `hdb_`, which are not served.
struct MetadataCatalog: Sendable {
    let store: Store

    struct Stored: Sendable {
        var metadata: Metadata
        var resourceVersion: Int
        /// A digest of the project metadata last applied, so a restart re-applies the files only when they changed.
        var projectDigest: String?
    }

    private var metadataTable: String { store.dialect == .postgres ? "hdb_catalog.hdb_metadata" : "hdb_metadata" }
    private var migrationsTable: String { store.dialect == .postgres ? "hdb_catalog.schema_migrations" : "hdb_schema_migrations" }

    func prepare() async throws {
        let dialect = store.dialect
        let metadataTable = self.metadataTable
        let migrationsTable = self.migrationsTable
        try await store.transaction { db in
            if dialect == .postgres {
                try await db.raw("SELECT pg_advisory_xact_lock(7468790)").run()
                try await db.raw("CREATE SCHEMA IF NOT EXISTS hdb_catalog").run()
            }
            try await db.raw(SQLQueryString("""
                CREATE TABLE IF NOT EXISTS \(unsafeRaw: metadataTable) (
                    id INTEGER PRIMARY KEY, metadata TEXT NOT NULL, resource_version INTEGER NOT NULL, project_digest TEXT)
                """)).run()
            try await db.raw(SQLQueryString("""
                CREATE TABLE IF NOT EXISTS \(unsafeRaw: migrationsTable) (version BIGINT PRIMARY KEY, dirty BOOLEAN NOT NULL)
                """)).run()
        }
    }

    func load() async throws -> Stored? {
        let table = metadataTable
        return try await store.read { db in
            guard let row = try await db.raw(SQLQueryString("SELECT metadata, resource_version, project_digest FROM \(unsafeRaw: table) WHERE id = 1"))
                .first() else { return nil }
            return Stored(metadata: try Metadata(json: try JSONValue.parse(try row.decode(column: "metadata", as: String.self))),
                          resourceVersion: try row.decode(column: "resource_version", as: Int.self),
                          projectDigest: try row.decode(column: "project_digest", as: String?.self))
        }
    }

    func save(_ stored: Stored) async throws {
        let table = metadataTable
        let text = stored.metadata.json.jsonText()
        try await store.transaction { db in
            try await db.raw(SQLQueryString("""
                INSERT INTO \(unsafeRaw: table) (id, metadata, resource_version, project_digest)
                VALUES (1, \(bind: text), \(bind: stored.resourceVersion), \(bind: stored.projectDigest))
                ON CONFLICT (id) DO UPDATE SET metadata = excluded.metadata, resource_version = excluded.resource_version,
                project_digest = excluded.project_digest
                """)).run()
        }
    }

    /// Runs the migrations not yet applied, each in its own transaction, oldest first; answers the versions it ran.
    func apply(_ migrations: [HasuraProject.Migration]) async throws -> [Int64] {
        let table = migrationsTable
        let applied = Set(try await store.read { db in
            try await db.raw(SQLQueryString("SELECT version FROM \(unsafeRaw: table) WHERE dirty = \(unsafeRaw: store.dialect == .postgres ? "false" : "0")"))
                .all().map { try $0.decode(column: "version", as: Int64.self) }
        })
        var ran: [Int64] = []
        for migration in migrations where !applied.contains(migration.version) {
            let record = store.dialect == .postgres
                ? "INSERT INTO \(table) (version, dirty) VALUES (\(migration.version), false) ON CONFLICT (version) DO UPDATE SET dirty = false"
                : "INSERT INTO \(table) (version, dirty) VALUES (\(migration.version), 0) ON CONFLICT (version) DO UPDATE SET dirty = 0"
            do {
                _ = try await store.script(SQLScript.statements(migration.sql) + [record])
            } catch {
                throw MigrationFailure(version: migration.version, name: migration.name, underlying: error)
            }
            ran.append(migration.version)
        }
        return ran
    }
}

public struct MigrationFailure: Error, CustomStringConvertible {
    public let version: Int64
    public let name: String
    public let underlying: any Error
    public var description: String { "migration \(version)_\(name) failed: \(String(reflecting: underlying))" }
}
