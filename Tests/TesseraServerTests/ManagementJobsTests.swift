import Foundation
import HTTPTypes
import IdentityManagement
import Testing
import TesseraCore

/// Auth0's bulk user export: `POST /api/v2/jobs/users-exports`, `GET /api/v2/jobs/{id}`, and the gzipped file at the
/// job's `location`.
@Suite struct ManagementJobsTests {
    /// The path and query of a job's `location` (the test client speaks to the router, not a host).
    static func relative(_ location: String) -> String {
        let components = URLComponents(string: location)!
        return components.path + "?" + (components.percentEncodedQuery ?? "")
    }

    static func lines(_ response: TestResponse) throws -> [String] {
        let content = try Gzip.decompress(Data(response.bytes), limit: 1 << 24)
        return String(decoding: content, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test(arguments: StoreKind.available)
    func exportsEveryUserAsGzippedNDJSONOrCSV(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        try await harness.test { http in
            let token = try await http.managementToken()
            var made: [String: String] = [:]
            // More than a page of the export's reads (500), with metadata to reach by path.
            for index in 0..<520 {
                let user = try await harness.tenant.users.create(newUserBody("export-\(index)@example.com", extra: [
                    "name": .string("Export, \"\(index)\""), "user_metadata": ["plan": .string(index % 2 == 0 ? "pro" : "free")]]))
                made[user.userID] = user.email
            }
            let created = try await http.request(.post, "/api/v2/jobs/users-exports", token: token, json: [
                "format": "json", "connection_id": "con_tessera_database",
                "fields": [["name": "user_id"], ["name": "email"], ["name": "user_metadata.plan", "export_as": "plan"],
                           ["name": "identities[0].connection"]]])
            #expect(created.status == .created, "\(created.text)")
            #expect(created["type"] == "users_export" && created["status"] == "completed" && created["format"] == "json")
            #expect(created["connection"] == "Username-Password-Authentication")
            let id = try #require(created["id"]?.stringValue)
            let location = try #require(created["location"]?.stringValue)
            #expect(location.hasPrefix(harness.tenant.issuer) && location.contains("/api/v2/jobs/\(id)/users.json.gz?token="))

            let job = try await http.request(.get, "/api/v2/jobs/\(id)", token: token)
            #expect(job.status == .ok && job.json == created.json, "\(job.text)")

            let file = try await http.request(.get, Self.relative(location))
            #expect(file.status == .ok && file.headers[.contentType] == "application/gzip" && file.headers[.contentEncoding] == nil)
            let rows = try Self.lines(file).map { try JSONValue.parse($0) }
            #expect(rows.count == 520)
            var seen: [String: String] = [:]
            for row in rows {
                let object = try #require(row.objectValue)
                #expect(Set(object.keys) == ["user_id", "email", "plan", "identities[0].connection"], "\(row)")
                #expect(object["identities[0].connection"] == "Username-Password-Authentication")
                seen[object["user_id"]!.stringValue!] = object["email"]?.stringValue
            }
            #expect(seen == made)

            // CSV, limited: a header of the names as exported, then quoted cells where needed.
            let csvJob = try await http.request(.post, "/api/v2/jobs/users-exports", token: token, json: [
                "format": "csv", "limit": 3, "fields": [["name": "email"], ["name": "name", "export_as": "Full name"]]])
            let csv = try Self.lines(try await http.request(.get, Self.relative(try #require(csvJob["location"]?.stringValue))))
            #expect(csv.count == 4 && csv[0] == "email,Full name", "\(csv)")
            #expect(csv.dropFirst().allSatisfy { $0.hasPrefix("export-") && $0.contains(#","Export, """#) }, "\(csv)")

            // Without fields: the profile's scalar fields.
            let plain = try await http.request(.post, "/api/v2/jobs/users-exports", token: token, json: ["limit": 1])
            let first = try JSONValue.parse(try Self.lines(try await http.request(.get, Self.relative(try #require(plain["location"]?.stringValue))))[0])
            #expect(first.objectValue?["user_id"] != nil && first.objectValue?["email_verified"] != nil && first.objectValue?["identities"] == nil)
        }
    }

    @Test func refusesBadJobsAndForeignDownloads() async throws {
        let harness = try await Harness.make()
        try await harness.test { http in
            let token = try await http.managementToken()
            let unscoped = try await http.managementToken(scopes: ["read:clients"])
            func refusal(_ body: JSONValue, token: String? = nil) async throws -> TestResponse {
                try await http.request(.post, "/api/v2/jobs/users-exports", token: token, json: body)
            }
            #expect(try await refusal(["format": "json"]).status == .unauthorized)
            #expect(try await refusal(["format": "json"], token: unscoped).status == .forbidden)
            let fields31: JSONValue = .array(Array(repeating: ["name": "email"], count: 31))
            var cases: [(JSONValue, HTTPResponse.Status, String)] = []
            cases.append((["format": "xml"], .badRequest, "Must be json or csv"))
            cases.append((["format": "json", "bucket": "s3://x"], .badRequest, "Additional properties not allowed: bucket"))
            cases.append((["fields": fields31], .badRequest, "between 1 and 30"))
            cases.append((["fields": []], .badRequest, "between 1 and 30"))
            cases.append((["fields": [["name": "user_metadata..x"]]], .badRequest, "Invalid field name"))
            cases.append((["fields": [["name": "email", "as": "e"]]], .badRequest, "Additional properties not allowed: as"))
            cases.append((["limit": 0], .badRequest, "limit"))
            cases.append((["connection_id": "con_' OR 1=1 --"], .notFound, "The connection does not exist"))
            cases.append((["format": .number(1)], .badRequest, "format"))
            for (body, status, words) in cases {
                let response = try await refusal(body, token: token)
                #expect(response.status == status && response["message"]?.stringValue?.contains(words) == true, "\(body): \(response.text)")
                #expect(response["statusCode"] == .number(Double(status.code)))
            }
            let job = try await refusal(["format": "json"], token: token)
            let id = try #require(job["id"]?.stringValue)
            let location = Self.relative(try #require(job["location"]?.stringValue))
            for forged in [location.replacingOccurrences(of: "token=", with: "token=0"), "/api/v2/jobs/\(id)/users.json.gz",
                           location.replacingOccurrences(of: "users.json.gz", with: "users.csv.gz"),
                           location.replacingOccurrences(of: id, with: "job_unknown")] {
                let response = try await http.request(.get, forged)
                #expect(response.status == .notFound && response["errorCode"] == "inexistent_job", "\(forged): \(response.text)")
            }
            #expect(try await http.request(.get, "/api/v2/jobs/job_unknown", token: token).status == .notFound)
            // An hour later the job and its URL are gone.
            #expect(try await http.request(.get, location).status == .ok)
            harness.clock.advance(seconds: 3601)
            #expect(try await http.request(.get, location).status == .notFound)
            #expect(try await http.request(.get, "/api/v2/jobs/\(id)", token: token).status == .notFound)
        }
    }
}
