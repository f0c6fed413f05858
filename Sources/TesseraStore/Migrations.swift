import Foundation
import SQLKit
import TesseraCore

/// One versioned schema change. The statements are written in the SQL both dialects share
/// (TEXT, BIGINT, BOOLEAN, foreign keys with ON DELETE CASCADE), so there is one schema, not two.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: [String]

    public init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

public enum Migrator {
    /// Applies every migration newer than the database's, in order, each in its own transaction.
    /// On PostgreSQL an advisory lock makes instances starting together take turns.
    @discardableResult
    public static func migrate(_ store: Store, migrations: [Migration] = Schema.migrations) async throws -> [Int] {
        try await store.transaction { db in
            try await store.serialize(.migrations, in: db)
            try await db.raw("""
                CREATE TABLE IF NOT EXISTS tessera_migrations (
                    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)
                """).run()
        }
        var applied: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            let didApply = try await store.transaction { db in
                try await store.serialize(.migrations, in: db)
                let existing = try await db.select().column("version").from("tessera_migrations")
                    .where("version", .equal, migration.version).first()
                guard existing == nil else { return false }
                for statement in migration.statements {
                    try await db.raw(SQLQueryString(statement)).run()
                }
                try await db.insert(into: "tessera_migrations")
                    .columns("version", "name", "applied_at")
                    .values(SQLBind(migration.version), SQLBind(migration.name), SQLBind(Timestamp.string(Date())))
                    .run()
                return true
            }
            if didApply { applied.append(migration.version) }
        }
        return applied
    }
}
