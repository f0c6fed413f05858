import Foundation
import HTTPTypes
import Hummingbird
import TesseraCore
import TesseraHTTP
import TesseraTokens

/// The Management API v2 at `/api/v2/`: thin adapters from HTTP to the ``Tenant`` repositories.
public struct ManagementAPI: Sendable {
    let tenant: Tenant
    let authorizer: ManagementAuthorizer

    public init(tenant: Tenant, tokens: TokenService) {
        self.tenant = tenant
        self.authorizer = ManagementAuthorizer(tokens: tokens)
    }

    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        let api = router.group("api/v2").add(middleware: ErrorEnvelopeMiddleware<Auth0ManagementErrors, Context>())
        addUserRoutes(api)
        addClientRoutes(api)
        addResourceServerRoutes(api)
        addClientGrantRoutes(api)
        addRoleRoutes(api)
        addKeyRoutes(api)
        addJobRoutes(api)
        addStatsRoutes(api)
    }

    // MARK: stats

    func addStatsRoutes<Context: RequestContext>(_ api: RouterGroup<Context>) {
        let stats = tenant.stats, authorizer = self.authorizer
        api.get("stats/daily") { request, _ in
            try await authorizer.authorize(request, anyOf: [.readStats])
            let query = try request.query
            let day = try Self.day(query["to"], name: "to") ?? Date()
            let from = try Self.day(query["from"], name: "from") ?? day.addingTimeInterval(-29 * 86_400)
            return try JSONResponse.make(JSONValue.array(try await stats.daily(from: from, to: day).map { bucket in
                let date = JSONValue.string(Timestamp.string(bucket.start))
                return .object(["date": date, "logins": .number(Double(bucket.logins)), "signups": .number(Double(bucket.signups)),
                                "leaked_passwords": .number(0), "created_at": date, "updated_at": date])
            }))
        }
        // Tessera's addition: the same counts by hour, for the last `hours` (default 24, at most two weeks).
        api.get("stats/hourly") { request, _ in
            try await authorizer.authorize(request, anyOf: [.readStats])
            let hours = try request.query["hours"].map { text in
                guard let value = Int(text), (1...Stats.maximumHours).contains(value) else { throw DomainError.invalidQuery("hours must be a whole number from 1 to \(Stats.maximumHours)") }
                return value
            } ?? 24
            return try JSONResponse.make(JSONValue.array(try await stats.hourly(hours: hours).map { bucket in
                .object(["hour": .string(Timestamp.string(bucket.start)), "logins": .number(Double(bucket.logins)),
                         "signups": .number(Double(bucket.signups))])
            }))
        }
    }

    /// Auth0's `YYYYMMDD` day, in UTC.
    static func day(_ text: String?, name: String) throws -> Date? {
        guard let text else { return nil }
        guard text.count == 8, let number = Int(text), let year = Int(text.prefix(4)), year >= 1970,
              let date = DateComponents(calendar: Calendar(identifier: .gregorian), timeZone: TimeZone(identifier: "UTC"),
                                        year: year, month: number / 100 % 100, day: number % 100).date,
              (1...12).contains(number / 100 % 100), (1...31).contains(number % 100)
        else { throw DomainError.invalidQuery("\(name) must be a day written YYYYMMDD") }
        return date
    }

    // MARK: users

    func addUserRoutes<Context: RequestContext>(_ api: RouterGroup<Context>) {
        let users = tenant.users, roles = tenant.roles, authorizer = self.authorizer
        api.get("users") { request, _ in
            try await authorizer.authorize(request, anyOf: [.readUsers])
            let parameters = try request.query.firstValues
            let search = try UserSearch(parameters: parameters)
            let includeTotals = parameters["include_totals"] == "true"
            let projection = try FieldProjection(parameters: parameters)
            let result = try await users.search(search, includeTotals: includeTotals)
            let profiles = JSONValue.array(result.users.map { projection.apply($0.profile) })
            if search.checkpoint != nil {
                var body: [String: JSONValue] = ["users": profiles]
                if let next = result.next { body["next"] = .string(next) }
                return try JSONResponse.make(JSONValue.object(body))
            }
            guard includeTotals else { return try JSONResponse.make(profiles) }
            return try JSONResponse.make(JSONValue.object([
                "start": .number(Double(search.page * search.perPage)),
                "limit": .number(Double(search.perPage)),
                "length": .number(Double(result.users.count)),
                "total": .number(Double(result.total ?? 0)),
                "users": profiles,
            ]))
        }
        api.post("users") { request, _ in
            try await authorizer.authorize(request, anyOf: [.createUsers])
            let user = try await users.create(try NewUser(auth0JSON: try await BodyReader.json(request)))
            return try JSONResponse.make(JSONValue.object(user.profile), status: .created)
        }
        api.get("users-by-email") { request, _ in
            try await authorizer.authorize(request, anyOf: [.readUsers])
            guard let email = (try request.query["email"]) else {
                throw DomainError.invalidQuery("Query validation error: 'Missing required property: email' on property email.")
            }
            let projection = try FieldProjection(parameters: try request.query.firstValues)
            return try JSONResponse.make(JSONValue.array(try await users.byEmail(email).map { projection.apply($0.profile) }))
        }
        api.get("users/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.readUsers])
            let projection = try FieldProjection(parameters: try request.query.firstValues)
            return try JSONResponse.make(projection.apply(try await users.get(try context.pathParameter("id")).profile))
        }
        api.patch("users/:id") { request, context in
            let claims = try await authorizer.authorize(request, anyOf: [.updateUsers, .updateUsersAppMetadata])
            let body = try await BodyReader.json(request)
            // `update:users_app_metadata` alone reaches the metadata, not the email, password or `blocked`.
            if !claims.scopes.contains(ManagementScope.updateUsers.rawValue),
               let other = body.objectValue?.keys.sorted().first(where: { !["app_metadata", "user_metadata"].contains($0) }) {
                throw DomainError(.forbidden, code: "insufficient_scope",
                                  "Insufficient scope, expected update:users to change \(other); update:users_app_metadata changes app_metadata and user_metadata only")
            }
            let user = try await users.update(try context.pathParameter("id"), try UserPatch(auth0JSON: body))
            return try JSONResponse.make(JSONValue.object(user.profile))
        }
        api.delete("users/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.deleteUsers])
            try await users.delete(try context.pathParameter("id"))
            return JSONResponse.empty()
        }
        api.delete("users/:id/sessions") { request, context in
            try await authorizer.authorize(request, anyOf: [.deleteSessions])
            try await users.revokeSessions(try context.pathParameter("id"))
            return JSONResponse.empty(status: .accepted)
        }
        api.get("users/:id/roles") { request, context in
            try await authorizer.authorize(request, anyOf: [.readUsers, .readRoles])
            return try JSONResponse.make(try await roles.roles(ofUser: try context.pathParameter("id")))
        }
        api.post("users/:id/roles") { request, context in
            try await authorizer.authorize(request, anyOf: [.updateUsers, .createRoleMembers])
            let ids = try Roles.idList(try await BodyReader.json(request), key: "roles")
            try await roles.assign(roleIDs: ids, toUser: try context.pathParameter("id"))
            return JSONResponse.empty()
        }
        let methods = tenant.authenticationMethods
        api.get("users/:id/authentication-methods") { request, context in
            try await authorizer.authorize(request, anyOf: [.readAuthenticationMethods])
            let parameters = try request.query.firstValues
            let page = try UserSearch.integer(parameters, "page", range: 0...Int(Int32.max)) ?? 0
            let perPage = try UserSearch.integer(parameters, "per_page", range: 1...UserSearch.maxPerPage) ?? 50
            let (found, total) = try await methods.list(userID: try context.pathParameter("id"), page: page, perPage: perPage)
            let items = JSONValue.array(found.map(\.json))
            guard parameters["include_totals"] == "true" else { return try JSONResponse.make(items) }
            return try JSONResponse.make(JSONValue.object([
                "start": .number(Double(page * perPage)), "limit": .number(Double(perPage)), "total": .number(Double(total)),
                "authenticators": items,
            ]))
        }
        api.get("users/:id/authentication-methods/:method") { request, context in
            try await authorizer.authorize(request, anyOf: [.readAuthenticationMethods])
            return try JSONResponse.make(try await methods.get(userID: try context.pathParameter("id"),
                                                                id: try context.pathParameter("method")).json)
        }
        api.delete("users/:id/authentication-methods/:method") { request, context in
            try await authorizer.authorize(request, anyOf: [.deleteAuthenticationMethods])
            try await methods.delete(userID: try context.pathParameter("id"), id: try context.pathParameter("method"))
            return JSONResponse.empty()
        }
        api.delete("users/:id/authentication-methods") { request, context in
            try await authorizer.authorize(request, anyOf: [.deleteAuthenticationMethods])
            try await methods.deleteAll(userID: try context.pathParameter("id"))
            return JSONResponse.empty()
        }
        api.delete("users/:id/roles") { request, context in
            try await authorizer.authorize(request, anyOf: [.updateUsers, .deleteRoleMembers])
            let ids = try Roles.idList(try await BodyReader.json(request), key: "roles")
            try await roles.unassign(roleIDs: ids, fromUser: try context.pathParameter("id"))
            return JSONResponse.empty()
        }
    }

    // MARK: clients

    func addClientRoutes<Context: RequestContext>(_ api: RouterGroup<Context>) {
        let clients = tenant.clients, authorizer = self.authorizer
        api.get("clients") { request, _ in
            try await authorizer.authorize(request, anyOf: [.readClients])
            return try JSONResponse.make(try await clients.list())
        }
        api.post("clients") { request, _ in
            try await authorizer.authorize(request, anyOf: [.createClients])
            return try JSONResponse.make(try await clients.create(try await BodyReader.json(request)), status: .created)
        }
        api.get("clients/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.readClients])
            return try JSONResponse.make(try await clients.get(try context.pathParameter("id")))
        }
        api.patch("clients/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.updateClients])
            return try JSONResponse.make(try await clients.update(try context.pathParameter("id"), try await BodyReader.json(request)))
        }
        api.delete("clients/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.deleteClients])
            try await clients.delete(try context.pathParameter("id"))
            return JSONResponse.empty()
        }
        api.post("clients/:id/rotate-secret") { request, context in
            try await authorizer.authorize(request, anyOf: [.updateClientKeys])
            return try JSONResponse.make(try await clients.rotateSecret(try context.pathParameter("id")))
        }
    }

    // MARK: resource servers

    func addResourceServerRoutes<Context: RequestContext>(_ api: RouterGroup<Context>) {
        let servers = tenant.resourceServers, authorizer = self.authorizer
        api.get("resource-servers") { request, _ in
            try await authorizer.authorize(request, anyOf: [.readResourceServers])
            return try JSONResponse.make(try await servers.list())
        }
        api.post("resource-servers") { request, _ in
            try await authorizer.authorize(request, anyOf: [.createResourceServers])
            return try JSONResponse.make(try await servers.create(try await BodyReader.json(request)), status: .created)
        }
        api.get("resource-servers/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.readResourceServers])
            return try JSONResponse.make(try await servers.get(try context.pathParameter("id")))
        }
        api.patch("resource-servers/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.updateResourceServers])
            return try JSONResponse.make(try await servers.update(try context.pathParameter("id"), try await BodyReader.json(request)))
        }
        api.delete("resource-servers/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.deleteResourceServers])
            try await servers.delete(try context.pathParameter("id"))
            return JSONResponse.empty()
        }
    }

    // MARK: client grants

    func addClientGrantRoutes<Context: RequestContext>(_ api: RouterGroup<Context>) {
        let grants = tenant.clientGrants, authorizer = self.authorizer
        api.get("client-grants") { request, _ in
            try await authorizer.authorize(request, anyOf: [.readClientGrants])
            return try JSONResponse.make(try await grants.list(clientID: (try request.query["client_id"]),
                                                               audience: (try request.query["audience"])))
        }
        api.post("client-grants") { request, _ in
            try await authorizer.authorize(request, anyOf: [.createClientGrants])
            return try JSONResponse.make(try await grants.create(try await BodyReader.json(request)), status: .created)
        }
        api.patch("client-grants/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.updateClientGrants])
            return try JSONResponse.make(try await grants.update(try context.pathParameter("id"), try await BodyReader.json(request)))
        }
        api.delete("client-grants/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.deleteClientGrants])
            try await grants.delete(try context.pathParameter("id"))
            return JSONResponse.empty()
        }
    }

    // MARK: roles

    func addRoleRoutes<Context: RequestContext>(_ api: RouterGroup<Context>) {
        let roles = tenant.roles, authorizer = self.authorizer
        api.get("roles") { request, _ in
            try await authorizer.authorize(request, anyOf: [.readRoles])
            return try JSONResponse.make(try await roles.list(nameFilter: (try request.query["name_filter"])))
        }
        api.post("roles") { request, _ in
            try await authorizer.authorize(request, anyOf: [.createRoles])
            return try JSONResponse.make(try await roles.create(try await BodyReader.json(request)), status: .created)
        }
        api.get("roles/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.readRoles])
            return try JSONResponse.make(try await roles.get(try context.pathParameter("id")))
        }
        api.patch("roles/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.updateRoles])
            return try JSONResponse.make(try await roles.update(try context.pathParameter("id"), try await BodyReader.json(request)))
        }
        api.delete("roles/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.deleteRoles])
            try await roles.delete(try context.pathParameter("id"))
            return JSONResponse.empty()
        }
        api.get("roles/:id/permissions") { request, context in
            try await authorizer.authorize(request, anyOf: [.readRoles])
            return try JSONResponse.make(try await roles.permissions(of: try context.pathParameter("id")))
        }
        api.post("roles/:id/permissions") { request, context in
            try await authorizer.authorize(request, anyOf: [.updateRoles])
            try await roles.addPermissions(try context.pathParameter("id"), try await BodyReader.json(request))
            return JSONResponse.empty(status: .created)
        }
        api.delete("roles/:id/permissions") { request, context in
            try await authorizer.authorize(request, anyOf: [.updateRoles])
            try await roles.removePermissions(try context.pathParameter("id"), try await BodyReader.json(request))
            return JSONResponse.empty()
        }
        api.get("roles/:id/users") { request, context in
            try await authorizer.authorize(request, anyOf: [.readRoleMembers, .readUsers])
            let ids = try await roles.users(inRole: try context.pathParameter("id"))
            return try JSONResponse.make(JSONValue.array(ids.map { .object(["user_id": .string($0)]) }))
        }
        api.post("roles/:id/users") { request, context in
            try await authorizer.authorize(request, anyOf: [.createRoleMembers, .updateUsers])
            let roleID = try context.pathParameter("id")
            try await roles.assign(userIDs: try Roles.idList(try await BodyReader.json(request), key: "users"), toRole: roleID)
            return JSONResponse.empty(status: .created)
        }
    }

    // MARK: signing keys

    func addKeyRoutes<Context: RequestContext>(_ api: RouterGroup<Context>) {
        let keyRing = tenant.keyRing, authorizer = self.authorizer
        api.get("keys/signing") { request, _ in
            try await authorizer.authorize(request, anyOf: [.readSigningKeys])
            return try JSONResponse.make(JSONValue.array(try await keyRing.current().keys.map(\.wire)))
        }
        api.get("keys/signing/:kid") { request, context in
            try await authorizer.authorize(request, anyOf: [.readSigningKeys])
            let kid = try context.pathParameter("kid")
            guard let key = try await keyRing.current().keys.first(where: { $0.kid == kid }) else {
                throw DomainError.notFound("The key does not exist.", code: "inexistent_key")
            }
            return try JSONResponse.make(key.wire)
        }
        api.post("keys/signing/rotate") { request, _ in
            try await authorizer.authorize(request, anyOf: [.createSigningKeys])
            let key = try await keyRing.rotate()
            return try JSONResponse.make(JSONValue.object(["kid": .string(key.kid), "cert": .string(key.publicKeyPEM)]),
                                         status: .created)
        }
        api.put("keys/signing/:kid/revoke") { request, context in
            try await authorizer.authorize(request, anyOf: [.updateSigningKeys])
            let key = try await keyRing.revoke(kid: try context.pathParameter("kid"))
            return try JSONResponse.make(JSONValue.object(["kid": .string(key.kid), "cert": .string(key.publicKeyPEM)]))
        }
    }
}

