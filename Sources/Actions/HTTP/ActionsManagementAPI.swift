import Foundation
import Hummingbird
import IdentityManagement
import TesseraCore
import TesseraHTTP
import TesseraTokens

/// Auth0's Actions endpoints of the Management API: actions, deploy, test, post-login bindings, executions.
public struct ActionsManagementAPI: Sendable {
    let actions: ActionStore
    let runner: ActionRunner
    let authorizer: ManagementAuthorizer

    public init(actions: ActionStore, runner: ActionRunner, tokens: TokenService) {
        self.actions = actions
        self.runner = runner
        self.authorizer = ManagementAuthorizer(tokens: tokens)
    }

    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        let api = router.group("api/v2/actions").add(middleware: ErrorEnvelopeMiddleware<Auth0ManagementErrors, Context>())
        let actions = self.actions, runner = self.runner, authorizer = self.authorizer
        api.get("actions") { request, _ in
            try await authorizer.authorize(request, anyOf: [.readActions])
            let records = try await actions.list()
            return try JSONResponse.make(JSONValue.object([
                "actions": .array(records.map(\.wire)), "total": .number(Double(records.count)),
                "page": .number(0), "per_page": .number(Double(records.count)),
            ]))
        }
        api.post("actions") { request, _ in
            try await authorizer.authorize(request, anyOf: [.createActions])
            let record = try await actions.create(try await BodyReader.json(request, limit: 256 * 1024), runner: runner)
            return try JSONResponse.make(record.wire, status: .created)
        }
        api.get("actions/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.readActions])
            return try JSONResponse.make(try await actions.get(try context.pathParameter("id")).wire)
        }
        api.patch("actions/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.updateActions])
            let record = try await actions.update(try context.pathParameter("id"),
                                                  try await BodyReader.json(request, limit: 256 * 1024), runner: runner)
            return try JSONResponse.make(record.wire)
        }
        api.delete("actions/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.deleteActions])
            try await actions.delete(try context.pathParameter("id"))
            return JSONResponse.empty()
        }
        api.post("actions/:id/deploy") { request, context in
            try await authorizer.authorize(request, anyOf: [.updateActions, .createActions])
            let version = try await actions.deploy(try context.pathParameter("id"), runner: runner)
            return try JSONResponse.make(version.wire, status: .created)
        }
        api.get("actions/:id/versions") { request, context in
            try await authorizer.authorize(request, anyOf: [.readActions])
            let versions = try await actions.versions(try context.pathParameter("id"))
            return try JSONResponse.make(JSONValue.object([
                "versions": .array(versions.map(\.wire)), "total": .number(Double(versions.count)),
                "page": .number(0), "per_page": .number(Double(versions.count)),
            ]))
        }
        api.get("actions/:id/versions/:version") { request, context in
            try await authorizer.authorize(request, anyOf: [.readActions])
            return try JSONResponse.make(try await actions.version(try context.pathParameter("id"),
                                                                   try context.pathParameter("version")).wire)
        }
        api.post("actions/:id/versions/:version/deploy") { request, context in
            try await authorizer.authorize(request, anyOf: [.updateActions, .createActions])
            let version = try await actions.rollBack(try context.pathParameter("id"), to: try context.pathParameter("version"),
                                                     runner: runner)
            return try JSONResponse.make(version.wire, status: .created)
        }
        api.post("actions/:id/test") { request, context in
            try await authorizer.authorize(request, anyOf: [.updateActions, .createActions])
            let record = try await actions.get(try context.pathParameter("id"))
            let body = try Payload(try await BodyReader.json(request, limit: 256 * 1024), allowed: ["payload"])
            let event = ActionEvent.merged(ActionEvent.samplePostLogin, with: try body.object("payload") ?? [:],
                                           secrets: record.secrets, configuration: record.configuration)
            let result = await ActionTest.run(runner, code: record.code, event: event, outbound: try await actions.outboundPolicy())
            // The test's logs and errors may quote a secret; the response never does.
            return try JSONResponse.make(JSONValue.object(["payload": SecretMask.apply(to: result, secrets: record.secrets)]))
        }
        api.get("triggers/:trigger/bindings") { request, context in
            try await authorizer.authorize(request, anyOf: [.readActions])
            let trigger = try context.pathParameter("trigger")
            let records = try await actions.bindings(trigger)
            return try JSONResponse.make(JSONValue.object(["bindings": .array(records.enumerated().map { index, record in
                .object(["id": .string("\(trigger)-\(index)"), "trigger_id": .string(trigger),
                         "display_name": .string(record.name), "action": record.wire])
            })]))
        }
        api.patch("triggers/:trigger/bindings") { request, context in
            try await authorizer.authorize(request, anyOf: [.updateActions])
            let trigger = try context.pathParameter("trigger")
            guard trigger == ActionStore.postLogin else {
                throw DomainError.notFound("Unknown trigger \(trigger)", code: "inexistent_trigger")
            }
            let body = try Payload(try await BodyReader.json(request), allowed: ["bindings"])
            var names: [String] = []
            // Auth0 requires the list: an empty body must not unbind the whole flow; `[]` does that on purpose.
            guard let bindings = try body.array("bindings") else {
                throw DomainError.invalidBody("Payload validation error: 'Missing required property: bindings'.")
            }
            for binding in bindings {
                let fields = try Payload(binding, allowed: ["ref", "display_name", "secrets"])
                guard let ref = try fields.object("ref") else {
                    throw DomainError.invalidBody("Payload validation error: 'Missing required property: ref' on property bindings.")
                }
                let reference = try Payload(.object(ref), allowed: ["type", "value"])
                let value = try reference.requiredString("value")
                switch try reference.requiredString("type") {
                case "action_name": names.append(value)
                case "action_id": names.append(try await actions.name(of: value))
                case let other: throw DomainError.invalidBody("Unsupported binding reference type \(other)")
                }
            }
            _ = try await actions.bind(trigger: trigger, names: names)
            let records = try await actions.bindings(trigger)
            return try JSONResponse.make(JSONValue.object(["bindings": .array(records.map { .object([
                "trigger_id": .string(trigger), "display_name": .string($0.name), "action": $0.wire]) })]))
        }
        // Tessera's addition: the newest executions, `?per_page=` (at most 100), for the console.
        api.get("executions") { request, _ in
            try await authorizer.authorize(request, anyOf: [.readActions])
            let limit = Int(try request.query["per_page"] ?? "50") ?? 50
            return try JSONResponse.make(JSONValue.object(["executions": .array(try await actions.recentExecutions(limit: limit))]))
        }
        api.get("executions/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.readActions])
            guard let execution = try await actions.execution(try context.pathParameter("id")) else {
                throw DomainError.notFound("The execution does not exist.", code: "inexistent_execution")
            }
            return try JSONResponse.make(execution)
        }
    }
}

