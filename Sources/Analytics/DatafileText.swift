/// Writes definitions back as Tinybird datafiles (`tb pull` reads these, `tb push` sends them back): the same syntax
/// ``Datafile`` reads, so a pulled file parses to the definition it came from.
extension Datafile {
    public static func text(_ definition: DataSourceDefinition) -> String {
        var out = ""
        if !definition.description.isEmpty { out += block("DESCRIPTION", definition.description) + "\n" }
        for token in definition.tokens { out += "TOKEN \"\(token.name)\" \(token.permission)\n\n" }
        out += "SCHEMA >\n" + definition.columns.map { "    " + $0.schemaText }.joined(separator: ",\n") + "\n"
        let engine = definition.engine.filter { $0.hasPrefix("ENGINE") }
        if !engine.isEmpty { out += "\n" + engine.joined(separator: "\n") + "\n" }
        return out
    }

    public static func text(_ definition: PipeDefinition) -> String {
        var out = ""
        if !definition.description.isEmpty { out += block("DESCRIPTION", definition.description) + "\n" }
        for token in definition.tokens { out += "TOKEN \"\(token)\" READ\n\n" }
        for node in definition.nodes {
            out += "NODE \(node.name)\n"
            if !node.description.isEmpty { out += block("DESCRIPTION", node.description) }
            out += block("SQL", node.sql)
            if !node.type.isEmpty { out += "TYPE \(node.type.uppercased())\n" }
            if let target = node.datasource { out += "DATASOURCE \(target)\n" }
            out += "\n"
        }
        return out
    }

    /// The line after the data source schema's columns, as `POST /v0/datasources?schema=` takes it.
    public static func schemaLine(_ columns: [ColumnSpec]) -> String {
        columns.map(\.schemaText).joined(separator: ", ")
    }

    /// A node's SQL as `tb push` sends it keeps the file's indentation after a leading `%` line; the lines are stored
    /// as a datafile's SQL block stores them, without their common indentation, so pulling and pushing back is stable.
    public static func dedentedTemplate(_ sql: String) -> String {
        let lines = sql.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.first, first.trimmingCharacters(in: .whitespaces) == "%" else { return sql }
        return (["%"] + dedent(Array(lines.dropFirst()))).joined(separator: "\n")
    }

    static func block(_ keyword: String, _ text: String) -> String {
        "\(keyword) >\n" + text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : "    " + $0 }.joined(separator: "\n") + "\n"
    }
}