extension ManagementAPI {
    // MARK: jobs

    /// Bulk user exports. The file behind `location` is gzipped NDJSON or CSV, written while it downloads; its URL
    /// carries its own capability (as Auth0's pre-signed URLs do), so the download takes no bearer token.
    func addJobRoutes<Context: RequestContext>(_ api: RouterGroup<Context>) {
        let exports = tenant.userExports, issuer = tenant.issuer, authorizer = self.authorizer
        api.post("jobs/users-exports") { request, _ in
            try await authorizer.authorize(request, anyOf: [.readUsers])
            let export = try await exports.create(try await BodyReader.json(request))
            return try JSONResponse.make(export.wire(baseURL: issuer), status: .created)
        }
        api.get("jobs/:id") { request, context in
            try await authorizer.authorize(request, anyOf: [.readUsers, .createUsers])
            return try JSONResponse.make(try await exports.get(try context.pathParameter("id")).wire(baseURL: issuer))
        }
        api.get("jobs/:id/:file") { request, context in
            let export = try await exports.download(try context.pathParameter("id"), file: try context.pathParameter("file"),
                                                    token: try request.query["token"] ?? "")
            // A .gz file, as Auth0's are served: clients that would undo a Content-Encoding must get the gzip bytes.
            return Response(status: .ok, headers: [.contentType: "application/gzip", .contentDisposition: "attachment; filename=\"\(export.fileName)\"",
                                                   .cacheControl: "no-store"],
                            body: ResponseBody { writer in
                                let gzip = try GzipWriter()
                                try await exports.write(export) { bytes in
                                    let compressed = gzip.compress(bytes)
                                    if !compressed.isEmpty { try await writer.write(ByteBuffer(bytes: compressed)) }
                                }
                                try await writer.write(ByteBuffer(bytes: gzip.finish()))
                                try await writer.finish(nil)
                            })
        }
    }
}

