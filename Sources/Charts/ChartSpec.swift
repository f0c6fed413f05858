import Foundation
import TesseraCore

public enum ChartType: String, Sendable, CaseIterable {
    case line, area, bar, barList = "bar_list", donut, table
}

/// A chart of one endpoint: what to draw (type, index column, category columns) and how (title, colours, height),
/// with default parameters for the pipe. Tinybird's chart fields, in its JSON names.
public struct ChartSpec: Sendable, Equatable {
    public var id: String
    public var pipe: String
    public var type: ChartType
    public var index: String
    public var categories: [String]
    public var title: String
    public var description: String
    public var colors: [String]
    public var height: Int
    public var parameters: [String: String]

    public static let defaultColors = ["#2563eb", "#f97316", "#10b981", "#a855f7", "#ef4444", "#0ea5e9", "#eab308", "#64748b"]
    static let fields: Set<String> = ["id", "name", "title", "type", "index", "categories", "description", "colors", "height",
                                      "params", "parameters", "pipe"]

    /// Reads a chart from a request body or a tenant file entry; `existing` supplies what an update leaves out.
    public init(pipe: String, body: JSONValue, existing: ChartSpec? = nil) throws {
        let payload = try Payload(body, allowed: Self.fields)
        self.pipe = pipe
        if let id = try payload.string("id") {
            guard let uuid = UUID(uuidString: id) else { throw DomainError.invalidBody("id must be a UUID") }
            self.id = existing?.id ?? uuid.uuidString.lowercased()
        } else {
            id = existing?.id ?? UUID().uuidString.lowercased()
        }
        let typeName = try payload.string("type") ?? existing?.type.rawValue ?? "bar"
        guard let type = ChartType(rawValue: typeName) else {
            throw DomainError.invalidBody("type must be one of \(ChartType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.type = type
        guard let index = try payload.string("index", maxLength: 100) ?? existing?.index else {
            throw DomainError.invalidBody("index (the column for labels or the x axis) is required")
        }
        self.index = index
        categories = try payload.strings("categories", maxCount: 12) ?? existing?.categories ?? []
        guard !categories.isEmpty else { throw DomainError.invalidBody("categories (the value columns to draw) needs at least one column") }
        title = try payload.string("title", maxLength: 200) ?? payload.string("name", maxLength: 200) ?? existing?.title ?? pipe
        description = try payload.string("description", maxLength: 1000) ?? existing?.description ?? ""
        colors = try payload.strings("colors", maxCount: 12) ?? existing?.colors ?? []
        for color in colors where color.wholeMatch(of: /#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?/) == nil {
            throw DomainError.invalidBody("colors are #rgb or #rrggbb values, got \(color.prefix(20))")
        }
        height = try payload.integer("height", range: 120...1200) ?? existing?.height ?? 300
        var parameters = existing?.parameters ?? [:]
        if let given = try payload.object("params") ?? payload.object("parameters") {
            parameters = [:]
            for (key, value) in given { parameters[key] = value.stringValue ?? value.jsonText() }
        }
        self.parameters = parameters
    }

    public func color(_ index: Int) -> String {
        let palette = colors.isEmpty ? Self.defaultColors : colors
        return palette[index % palette.count]
    }

    public var wire: JSONValue {
        .object([
            "id": .string(id), "pipe": .string(pipe), "type": .string(type.rawValue), "index": .string(index),
            "categories": .array(categories.map(JSONValue.string)), "title": .string(title), "name": .string(title),
            "description": .string(description), "colors": .array(colors.map(JSONValue.string)), "height": .number(Double(height)),
            "params": .object(parameters.mapValues(JSONValue.string)),
        ])
    }
}
