import Foundation
import SQLKit
import TesseraCore
import TesseraStore
import TesseraTokens

/// One field of a bulk export: a profile path (`email`, `user_metadata.plan`, `identities[0].connection`) and the
/// name it is written under.
public struct ExportField: Sendable, Equatable {
    public var name: String
    public var exportAs: String?

    var column: String { exportAs ?? name }

    var wire: JSONValue {
        var fields: [String: JSONValue] = ["name": .string(name)]
        if let exportAs { fields["export_as"] = .string(exportAs) }
        return .object(fields)
    }

    /// The value at the path, nil when any step is missing.
    func value(in profile: [String: JSONValue]) -> JSONValue? {
        var current: JSONValue = .object(profile)
        for step in name.split(separator: ".", omittingEmptySubsequences: false) {
            var key = Substring(step)
            var indexes: [Int] = []
            while key.hasSuffix("]"), let open = key.lastIndex(of: "["), let index = Int(key[key.index(after: open)..<key.index(before: key.endIndex)]) {
                indexes.insert(index, at: 0)
                key = key[..<open]
            }
            guard let next = current.objectValue?[String(key)] else { return nil }
            current = next
            for index in indexes {
                guard let items = current.arrayValue, index >= 0, index < items.count else { return nil }
                current = items[index]
            }
        }
        return current
    }
}

/// An Auth0 `users_export` job. Tessera writes the file as it is downloaded, from the users as they are then, so a
/// job is complete as soon as it exists and nothing is kept on disk (every instance sharing a PostgreSQL store can
/// serve the download).
public struct UserExport: Sendable, Equatable {
    public enum Format: String, Sendable { case json, csv }

    public var id: String
    public var connectionID: String?
    public var format: Format
    public var limit: Int?
    public var fields: [ExportField]
    public var downloadToken: String
    public var createdAt: String
    public var expiresAt: String

    /// The job as Auth0 shows it; `location` is the download URL under `baseURL` (the issuer).
    public func wire(baseURL: String) -> JSONValue {
        var body: [String: JSONValue] = [
            "type": "users_export", "status": "completed", "id": .string(id), "format": .string(format.rawValue),
            "fields": .array(fields.map(\.wire)), "created_at": .string(createdAt),
            "location": .string(downloadURL(baseURL: baseURL)),
        ]
        if let connectionID {
            body["connection_id"] = .string(connectionID)
            body["connection"] = .string(User.databaseConnection)
        }
        if let limit { body["limit"] = .number(Double(limit)) }
        return .object(body)
    }

    public func downloadURL(baseURL: String) -> String {
        let base = baseURL.hasSuffix("/") ? baseURL : baseURL + "/"
        return "\(base)api/v2/jobs/\(id)/\(fileName)?token=\(downloadToken)"
    }

    public var fileName: String { "users.\(format.rawValue).gz" }
}

/// `POST /api/v2/jobs/users-exports`, `GET /api/v2/jobs/{id}` and the download behind a job's `location`.
public struct UserExports: Sendable {
    /// Tessera's one database connection, as Actions' `event.connection.id` names it.
    public static let databaseConnectionID = "con_tessera_database"
    /// How long a job and its download URL live: the URL is a bearer capability, so not for long.
    public static let lifetime: TimeInterval = 3600
    public static let maximumFields = 30
    /// What an export holds when the request names no fields: the profile's scalar fields.
    public static let defaultFields = [
        "user_id", "email", "email_verified", "username", "name", "given_name", "family_name", "nickname", "picture",
        "created_at", "updated_at", "last_login", "logins_count", "blocked",
    ].map { ExportField(name: $0) }
    static let pageSize = 500

    let store: Store
    let clock: TesseraClock
    let users: Users

    public func create(_ body: JSONValue) async throws -> UserExport {
        let payload = try Payload(body, allowed: ["connection_id", "format", "limit", "fields"])
        let connectionID = try payload.string("connection_id", maxLength: 64)
        if let connectionID, connectionID != Self.databaseConnectionID {
            throw DomainError.notFound("The connection does not exist", code: "inexistent_connection")
        }
        let formatText = try payload.string("format", maxLength: 8) ?? "json"
        guard let format = UserExport.Format(rawValue: formatText) else {
            throw DomainError.invalidBody("Payload validation error: 'No enum match for: \"\(formatText)\"' on property format (Format of the file. Must be json or csv).")
        }
        let fields = try Self.fields(try payload.array("fields"))
        let now = clock.now()
        let export = UserExport(
            id: RandomToken.identifier(prefix: "job", bytes: 12), connectionID: connectionID, format: format,
            limit: try payload.integer("limit", range: 1...Int(Int32.max)), fields: fields ?? Self.defaultFields,
            downloadToken: RandomToken.hex(bytes: 24), createdAt: Timestamp.string(now),
            expiresAt: Timestamp.string(now.addingTimeInterval(Self.lifetime)))
        try await store.transaction { db in
            try await db.delete(from: "user_exports").where("expires_at", .lessThan, export.createdAt).run()
            try await db.insert(into: "user_exports")
                .columns("id", "connection_id", "format", "record_limit", "fields", "download_token", "created_at", "expires_at")
                .values(SQLBind(export.id), SQLBind(export.connectionID), SQLBind(export.format.rawValue), SQLBind(export.limit),
                        jsonBind(.array(export.fields.map(\.wire))), SQLBind(export.downloadToken), SQLBind(export.createdAt),
                        SQLBind(export.expiresAt))
                .run()
        }
        return export
    }

