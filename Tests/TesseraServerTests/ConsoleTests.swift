import Analytics
import Console
import Directory
import Foundation
import HTTPTypes
import IdentityManagement
import Testing
import TesseraCore
import TesseraServer

/// The web console, served on a loopback port as in production, driven as a browser drives it: the hosted login with
/// PKCE, cookies, forms with their CSRF token, redirects followed by hand.
@Suite struct ConsoleTests {
    static let password = "Console-Passw0rd"
    static let hostile = "<script>window.__pwned=1</script>"

    struct Setup {
        let admin: User
        let workspace: Workspace
    }

    static func setUp(_ harness: Harness) async throws -> Setup {
        try await ConsoleSetup.ensure(harness.services)
        let tenant = harness.tenant
        let admin = try await tenant.users.create(newUserBody("root@example.com", extra: [
            "password": .string(password), "name": .string(hostile), "app_metadata": ["plan": "pro"],
        ]))
        let role = try #require(try await tenant.roles.list(nameFilter: ConsoleSettings.adminRole).first)
        try await tenant.roles.assign(roleIDs: [role.id], toUser: admin.userID)
        let (workspace, _) = try await harness.services.analytics.catalog.ensureWorkspace(name: "console", id: nil, adminToken: nil, settings: [:])
        return Setup(admin: admin, workspace: workspace)
    }

    /// Opens `path` signed out and follows the console through the hosted login back to it.
    static func signIn(_ browser: Browser, from path: String, email: String = "root@example.com") async throws -> TestResponse {
        var response = try await browser.request(.get, path)
        #expect(response.status == .seeOther)
        var location = try #require(response.headers[.location])
        #expect(location.hasPrefix("/console/login?"))
        for _ in 0..<6 {
            response = try await browser.request(.get, location)
            if response.status == .ok, location.hasPrefix("/u/login") {
                let state = try #require(Browser.hidden("state", in: response.text))
                let csrf = try #require(Browser.hidden("csrf", in: response.text))
                response = try await browser.request(.post, "/u/login", form: ["state": state, "csrf": csrf, "email": email, "password": password])
            }
            guard [.found, .seeOther].contains(response.status), let next = response.headers[.location] else { return response }
            location = next.replacingOccurrences(of: Harness.issuer, with: "/")
            if location == path { return try await browser.request(.get, location) }
        }
        return response
    }