extension SigningKeyInfo {
    /// Auth0's signing key shape. Tessera has no certificates; `cert` carries the public key PEM.
    var wire: JSONValue {
        var fields: [String: JSONValue] = [
            "kid": .string(kid), "cert": .string(publicKeyPEM),
            "current": .bool(state == .current), "next": .bool(state == .next), "previous": .bool(state == .previous),
            "revoked": .bool(state == .revoked),
        ]
        if let currentSince { fields["current_since"] = .string(currentSince) }
        if let currentUntil { fields["current_until"] = .string(currentUntil) }
        if let revokedAt { fields["revoked_at"] = .string(revokedAt) }
        return .object(fields)
    }
}

/// `fields` and `include_fields`: which profile keys a response keeps.
struct FieldProjection {
    let fields: Set<String>?
    let include: Bool

    init(parameters: [String: String]) throws {
        if let list = parameters["fields"], !list.isEmpty {
            fields = Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        } else {
            fields = nil
        }
        switch parameters["include_fields"] {
        case nil, "true": include = true
        case "false": include = false
        case let other?:
            throw DomainError.invalidQuery("Query validation error: 'include_fields must be true or false, not \(other)' on property include_fields.")
        }
    }

    func apply(_ profile: [String: JSONValue]) -> JSONValue {
        guard let fields else { return .object(profile) }
        return .object(profile.filter { fields.contains($0.key) == include })
    }
}