    static func fields(_ items: [JSONValue]?) throws -> [ExportField]? {
        guard let items else { return nil }
        guard !items.isEmpty, items.count <= maximumFields else {
            throw DomainError.invalidBody("Payload validation error: 'Array must have between 1 and \(maximumFields) items' on property fields.")
        }
        let fields = try items.map { item in
            let field = try Payload(item, allowed: ["name", "export_as"])
            let name = try field.requiredString("name", maxLength: 200)
            guard !name.isEmpty, !name.contains(".."), !name.hasPrefix("."), !name.hasSuffix(".") else {
                throw DomainError.invalidBody("Payload validation error: 'Invalid field name: \(name)' on property fields.")
            }
            return ExportField(name: name, exportAs: try field.string("export_as", maxLength: 200))
        }
        // Two fields written under one name would lose one of them.
        var columns = Set<String>()
        for field in fields where !columns.insert(field.column).inserted {
            throw DomainError.invalidBody("Payload validation error: 'Two fields are exported as \(field.column)' on property fields.")
        }
        return fields
    }

    /// A job that exists and has not expired; unknown and expired ids read alike.
    public func get(_ id: String) async throws -> UserExport {
        let now = Timestamp.string(clock.now())
        guard let row = try await store.read({ db in
            try await db.select().columns("*").from("user_exports").where("id", .equal, id).where("expires_at", .greaterThan, now).first()
        }) else {
            throw DomainError.notFound("The job does not exist", code: "inexistent_job")
        }
        let fields = try Self.fields(try JSONValue.parse(try row.string("fields")).arrayValue) ?? Self.defaultFields
        return UserExport(
            id: try row.string("id"), connectionID: try row.optionalString("connection_id"),
            format: UserExport.Format(rawValue: try row.string("format")) ?? .json,
            limit: try row.decodeNil(column: "record_limit") ? nil : try row.integer("record_limit"), fields: fields,
            downloadToken: try row.string("download_token"), createdAt: try row.string("created_at"),
            expiresAt: try row.string("expires_at"))
    }

    /// The job behind a download URL: its token is compared in constant time, and a wrong one reads as no job.
    /// The export behind a job's `location`: the job, its file's name and the URL's capability must all match.
    public func download(_ id: String, file: String, token: String) async throws -> UserExport {
        let export = try await get(id)
        guard OpaqueSecret.matches(token, digest: OpaqueSecret.digest(export.downloadToken)), file == export.fileName else {
            throw DomainError.notFound("The job does not exist", code: "inexistent_job")
        }
        return export
    }

    /// The file's content, uncompressed, a page of users at a time: NDJSON (one object a line, keys as exported,
    /// missing values left out) or CSV (a header line, then one line a user).
    public func write(_ export: UserExport, to sink: ([UInt8]) async throws -> Void) async throws {
        if export.format == .csv {
            try await sink(Array((export.fields.map { Self.csvCell(.string($0.column)) }.joined(separator: ",") + "\n").utf8))
        }
        var search = UserSearch()
        var written = 0
        search.checkpoint = .init(after: nil, take: Self.pageSize)
        while true {
            if let limit = export.limit { search.checkpoint?.take = min(Self.pageSize, limit - written) }
            guard search.checkpoint!.take > 0 else { return }
            let page = try await users.search(search, includeTotals: false)
            var text = ""
            for user in page.users {
                let profile = user.profile
                switch export.format {
                case .json:
                    var line: [String: JSONValue] = [:]
                    for field in export.fields { line[field.column] = field.value(in: profile) }
                    text += JSONValue.object(line).jsonText() + "\n"
                case .csv:
                    text += export.fields.map { Self.csvCell(($0.value(in: profile))) }.joined(separator: ",") + "\n"
                }
            }
            written += page.users.count
            try await sink(Array(text.utf8))
            guard let last = page.users.last, page.next != nil else { return }
            search.checkpoint?.after = last.userID
        }
    }

    /// RFC 4180: quoted when it holds a comma, quote or line break; objects and arrays as their JSON.
    static func csvCell(_ value: JSONValue?) -> String {
        let text: String
        switch value {
        case nil, .null?: return ""
        case .string(let string)?: text = string
        case let other?: text = other.jsonText()
        }
        // Scalars, not Characters: "\r\n" is one Character, equal to neither "\r" nor "\n".
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
