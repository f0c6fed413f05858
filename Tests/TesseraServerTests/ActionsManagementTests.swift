import Foundation
import Testing
import TesseraCore

@Suite struct ActionsManagementTests {
    @Test(arguments: StoreKind.available)
    func actionsAsDataDeployTestBindAndNeverShowSecrets(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        try await harness.test { http in
            let token = try await http.managementToken()
            let code = try seedCode("tinybird-jwt.js")
            let created = try await http.request(.post, "/api/v2/actions/actions", token: token, json: .object([
                "name": .string("Tinybird JWT"), "code": .string(code),
                "supported_triggers": .array([.object(["id": .string("post-login"), "version": .string("v3")])]),
                "dependencies": .array([.object(["name": .string("jsonwebtoken"), "version": .string("9.0.0")])]),
                "secrets": .array([.object(["name": .string("TINYBIRD_ADMIN_TOKEN"), "value": .string("super-secret-admin-token")])]),
                "configuration": .object(["TINYBIRD_WORKSPACE_ID": .string("ws"), "TINYBIRD_PIPE_NAMES": .string("a,b")]),
            ]))
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created["id"]?.stringValue)
            #expect(!created.text.contains("super-secret-admin-token"))
            #expect(created["all_changes_deployed"] == .bool(false) && created["deployed_version"] == nil)

            // A draft is not bound-able until deployed; deploy makes it live.
            let early = try await http.request(.patch, "/api/v2/actions/triggers/post-login/bindings", token: token,
                json: .object(["bindings": .array([.object(["ref": .object(["type": .string("action_id"), "value": .string(id)])])])]))
            #expect(early.status == .notFound)
            #expect(try await http.request(.post, "/api/v2/actions/actions/\(id)/deploy", token: token).status == .created)
            let bound = try await http.request(.patch, "/api/v2/actions/triggers/post-login/bindings", token: token,
                json: .object(["bindings": .array([.object(["ref": .object(["type": .string("action_name"), "value": .string("Tinybird JWT")])])])]))
            #expect(bound.status == .ok, "\(bound.text)")
            // A body without the list is a mistake, not a request to unbind the whole flow.
            let empty = try await http.request(.patch, "/api/v2/actions/triggers/post-login/bindings", token: token, json: .object([:]))
            #expect(empty.status == .badRequest, "\(empty.text)")
            let bindings = try await http.request(.get, "/api/v2/actions/triggers/post-login/bindings", token: token)
            #expect(bindings.text.contains("Tinybird JWT") && !bindings.text.contains("super-secret-admin-token"))

            let tested = try await http.request(.post, "/api/v2/actions/actions/\(id)/test", token: token,
                json: .object(["payload": .object(["user": .object(["user_id": .string("auth0|t1"), "email": .string("t@example.com")])])]))
            #expect(tested.status == .ok)
            #expect(tested.text.contains("idToken.setCustomClaim") && tested.text.contains("https://app.tinybird.co"))
            #expect(tested.text.contains("Tinybird JWT token set for user"))
            #expect(!tested.text.contains("super-secret-admin-token"))

            let listed = try await http.request(.get, "/api/v2/actions/actions", token: token)
            #expect(listed["total"] == .number(1) && !listed.text.contains("super-secret-admin-token"))
            #expect(listed.text.contains("TINYBIRD_ADMIN_TOKEN"))

            for body: JSONValue in [
                .object(["name": .string("bad"), "code": .string("exports.onExecutePostLogin = async () => {")]),
                .object(["name": .string("fs"), "code": .string("const fs = require('fs');")]),
                .object(["name": .string("dep"), "code": .string(""), "dependencies": .array([.object(["name": .string("left-pad")])])]),
                .object(["name": .string("trigger"), "code": .string(""), "supported_triggers": .array([.object(["id": .string("pre-user-registration")])])]),
                .object(["code": .string("")]),
            ] {
                let response = try await http.request(.post, "/api/v2/actions/actions", token: token, json: body)
                #expect(response.status == .badRequest, "\(body.jsonText()): \(response.text)")
            }
            let readOnly = try await http.managementToken(scopes: ["read:actions"])
            #expect(try await http.request(.delete, "/api/v2/actions/actions/\(id)", token: readOnly).status == .forbidden)
            #expect(try await http.request(.delete, "/api/v2/actions/actions/\(id)", token: token).status == .noContent)
            #expect(try await http.request(.get, "/api/v2/actions/actions/\(id)", token: token).status == .notFound)
            #expect(try await http.request(.get, "/api/v2/actions/executions/exe_nope", token: token).status == .notFound)
        }
    }

    @Test(arguments: StoreKind.available)
    func deploysMakeNumberedVersionsThatCanBeRolledBack(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        try await harness.test { http in
            let token = try await http.managementToken()
            let v1 = "exports.onExecutePostLogin = async (event, api) => { api.idToken.setCustomClaim('https://example.com/v', 1); };"
            let v2 = v1.replacingOccurrences(of: "'https://example.com/v', 1", with: "'https://example.com/v', 2")
            let created = try await http.request(.post, "/api/v2/actions/actions", token: token,
                                                 json: .object(["name": .string("Versioned"), "code": .string(v1)]))
            let id = try #require(created["id"]?.stringValue)
            #expect(try await http.request(.get, "/api/v2/actions/actions/\(id)/versions", token: token)["total"] == .number(0))
            let first = try await http.request(.post, "/api/v2/actions/actions/\(id)/deploy", token: token)
            #expect(first.status == .created && first["number"] == .number(1) && first["deployed"] == .bool(true))
            let firstID = try #require(first["id"]?.stringValue)
            _ = try await http.request(.patch, "/api/v2/actions/actions/\(id)", token: token, json: .object(["code": .string(v2)]))
            #expect(try await http.request(.post, "/api/v2/actions/actions/\(id)/deploy", token: token)["number"] == .number(2))

            let listed = try await http.request(.get, "/api/v2/actions/actions/\(id)/versions", token: token)
            guard case .array(let versions)? = listed["versions"] else { Issue.record("no versions: \(listed.text)"); return }
            #expect(versions.map { $0.objectValue?["number"] } == [.number(2), .number(1)])
            #expect(versions.map { $0.objectValue?["deployed"] } == [.bool(true), .bool(false)])
            let one = try await http.request(.get, "/api/v2/actions/actions/\(id)/versions/\(firstID)", token: token)
            #expect(one["code"] == .string(v1) && one["deployed"] == .bool(false))

            let rolledBack = try await http.request(.post, "/api/v2/actions/actions/\(id)/versions/\(firstID)/deploy", token: token)
            #expect(rolledBack.status == .created && rolledBack["number"] == .number(3) && rolledBack["code"] == .string(v1))
            let action = try await http.request(.get, "/api/v2/actions/actions/\(id)", token: token)
            #expect(action["code"] == .string(v1) && action["all_changes_deployed"] == .bool(true))
            // An object, as Auth0's SDKs read it (auth0-python refuses a number).
            let deployed = try #require(action["deployed_version"]?.objectValue)
            #expect(deployed["number"] == .number(3) && deployed["code"] == .string(v1) && deployed["deployed"] == .bool(true))
            #expect(deployed["id"] == .string("actv_\(id.dropFirst(4))_3") && deployed["action_id"] == .string(id))
            #expect(try await http.request(.get, "/api/v2/actions/actions/\(id)/versions/actv_nope", token: token).status == .notFound)
            _ = try await http.request(.post, "/api/v2/actions/actions", token: token,
                                       json: .object(["name": .string("Other"), "code": .string(v1)]))
            let renamed = try await http.request(.patch, "/api/v2/actions/actions/\(id)", token: token, json: .object(["name": .string("Other")]))
            #expect(renamed.status == .conflict && renamed["errorCode"] == .string("action_conflict"), "\(renamed.text)")
            #expect(try await http.request(.get, "/api/v2/actions/actions/act_nope/versions", token: token).status == .notFound)
        }
    }
}

/// The repository's `examples/` folder, where the seeds' actions are kept byte for byte.
let examplesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("examples").path

func seedCode(_ name: String) throws -> String {
    try String(contentsOfFile: examplesDirectory + "/actions/" + name, encoding: .utf8)
}