    /// The secret a page shows once.
    static func shownOnce(_ page: TestResponse) throws -> String {
        String(try #require(page.text.firstMatch(of: /<code class="copy">([^<]+)<\/code>/), "\(page.text.prefix(600))").1)
    }

    static func csrf(_ page: TestResponse) throws -> String { try #require(Browser.hidden("csrf", in: page.text)) }

    /// Posts a console form from `page` (its CSRF token) and follows the redirect, if any.
    @discardableResult
    static func submit(_ browser: Browser, _ action: String, from page: TestResponse, _ form: [String: String] = [:]) async throws -> TestResponse {
        var fields = form
        fields["csrf"] = try csrf(page)
        fields["back"] = fields["back"] ?? "/console/"
        let response = try await browser.request(.post, action, form: fields)
        guard response.status == .seeOther, let location = response.headers[.location] else { return response }
        return try await browser.request(.get, location)
    }

    @Test func walksEverySectionAsAnAdmin() async throws {
        let harness = try await Harness.make(graphql: true, graphQLProject: examplesDirectory + "/hasura")
        let setup = try await Self.setUp(harness)
        try await harness.testLive { http in
            let browser = Browser(http)
            let users = try await Self.signIn(browser, from: "/console/users")
            #expect(users.status == .ok, "\(users.text.prefix(400))")
            #expect(browser.cookies["tessera_console"] != nil)
            #expect(users.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(users.headers[.xFrameOptions] == "DENY")
            #expect(!users.text.contains(Self.hostile) && users.text.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"))

            // Identity: applications (secret once), APIs, roles, users, keys.
            let created = try await Self.submit(browser, "/console/applications", from: users,
                                                ["name": Self.hostile + "App", "app_type": "regular_web"])
            #expect(created.status == .ok && created.text.contains("class=\"secret\""), "\(created.text.prefix(300))")
            let client = try #require(try await harness.tenant.clients.list().first { $0.name == Self.hostile + "App" })
            let secretShown = try Self.shownOnce(created)
            #expect(try await harness.tenant.clients.authenticate(clientID: client.clientID, secret: secretShown) != nil, "the secret shown is the client's")
            let appPage = try await browser.request(.get, "/console/applications/\(client.clientID)")
            #expect(appPage.status == .ok && !appPage.text.contains(secretShown) && !appPage.text.contains(Self.hostile))
            let saved = try await Self.submit(browser, "/console/applications/\(client.clientID)", from: appPage, [
                "name": "Renamed", "app_type": "regular_web", "callbacks": "https://app.example/cb\nhttps://app.example/cb2",
                "grant_types": "authorization_code",
            ])
            #expect(saved.text.contains("Saved."))
            #expect(try await harness.tenant.clients.get(client.clientID).callbacks == ["https://app.example/cb", "https://app.example/cb2"])
            let rotated = try await Self.submit(browser, "/console/applications/\(client.clientID)/rotate", from: saved)
            let newSecret = try Self.shownOnce(rotated)
            #expect(newSecret != secretShown)
            let apps = try await Self.submit(browser, "/console/applications/\(client.clientID)/delete", from: rotated)
            #expect(apps.text.contains("Deleted.") && !apps.text.contains(newSecret))

            let api = try await Self.submit(browser, "/console/apis", from: apps, [
                "name": "Orders", "identifier": "https://orders.example/", "scopes": "read:orders Read orders\nwrite:orders",
            ])
            #expect(api.text.contains("read:orders") && api.text.contains("Created."))
            let apiID = try #require(try await harness.tenant.resourceServers.find("https://orders.example/")).id
            _ = try await Self.submit(browser, "/console/apis/\(apiID)", from: api, ["name": "Orders v2", "scopes": "read:orders"])
            #expect(try await harness.tenant.resourceServers.find("https://orders.example/")?.name == "Orders v2")
            let apiList = try await browser.request(.get, "/console/apis")
            let role = try await Self.submit(browser, "/console/roles", from: apiList, ["name": "clerk", "description": "Reads orders"])
            let roleID = try #require(try await harness.tenant.roles.list(nameFilter: "clerk").first).id
            let permitted = try await Self.submit(browser, "/console/roles/\(roleID)/permissions", from: role,
                                                  ["api": "https://orders.example/", "permission": "read:orders"])
            #expect(permitted.text.contains("read:orders"))
            _ = try await Self.submit(browser, "/console/roles/\(roleID)/permissions", from: permitted,
                                      ["api": "https://orders.example/", "permission": "read:orders", "remove": "1"])
            #expect(try await harness.tenant.roles.permissions(of: roleID).isEmpty)
            let roles = try await browser.request(.get, "/console/roles")
            #expect(roles.text.contains("clerk"))
            _ = try await Self.submit(browser, "/console/apis/\(apiID)/delete", from: roles)

            let found = try await browser.request(.get, "/console/users?q=app_metadata.plan%3Apro&page=0")
            #expect(found.text.contains("root@example.com") && found.text.contains("1 user;"))
            let userPath = "/console/users/\(setup.admin.userID.pathEscaped)"
            let userPage = try await browser.request(.get, userPath)
            let invalid = try await Self.submit(browser, userPath + "/metadata", from: userPage, ["field": "app_metadata", "json": "{\"plan\": "])
            #expect(invalid.status == .unprocessableContent && invalid.text.contains("Not valid JSON") && invalid.text.contains("{&quot;plan&quot;: "))
            #expect(try await harness.tenant.users.get(setup.admin.userID).appMetadata["plan"] == "pro", "nothing saved")
            let notObject = try await Self.submit(browser, userPath + "/metadata", from: userPage, ["field": "user_metadata", "json": "[1]"])
            #expect(notObject.status == .unprocessableContent)
            _ = try await Self.submit(browser, userPath + "/metadata", from: userPage,
                                      ["field": "app_metadata", "json": "{\"plan\": \"team\", \"seats\": 5}"])
            #expect(try await harness.tenant.users.get(setup.admin.userID).appMetadata["seats"] == 5)
            let other = try await harness.tenant.users.create(newUserBody("other@example.com", extra: ["password": .string(Self.password)]))
            let otherPath = "/console/users/\(other.userID.pathEscaped)"
            let otherPage = try await browser.request(.get, otherPath)
            _ = try await Self.submit(browser, otherPath + "/block", from: otherPage, ["blocked": "true"])
            #expect(try await harness.tenant.users.get(other.userID).blocked)
            _ = try await Self.submit(browser, otherPath + "/roles", from: otherPage, ["role": roleID])
            _ = try await Self.submit(browser, otherPath + "/roles", from: otherPage, ["role": roleID, "remove": "1"])
            #expect(try await harness.tenant.roles.roles(ofUser: other.userID).isEmpty)
            _ = try await Self.submit(browser, "/console/roles/\(roleID)/delete", from: otherPage)
            #expect(try await harness.tenant.roles.list(nameFilter: "clerk").isEmpty)
            let revoked = try await Self.submit(browser, otherPath + "/sessions", from: otherPage)
            #expect(revoked.text.contains("Every session of this user is revoked."))
            _ = try await Self.submit(browser, otherPath + "/delete", from: otherPage)
            #expect(try await harness.tenant.users.byEmail("other@example.com").isEmpty)
            let paged = try await browser.request(.get, "/console/users?page=0")
            #expect(paged.text.contains("page 1 of 1"))
            let jumped = try await browser.request(.get, "/console/users?q=&page-number=1")
            #expect(jumped.text.contains("page 1 of 1") && jumped.text.contains("root@example.com"))
            for extreme in ["-9223372036854775808", "9223372036854775807", "x"] {
                #expect(try await browser.request(.get, "/console/users?page-number=\(extreme)").status == .ok)
            }

            let keys = try await browser.request(.get, "/console/keys")
            #expect(keys.text.contains("&quot;keys&quot;") && keys.text.contains("current"))
            let afterRotate = try await Self.submit(browser, "/console/keys/rotate", from: keys)
            #expect(afterRotate.text.contains("Rotated.") && afterRotate.text.contains("previous"))
            let previous = try #require(try await harness.services.keyRing.current().keys.first { $0.state.rawValue == "previous" })
            // The console's own token was signed with that key: revoking it ends this session too, and the next page
            // is a fresh sign-in that returns to the keys.
            let afterRevoke = try await browser.request(.post, "/console/keys/\(previous.kid)/revoke",
                                                        form: ["csrf": try Self.csrf(afterRotate), "back": "/console/keys"])
            #expect(afterRevoke.status == .seeOther && afterRevoke.headers[.location] == "/console/keys?notice=revoked")
            let signedInAgain = try await Self.signIn(browser, from: "/console/keys")
            #expect(signedInAgain.status == .ok && signedInAgain.text.contains("revoked"))

            // Actions: create, save with a write-only secret, test, deploy, bind, see it run in a real sign-in, roll back.
            let actions = try await browser.request(.get, "/console/actions")
            let editor = try await Self.submit(browser, "/console/actions", from: actions, ["name": "hello"])
            let actionID = try #require(try await harness.services.actions.list().first { $0.name == "hello" }).id
            let code = """
                exports.onExecutePostLogin = async (event, api) => {
                  console.log("hello " + event.user.email);
                  api.idToken.setCustomClaim("https://console.test/secret", event.secrets.GREETING);
                };
                """
            _ = try await Self.submit(browser, "/console/actions/\(actionID)", from: editor,
                                      ["code": code, "new_secret_name": "GREETING", "new_secret_value": "s3cret-greeting", "configuration": "{}"])
            let tested = try await Self.submit(browser, "/console/actions/\(actionID)/test", from: editor,
                                               ["event": "{\"user\": {\"email\": \"t@example.com\"}}"])
            #expect(tested.text.contains("idToken.setCustomClaim") && tested.text.contains("hello t@example.com"), "\(tested.text.suffix(1500))")
            #expect(!tested.text.contains("s3cret-greeting"), "a secret never comes back")
            let badEvent = try await Self.submit(browser, "/console/actions/\(actionID)/test", from: editor, ["event": "nope"])
            #expect(badEvent.text.contains("must be a JSON object"))
            let deployed = try await Self.submit(browser, "/console/actions/\(actionID)/deploy", from: editor)
            #expect(deployed.text.contains("Deployed."))
            _ = try await Self.submit(browser, "/console/flow", from: deployed, ["order": "hello"])
            // A real sign-in runs it; the console's list shows the execution with its log.
            let fresh = Browser(http)
            _ = try await Self.signIn(fresh, from: "/console/")
            let executions = try await browser.request(.get, "/console/actions")
            #expect(executions.text.contains("hello root@example.com"), "\(executions.text.suffix(1200))")
            let home = try await browser.request(.get, "/console/")
            #expect(home.text.contains("<svg") && home.text.contains("Sign-ins per hour"))
            #expect(home.text.contains("<td>hello</td><td>1</td>"), "the Action's run time, from its execution's duration_ms")
            let execution = try #require(try await harness.services.actions.recentExecutions(limit: 1).first)
            #expect(execution.objectValue?["results"]?.arrayValue?.first?.objectValue?["duration_ms"]?.numberValue != nil)
            _ = try await Self.submit(browser, "/console/actions/\(actionID)", from: editor, ["code": code.replacingOccurrences(of: "hello ", with: "hi ")])
            _ = try await Self.submit(browser, "/console/actions/\(actionID)/deploy", from: editor)
            let versionOne = try #require(try await harness.services.actions.versions(actionID).first { $0.number == 1 })
            let rolledBack = try await Self.submit(browser, "/console/actions/\(actionID)/rollback", from: editor, ["version": versionOne.id])
            #expect(rolledBack.text.contains("Deployed."))
            _ = try await Self.submit(browser, "/console/flow", from: deployed, ["order": ""])
            _ = try await Self.submit(browser, "/console/actions/\(actionID)/delete", from: editor)

            // Analytics: a data source, a file appended, a pipe run with a parameter, a chart, tokens.
            let ws = "/console/analytics/\(setup.workspace.id)"
            let analytics = try await browser.request(.get, "/console/analytics")
            #expect(analytics.text.contains(ws))
            let workspace = try await browser.request(.get, ws)
            let source = try await Self.submit(browser, ws + "/datasources", from: workspace, [
                "name": "orders", "schema": "`city` String `json:$.city`, `amount` Float64 `json:$.amount`", "description": Self.hostile,
            ])
            #expect(source.status == .ok && !source.text.contains(Self.hostile))
            let csv = "city,amount\nParis,10\nLyon,5\nParis,2.5\nnot-a-city,oops\n"
            let boundary = "console-boundary"
            let multipart = "--\(boundary)\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n\(try Self.csrf(source))\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"back\"\r\n\r\n\(ws)\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"orders.csv\"\r\nContent-Type: text/csv\r\n\r\n\(csv)\r\n--\(boundary)--\r\n"
            let appended = try await http.request(.post, ws + "/datasources/orders/append", body: multipart,
                                                  contentType: "multipart/form-data; boundary=\(boundary)",
                                                  headers: [.cookie: browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")])
            #expect(appended.status == .seeOther)
            let sourcePage = try await browser.request(.get, ws + "/datasources/orders")
            #expect(sourcePage.text.contains("Lyon") && sourcePage.text.contains("Quarantined rows"), "\(sourcePage.text.suffix(2000))")
            let pipe = try await Self.submit(browser, ws + "/pipes", from: workspace, [
                "name": "orders_by_city", "description": "<img src=x onerror=alert(1)>",
                "sql": "SELECT city, sum(amount) AS total FROM orders WHERE city = {{String(city, 'Paris')}} GROUP BY city",
            ])
            #expect(pipe.text.contains("&lt;img src=x") && !pipe.text.contains("<img src=x"))
            _ = try await Self.submit(browser, ws + "/pipes/orders_by_city/publish", from: pipe, ["node": "orders_by_city_0"])
            let run = try await browser.request(.get, ws + "/pipes/orders_by_city?run=1&city=Lyon")
            #expect(run.text.contains("<h2 id=\"result\">Result</h2>") && run.text.contains(">Lyon<") && run.text.contains("elapsed"),
                    "\(run.text.suffix(1500))")
            #expect(run.text.contains("v0/pipes/orders_by_city.json?city=Lyon"), "the curl line carries the parameters")
            let charted = try await Self.submit(browser, ws + "/pipes/orders_by_city/charts", from: pipe, [
                "title": "<b>Totals</b>", "type": "bar", "index": "city", "categories": "total",
            ])
            #expect(charted.text.contains("&lt;b&gt;Totals&lt;/b&gt;"))
            let chartID = try #require(try await harness.services.charts.charts(workspace: setup.workspace.id, pipe: "orders_by_city").first).id
            let preview = try await browser.request(.get, ws + "/pipes/orders_by_city/charts/\(chartID)/preview")
            #expect(preview.status == .ok && preview.text.contains("<svg"))
            #expect(preview.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'self'") == true)
            _ = try await Self.submit(browser, ws + "/pipes/orders_by_city/charts", from: pipe, [
                "id": chartID, "title": "Totals", "type": "line", "index": "city", "categories": "total",
            ])
            let draft = try await browser.request(.get, ws + "/pipes/orders_by_city/draft-chart?title=Draft&type=bar&index=city&categories=total")
            #expect(draft.status == .ok && draft.text.contains("<svg") && draft.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'self'") == true)
            let badDraft = try await browser.request(.get, ws + "/pipes/orders_by_city/draft-chart?index=city&categories=missing")
            #expect(badDraft.text.contains("missing") && !badDraft.text.contains("<svg"))
            let signedOut = try await http.request(.get, ws + "/pipes/orders_by_city/draft-chart?index=city&categories=total")
            #expect(signedOut.status == .forbidden)
            let token = try await Self.submit(browser, ws + "/tokens", from: workspace, ["name": "reader", "scopes": "PIPES:READ:orders_by_city"])
            let tokenValue = try Self.shownOnce(token)
            let again = try await Self.submit(browser, ws + "/tokens", from: workspace, ["name": "reader", "scopes": "DATASOURCES:READ:orders"])
            #expect(again.status == .conflict && again.text.contains("already exists"))
            #expect(try await harness.services.analytics.catalog.tokens(in: setup.workspace).first { $0.name == "reader" }?.scopes.count == 1,
                    "the token someone holds gained nothing")
            let tokens = try await browser.request(.get, ws)
            #expect(tokens.text.contains("reader") && !tokens.text.contains(String(tokenValue)) && !tokens.text.contains(setup.workspace.adminToken))
            let minted = try await Self.submit(browser, ws + "/jwt", from: workspace, [
                "name": "embed", "pipe": "orders_by_city", "fixed_params": "{\"city\": \"Paris\"}", "minutes": "10", "rps": "5",
            ])
            let jwt = try Self.shownOnce(minted)
            let chartPage = try await http.request(.get, "/endpoints/orders_by_city/charts/\(chartID)?token=\(jwt)&city=Lyon")
            #expect(chartPage.status == .ok && chartPage.text.contains("<svg"))
            let badJWT = try await Self.submit(browser, ws + "/jwt", from: workspace, ["name": "x", "pipe": "orders_by_city", "fixed_params": "[", "minutes": "5"])
            #expect(badJWT.status == .badRequest && badJWT.text.contains("fixed_params must be a JSON object"))

            // GraphQL: tables and permissions, a query as role `user`, the schema's documentation.
            let graphql = try await browser.request(.get, "/console/graphql")
            #expect(graphql.text.contains("public.users") && graphql.text.contains("user select"))
            _ = try await http.request(.post, "/v1/graphql", json: ["query": "mutation { insert_users_one(object: {userId: \"u1\", userName: \"Ann\"}) { userId } }"],
                                       headers: [HTTPField.Name("x-hasura-admin-secret")!: Harness.graphQLAdminSecret])
            let answered = try await Self.submit(browser, "/console/graphql", from: graphql, [
                "query": "{ users { userId userName } }", "variables": "{}", "role": "user", "session": "{\"x-hasura-user-id\": \"u1\"}",
            ])
            #expect(answered.text.contains("&quot;userName&quot; : &quot;Ann&quot;") || answered.text.contains("Ann"), "\(answered.text.suffix(800))")
            let badSession = try await Self.submit(browser, "/console/graphql", from: graphql, [
                "query": "{ users { userId } }", "variables": "{}", "role": "user", "session": "{\"x-hasura-user-id\": \"u1\\r\\nX-Evil: 1\"}",
            ])
            #expect(badSession.status == .ok && badSession.text.contains("is not usable"))
            let schema = try await browser.request(.get, "/console/graphql/schema")
            #expect(schema.text.contains("query_root") || schema.text.contains("users"))

            // Directory: a connection's sync started from the console, its progress read back.
            try await harness.services.directory.connections.save(Connection(
                id: "conn_console", displayName: "Elsewhere", domain: "http://127.0.0.1:9", clientId: "id", clientSecret: "directory-secret"))
            let directory = try await browser.request(.get, "/console/directory")
            #expect(directory.text.contains("conn_console") && !directory.text.contains("directory-secret"))
            let synced = try await Self.submit(browser, "/console/directory/conn_console/sync", from: directory)
            #expect(synced.text.contains("Sync started."))
            let keyed = try await Self.submit(browser, "/console/directory/keys", from: directory,
                                              ["description": "Nightly import", "integration": "auth0", "days": "30"])
            let directoryKey = try Self.shownOnce(keyed)
            let keyID = try #require(try await harness.services.directory.keys.authenticate(directoryKey)).id
            let listed = try await browser.request(.get, "/console/directory")
            #expect(listed.text.contains("Nightly import") && !listed.text.contains(directoryKey))
            let badDays = try await Self.submit(browser, "/console/directory/keys", from: directory, ["description": "x", "days": "-1"])
            #expect(badDays.status == .badRequest)
            let deletedKey = try await Self.submit(browser, "/console/directory/keys/\(keyID)/delete", from: listed)
            #expect(deletedKey.text.contains("Deleted.") && !deletedKey.text.contains("Nightly import"))
            // The console's own directory key deleted elsewhere: one refusal, then a new key.
            for key in try await harness.services.directory.keys.list() where key.description.hasPrefix("Tessera Console") {
                try await harness.services.directory.keys.delete(id: key.id)
            }
            let refused = try await browser.request(.get, "/console/directory")
            #expect(refused.status == .badGateway, "not a sign-in loop: \(refused.status) \(refused.headers[.location] ?? "")")
            #expect(try await browser.request(.get, "/console/directory").status == .ok)
            let progress = try await browser.request(.get, "/console/directory/progress")
            #expect(progress["connections"]?.arrayValue?.first?.objectValue?["id"] == "conn_console")

            // Assets, and signing out.
            let script = try await browser.request(.get, "/console/assets/console.js")
            #expect(script.status == .ok && script.headers[.contentType]?.hasPrefix("text/javascript") == true)
            let out = try await browser.request(.post, "/console/logout", form: ["csrf": try Self.csrf(directory)])
            #expect(out.status == .seeOther && out.headers[.location]?.hasPrefix("/v2/logout?") == true && browser.cookies["tessera_console"] == nil)
        }
    }

    @Test func refusesPeopleWithoutTheRoleAndForgedChanges() async throws {
        let harness = try await Harness.make()
        _ = try await Self.setUp(harness)
        _ = try await harness.tenant.users.create(newUserBody("plain@example.com", extra: ["password": .string(Self.password)]))
        try await harness.testLive { http in
            let refused = try await Self.signIn(Browser(http), from: "/console/", email: "plain@example.com")
            #expect(refused.status == .forbidden && refused.text.contains("Not a console administrator") && refused.text.contains("tessera console grant"))
            #expect(!refused.text.contains("/console/applications") && !refused.text.contains("Sign out"), "no sections for someone refused")

            let browser = Browser(http)
            let home = try await Self.signIn(browser, from: "/console/")
            #expect(home.status == .ok)
            let noToken = try await browser.request(.post, "/console/roles", form: ["name": "sneaky"])
            #expect(noToken.status == .forbidden && noToken.text.contains("Change refused"))
            let wrongToken = try await browser.request(.post, "/console/roles", form: ["name": "sneaky", "csrf": "forged"])
            #expect(wrongToken.status == .forbidden)
            let crossSite = try await http.request(.post, "/console/roles", body: "name=sneaky&csrf=\(try Self.csrf(home))",
                                                   contentType: "application/x-www-form-urlencoded",
                                                   headers: [.cookie: "tessera_console=\(browser.cookies["tessera_console"]!)",
                                                             HTTPField.Name("Sec-Fetch-Site")!: "cross-site"])
            #expect(crossSite.status == .forbidden)
            #expect(try await harness.tenant.roles.list(nameFilter: "sneaky").isEmpty, "no refused change went through")
            let forged = try await http.request(.get, "/console/", headers: [.cookie: "tessera_console=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4IiwiZXhwIjo0MTAyNDQ0ODAwfQ."])
            #expect(forged.status == .seeOther && forged.headers[.location]?.hasPrefix("/console/login") == true,
                    "an unsigned token the API refuses opens nothing: it is a sign-in to do again")

            // The sign-in's own checks: a callback without the attempt's cookie or with another state.
            // Blocked, the admin is out within the role check's 30 s.
            let admin = try #require(try await harness.tenant.users.byEmail("root@example.com").first)
            let token = try await http.managementToken()
            #expect(try await http.request(.patch, "/api/v2/users/\(admin.userID.pathEscaped)", token: token, json: ["blocked": true]).status == .ok)
            harness.clock.advance(seconds: 31)
            let blocked = try await browser.request(.get, "/console/")
            #expect(blocked.status == .forbidden && blocked.text.contains("Not a console administrator"))

            let stray = try await http.request(.get, "/console/callback?code=abc&state=xyz")
            #expect(stray.status == .badRequest && stray.text.contains("Sign-in expired"))
            let login = try await http.request(.get, "/console/login?return_to=https://evil.example/")
            let authorize = try #require(login.headers[.location])
            #expect(authorize.hasPrefix("/authorize?") && authorize.contains("code_challenge_method=S256"))
            #expect(login.headers[.setCookie]?.contains("HttpOnly") == true)
            let cookie = try #require(login.headers[.setCookie]?.split(separator: ";").first)
            let wrongState = try await http.request(.get, "/console/callback?code=abc&state=other", headers: [.cookie: String(cookie)])
            #expect(wrongState.status == .badRequest)
        }
    }

    @Test func anExpiredSessionReturnsToThePageItLeft() async throws {
        let harness = try await Harness.make()
        _ = try await Self.setUp(harness)
        try await harness.testLive { http in
            let browser = Browser(http)
            let roles = try await Self.signIn(browser, from: "/console/roles")
            #expect(roles.status == .ok)
            harness.clock.advance(seconds: 90_000)  // past the Management API token's 24 hours
            let page = try await browser.request(.get, "/console/roles?x=1")
            #expect(page.status == .seeOther && page.headers[.location] == "/console/login?return_to=%2Fconsole%2Froles%3Fx%3D1")
            let change = try await browser.request(.post, "/console/roles", form: ["name": "late", "csrf": try Self.csrf(roles), "back": "/console/roles"])
            #expect(change.status == .seeOther && change.headers[.location] == "/console/login?return_to=%2Fconsole%2Froles")
            #expect(try await harness.tenant.roles.list(nameFilter: "late").isEmpty)
        }
    }
}
