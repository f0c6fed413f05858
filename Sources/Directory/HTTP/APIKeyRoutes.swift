import Foundation
import Hummingbird
import TesseraCore
import TesseraHTTP

/// API keys under `/admin/v1/apiKeys`: Tessera's addition (UserHub makes them in its admin console), so that the
/// console, like any client with an admin key, can list, create and delete them. A key's text is in the answer that
/// created it and nowhere else.
extension DirectoryAPI {
    func addAPIKeyRoutes(_ admin: RouterGroup<Context>) {
        admin.get("apiKeys") { request, _ in
            try await authorize(request, verb: nil)
            try Self.noParameters(request)
            return JSONResponse.text(JSONValue.object(["apiKeys": .array(try await directory.keys.list().map(\.wire))]).jsonText())
        }
        admin.post("apiKeys") { request, _ in
            try await authorize(request, verb: nil)
            try Self.noParameters(request)
            guard case .object(var fields) = try await BodyReader.json(request) else {
                throw DirectoryError.invalid("body", "The request body must be a JSON object")
            }
            guard case .string(let description)? = fields.removeValue(forKey: "description"),
                  !description.trimmingCharacters(in: .whitespaces).isEmpty, description.count <= 200 else {
                throw DirectoryError.invalid("description", "description is required (1 to 200 characters)")
            }
            var integration: String?
            if let value = fields.removeValue(forKey: "integration"), value != .null {
                guard case .string(let name) = value else { throw DirectoryError.invalid("integration", "integration must be a string") }
                integration = name.lowercased()
            }
            var expires: Date?
            if let value = fields.removeValue(forKey: "expireTime"), value != .null {
                guard case .string(let text) = value, let date = RFC3339.date(text) else {
                    throw DirectoryError.invalid("expireTime", "expireTime must be an RFC 3339 time")
                }
                expires = date
            }
            try Self.noFields(fields)
            let created = try await directory.keys.create(description: description, integration: integration, expires: expires)
            var wire = created.record.wire.objectValue ?? [:]
            wire["key"] = .string(created.key)
            return JSONResponse.text(JSONValue.object(wire).jsonText())
        }
        admin.delete("apiKeys/:key") { request, context in
            let caller = try await authorize(request, verb: nil)
            let id = try context.pathParameter("key")
            guard id != caller.id else {
                throw DirectoryError.invalid("key", "A key cannot delete itself: delete it with another admin key")
            }
            guard try await directory.keys.delete(id: id) else { throw DirectoryError(.notFound, "No API key \(id)") }
            return JSONResponse.text("{}")
        }
    }
}