/// Runs an action against an event without a sign-in and describes what it did (the dashboard's "Test").
public enum ActionTest {
    public static func run(_ runner: ActionRunner, code: String, event: JSONValue,
                           outbound: OutboundPolicy = OutboundPolicy()) async -> JSONValue {
        do {
            // A test has a browser in mind: an Action may show what its redirect would do.
            let execution = try await runner.run(code: code, event: event, outbound: outbound, invocation: ["canRedirect": true])
            var commands: [JSONValue] = []
            for (name, value) in execution.idTokenClaims.sorted(by: { $0.key < $1.key }) {
                commands.append(.object(["name": .string("idToken.setCustomClaim"), "key": .string(name), "value": value]))
            }
            for (name, value) in execution.accessTokenClaims.sorted(by: { $0.key < $1.key }) {
                commands.append(.object(["name": .string("accessToken.setCustomClaim"), "key": .string(name), "value": value]))
            }
            for (name, value) in execution.appMetadata.sorted(by: { $0.key < $1.key }) {
                commands.append(.object(["name": .string("user.setAppMetadata"), "key": .string(name), "value": value]))
            }
            for (name, value) in execution.userMetadata.sorted(by: { $0.key < $1.key }) {
                commands.append(.object(["name": .string("user.setUserMetadata"), "key": .string(name), "value": value]))
            }
            if let reason = execution.denyReason {
                commands.append(.object(["name": .string("access.deny"), "reason": .string(reason)]))
            }
            if let redirect = execution.redirect {
                commands.append(.object(["name": .string("redirect.sendUserTo"), "url": .string(redirect.url),
                                         "query": .object(redirect.query.mapValues(JSONValue.string))]))
            }
            if let multifactor = execution.multifactor {
                commands.append(.object(["name": .string("multifactor.enable"), "provider": .string(multifactor.provider),
                                         "allowRememberBrowser": .bool(multifactor.allowRememberBrowser)]))
            }
            if let reason = execution.revokeSession {
                commands.append(.object(["name": .string("session.revoke"), "reason": .string(reason)]))
            }
            return .object(["commands": .array(commands), "logs": .string(execution.logs.map(\.message).joined(separator: "\n"))])
        } catch {
            var logs = ""
            if case .failed(_, let lines)? = error as? ActionError { logs = lines.map(\.message).joined(separator: "\n") }
            return .object(["error": .object(["message": .string("\(error)")]), "logs": .string(logs)])
        }
    }
}
