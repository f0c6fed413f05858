import Foundation
import TesseraCore

/// `GET /api/v2/users`' query string (`q`, `page`, `per_page`, `sort`, `from`, `take`), read into a ``UserSearch``
/// with Auth0's validation messages.
extension UserSearch {
    /// Reads the query string parameters Auth0 defines, refusing values it would refuse.
    public init(parameters: [String: String]) throws {
        if let q = parameters["q"], !q.trimmingCharacters(in: .whitespaces).isEmpty {
            guard q.count <= 2_000 else { throw DomainError.invalidQuery("Query validation error: 'q is too long' on property q.") }
            query = try UserQuery.parse(q)
        }
        page = try Self.integer(parameters, "page", range: 0...Int(Int32.max)) ?? 0
        perPage = try Self.integer(parameters, "per_page", range: 1...Self.maxPerPage) ?? 50
        if let sort = parameters["sort"] {
            let parts = sort.split(separator: ":")
            guard parts.count == 2, Self.sortable.contains(String(parts[0])), parts[1] == "1" || parts[1] == "-1" else {
                throw DomainError.invalidQuery("Query validation error: 'sort must be field:1 or field:-1 with a sortable field' on property sort.")
            }
            sortColumn = String(parts[0])
            ascending = parts[1] == "1"
        }
        if parameters["from"] != nil || parameters["take"] != nil {
            var after: String?
            if let from = parameters["from"], !from.isEmpty {
                guard let data = Data(base64URLEncoded: from), let decoded = String(data: data, encoding: .utf8) else {
                    throw DomainError.invalidQuery("Query validation error: 'from is not a checkpoint this server issued' on property from.")
                }
                after = decoded
            }
            checkpoint = Checkpoint(after: after, take: try Self.integer(parameters, "take", range: 1...Self.maxPerPage) ?? 50)
        }
    }

    static func integer(_ parameters: [String: String], _ name: String, range: ClosedRange<Int>) throws -> Int? {
        guard let text = parameters[name] else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw DomainError.invalidQuery("Query validation error: '\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)' on property \(name).")
        }
        return value
    }
}
