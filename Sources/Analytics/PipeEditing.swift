import TesseraCore

extension PipeRecord {
    /// A node's id: stable for a pipe's version, its id and the node's place.
    public func nodeID(_ index: Int) -> String { "\(id)_\(index)" }

    /// The place of the node named or identified so.
    public func nodeIndex(_ nameOrID: String) -> Int? {
        definition.nodes.indices.first { definition.nodes[$0].name == nameOrID || nodeID($0) == nameOrID }
    }
}

/// Changes to pipes and data sources made a node or a question at a time (as Tinybird's API and `tb` make them), not
/// by whole datafiles.
extension Analytics {
    /// Appends a node; it is held to the rules of one pushed in a datafile.
    public func appendNode(to pipe: PipeRecord, name: String?, sql: String, description: String,
                           in workspace: Workspace) async throws -> (pipe: PipeRecord, index: Int) {
        let sql = Datafile.dedentedTemplate(sql)
        guard !sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw DomainError.invalidQuery("A node needs its SQL as the body (or the sql parameter)")
        }
        var definition = pipe.definition
        let name = name ?? "\(pipe.name)_\(definition.nodes.count)"
        guard !definition.nodes.contains(where: { $0.name == name }) else {
            throw DomainError.conflict("The pipe \(pipe.name) already has a node named \(name)")
        }
        var node = PipeNode(name: name, sql: sql)
        node.description = description
        definition.nodes.append(node)
        let checked = try Datafile.pipe(name: pipe.name, text: Datafile.text(definition), file: "\(pipe.name).pipe")
        let (saved, _) = try await savePipe(checked, in: workspace)
        return (saved, saved.definition.nodes.count - 1)
    }

    /// Makes one node the pipe's endpoint.
    public func publish(node nameOrID: String, of pipe: PipeRecord, in workspace: Workspace) async throws -> PipeRecord {
        guard let index = pipe.nodeIndex(nameOrID) else { throw DomainError.notFound("Node \(nameOrID) not found") }
        guard pipe.definition.materializedNode == nil else {
            throw DomainError.invalidQuery("The pipe \(pipe.name) is a materialized view; an endpoint needs a pipe of its own")
        }
        var definition = pipe.definition
        for position in definition.nodes.indices { definition.nodes[position].type = position == index ? "ENDPOINT" : "" }
        return try await savePipe(definition, in: workspace).0
    }

    /// The pipes whose nodes read a data source.
    public func dependentPipes(of dataSource: DataSourceRecord, in workspace: Workspace) async throws -> [PipeRecord] {
        try await catalog.pipes(in: workspace).filter { pipe in
            pipe.definition.nodes.contains { Endpoints.mentions($0.sql, dataSource.name) || $0.datasource == dataSource.name }
        }
    }
}
