import Foundation
import Logging
import TesseraCore

/// Every user of a source too large for Auth0's offset pages, read through its users-export job
/// (`POST /api/v2/jobs/users-exports`, polled with `GET /api/v2/jobs/{id}` until `completed`, then the gzipped
/// NDJSON at its `location`). Lines are parsed a page at a time, so the file costs its uncompressed size in memory
/// and the users only while they are written.
struct ExportedUsers: Sendable {
    /// The profile fields ``Auth0Mapping`` reads.
    static let fields = ["user_id", "email", "email_verified", "name", "nickname", "picture", "blocked", "phone_number",
                         "phone_verified", "created_at", "updated_at"]
    /// Uncompressed, 1 GiB holds some two million users.
    static let maximumBytes = 1 << 30
    /// Auth0's jobs take from seconds to many minutes: polls start at 1 s and grow to 10 s, for at most an hour.
    static let maximumWait: Double = 3600

    private let content: Data
    private let lines: [Range<Int>]

    var count: Int { lines.count }

    init(_ client: ManagementClient, logger: Logger, sleep: @Sendable (Double) async throws -> Void) async throws {
        let request: JSONValue = ["format": "json", "fields": .array(Self.fields.map { ["name": .string($0)] })]
        guard var job = try await client.post("jobs/users-exports", request)?.objectValue, let id = job["id"]?.stringValue else {
            throw DirectoryError(.unavailable, "The source answered its users-export request without a job", reason: "SOURCE_BAD_RESPONSE")
        }
        logger.info("directory export job started", metadata: ["job": "\(id)"])
        var waited = 0.0, interval = 1.0
        while job["status"]?.stringValue != "completed" {
            switch job["status"]?.stringValue {
            case "failed"?:
                throw DirectoryError(.unavailable, "The source's users-export job \(id) failed", reason: "SOURCE_EXPORT_FAILED")
            case _ where waited >= Self.maximumWait:
                throw DirectoryError(.unavailable, "The source's users-export job \(id) did not complete within an hour", reason: "SOURCE_EXPORT_FAILED")
            default:
                try await sleep(interval)
                waited += interval
                interval = min(interval * 1.5, 10)
                guard let next = try await client.get("jobs/" + id)?.objectValue else {
                    throw DirectoryError(.unavailable, "The source's users-export job \(id) is gone", reason: "SOURCE_EXPORT_FAILED")
                }
                job = next
            }
        }
        guard let location = job["location"]?.stringValue else {
            throw DirectoryError(.unavailable, "The source's users-export job \(id) completed without a location", reason: "SOURCE_BAD_RESPONSE")
        }
        let compressed = try await client.download(location)
        do {
            content = try Gzip.decompress(compressed, limit: Self.maximumBytes)
        } catch {
            throw DirectoryError(.unavailable, "The source's users-export file is not gzipped NDJSON: \(error.message)", reason: "SOURCE_BAD_RESPONSE")
        }
        var lines: [Range<Int>] = []
        content.withUnsafeBytes { bytes in
            var start = 0
            for index in 0..<bytes.count where bytes[index] == 0x0A {
                if index > start { lines.append(start..<index) }
                start = index + 1
            }
            if start < bytes.count { lines.append(start..<bytes.count) }
        }
        self.lines = lines
        logger.info("directory export file read", metadata: ["job": "\(id)", "users": "\(lines.count)", "bytes": "\(content.count)"])
    }

    func users(_ range: Range<Int>) throws -> [JSONValue] {
        try lines[range].map { line in
            do {
                return try JSONValue.parse(bytes: Array(content[line]))
            } catch {
                throw DirectoryError(.unavailable, "The source's users-export file has a line that is not JSON", reason: "SOURCE_BAD_RESPONSE")
            }
        }
    }
}
