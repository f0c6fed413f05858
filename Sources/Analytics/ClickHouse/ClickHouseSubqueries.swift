import Foundation

/// Pipe nodes chained the way ClickHouse 18.16 can run them: where a node's SQL selects `FROM` or `JOIN`s an earlier
/// node (or a data source a token filters), that name becomes the earlier SQL as a subquery under the same alias.
enum ClickHouseSubqueries {
    /// One pass over `sql`: what is written in is never scanned again, so an earlier node that already holds a
    /// filtered data source is not filtered twice.
    static func inline(_ sources: [(name: String, sql: String)], into sql: String) -> String {
        var byName: [String: String] = [:]
        for source in sources { byName[source.name.lowercased()] = source.sql }
        return replacingSources(sources.map(\.name), in: sql) { name in
            byName[name.lowercased()].map { "(\n\(SQLText.trimmed($0))\n) AS \(ClickHouseSQL.identifier(name))" }
        }
    }

    /// Where `sql` selects `FROM` or `JOIN`s one of `names`, the name as `replacement` gives it (nil leaves it).
    static func replacingSources(_ names: [String], in sql: String, with replacement: (String) -> String?) -> String {
        guard !names.isEmpty else { return sql }
        let names = names.map { NSRegularExpression.escapedPattern(for: $0) }.joined(separator: "|")
        let pattern = #"(?i)\b(FROM|JOIN)(\s+)(?:"(\#(names))"|`(\#(names))`|(\#(names)))(?![\w.])"#
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return sql }
        let text = sql as NSString
        var output = ""
        var position = 0
        for match in expression.matches(in: sql, range: NSRange(location: 0, length: text.length)) {
            let nameRange = [3, 4, 5].map { match.range(at: $0) }.first { $0.location != NSNotFound }
            guard let nameRange, let replaced = replacement(text.substring(with: nameRange)) else { continue }
            output += text.substring(with: NSRange(location: position, length: match.range.location - position))
            output += text.substring(with: match.range(at: 1)) + text.substring(with: match.range(at: 2)) + replaced
            position = match.range.location + match.range.length
        }
        output += text.substring(from: position)
        return output
    }
}
