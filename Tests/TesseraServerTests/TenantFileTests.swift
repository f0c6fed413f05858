import Actions
import Directory
import Foundation
import IdentityManagement
import TenantFile
import TesseraCore
import Testing
@testable import TesseraServer

@Suite struct TenantFileTests {
    static let example = """
        tenant: { issuer: "http://tessera.test/" }
        applications:
          - name: Demo SPA
            type: spa
            callbacks: ["http://127.0.0.1:8080/demo/"]
            web_origins: ["http://127.0.0.1:8080"]
          - name: Directory sync
            type: m2m
            grants:
              - audience: management
                scopes: [read:users, update:users, delete:users, create:users]
        apis:
          - name: GraphQL
            identifier: "https://graphql.example/"
            signing_alg: RS256
            scopes: [read:rows, { value: write:rows, description: Write rows }]
        roles:
          - name: editor
            description: Edits rows
            permissions: [{ api: "https://graphql.example/", scopes: [read:rows, write:rows] }]
        users:
          - email: demo@example.com
            password: "${DEMO_PASSWORD}"
            name: Demo User
            app_metadata: { plan: pro, seats: 3 }
            roles: [editor]
        """

    @Test(arguments: StoreKind.available)
    func applyIsIdempotent(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let file = try TenantFile.parse(Self.example, file: "tessera.yaml", environment: ["DEMO_PASSWORD": "Demo-Passw0rd"])
        let first = try await file.apply(to: harness.services)
        #expect(first.changed)
        #expect(first.secrets.map(\.application) == ["Directory sync"])
        #expect(first.summary(file: "tessera.yaml").contains(first.secrets[0].secret))

        let second = try await file.apply(to: harness.services)
        #expect(!second.changed, "\(second.changes)")
        #expect(second.secrets.isEmpty)
        #expect(second.summary(file: "tessera.yaml").contains("no changes"))

        let tenant = harness.tenant
        let spa = try #require(try await tenant.clients.list().first { $0.name == "Demo SPA" })
        #expect(spa.appType == .spa && spa.tokenEndpointAuthMethod == "none")
        let sync = try #require(try await tenant.clients.list().first { $0.name == "Directory sync" })
        let grant = try #require(try await tenant.clientGrants.find(clientID: sync.clientID, audience: tenant.managementAudience))
        #expect(Set(grant.scope) == ["read:users", "update:users", "delete:users", "create:users"])
        let user = try #require(try await tenant.users.byEmail("demo@example.com").first)
        #expect(user.appMetadata == ["plan": .string("pro"), "seats": .number(3)])
        #expect(try await tenant.roles.permissions(ofUser: user.userID, audience: "https://graphql.example/") == ["read:rows", "write:rows"])

        // A changed file updates only what changed.
        let edited = try TenantFile.parse(Self.example.replacingOccurrences(of: "Edits rows", with: "Edits all rows"),
                                          file: "tessera.yaml", environment: ["DEMO_PASSWORD": "Demo-Passw0rd"])
        let third = try await edited.apply(to: harness.services)
        #expect(third.changes == ["updated role editor"])

        // The outbound allow list is kept in the store, where every instance's Actions read it; applying it again changes nothing.
        #expect(try await harness.services.actions.outboundPolicy() == OutboundPolicy())
        let outbound = try TenantFile.parse("outbound:\n  allow: [\"*\", \"127.0.0.1\", \"*.Internal.example\"]\n", file: "t.yaml", environment: [:])
        #expect(try await outbound.apply(to: harness.services).changes == ["set the Actions outbound allow list: *, 127.0.0.1, *.internal.example"])
        #expect(try await harness.services.actions.outboundPolicy() == OutboundPolicy(allow: ["*", "127.0.0.1", "*.internal.example"]))
        #expect(!(try await outbound.apply(to: harness.services).changed))
        await harness.cleanup()
    }

    @Test func badFilesNameFileLineAndField() throws {
        func error(_ text: String, environment: [String: String] = [:]) -> String {
            do {
                _ = try TenantFile.parse(text, file: "t.yaml", environment: environment)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(error("applications:\n  - name: x\n    type: desktop\n").hasPrefix("t.yaml:3:11: applications[0].type: expected one of"))
        #expect(error("applications:\n  - name: x\n    colour: red\n").hasPrefix("t.yaml:3:5: applications[0].colour: unknown field"))
        #expect(error("apis:\n  - identifier: x\n    token_lifetime: soon\n").contains("apis[0].token_lifetime: expected a whole number"))
        #expect(error("users:\n  - email: a@b.co\n    password: \"${NOPE}\"\n").contains("environment variable NOPE is not set"))
        #expect(error("users:\n  - email: a@b.co\n    password: weak\n").contains("users[0].password: PasswordStrengthError"))
        #expect(error("applications:\n  - type: spa\n").contains("applications[0].name: name is required"))
        #expect(error("applications: [\n").hasPrefix("t.yaml:1:1: yaml"))
        #expect(error("widgets: []\n").contains("widgets: unknown field"))
        #expect(error("applications:\n  - name: x\n    callbacks: [nope]\n").contains("is not an absolute URL"))
        for bad in ["https://api.example.com", "api.example.com:443", "10.0.0.0/8", "\"\""] {
            #expect(error("outbound:\n  allow: [\(bad)]\n").contains("outbound.allow[0]: a host name"), "\(bad)")
        }
        #expect(error("outbound:\n  deny: [x]\n").contains("outbound.deny: unknown field"))
        #expect(error("directory:\n  api_keys:\n    - { key: short }\n").contains("directory.api_keys[0].key: at least 24 characters"))
        #expect(error("directory:\n  api_keys:\n    - { key: \"\(String(repeating: "k", count: 30))\", integration: okta }\n").contains("integration: auth0"))
        #expect(error("directory:\n  resync_interval: often\n").contains("directory.resync_interval: a duration"))
        #expect(error("directory:\n  webhooks:\n    - { id: w, url: \"file:///etc\", signing_secret: \"\(String(repeating: "k", count: 30))\" }\n").contains("http(s) URL"))
        #expect(error("directory:\n  webhooks:\n    - { id: w, url: \"https://x.example/\", signing_secret: short }\n").contains("at least 16 characters"))
        #expect(error("directory:\n  connections:\n    - { id: conn_x, domain: d.auth0.com, client_secret: s }\n").contains("client_id, or application"))
        #expect(error("applications:\n  - { name: x, type: m2m, client_secret: short }\n").contains("client_secret: at least 32 characters"))
    }

    /// Seed 003's wiring: an M2M application with its secret given in the file, a connection naming it, API keys.
    @Test func theDirectoryIsConfiguredFromTheFile() async throws {
        let harness = try await Harness.make()
        try await harness.test { _ in
            let text = """
                applications:
                  - { name: Directory sync, type: m2m, client_secret: "${SECRET}", grants: [{ audience: management, scopes: [read:users] }] }
                directory:
                  resync_interval: 30m
                  connections:
                    - { id: conn_self, name: Self, domain: "http://127.0.0.1:1", application: Directory sync, client_secret: "${SECRET}" }
                  api_keys:
                    - { description: admin, key: "${KEY}" }
                  webhooks:
                    - { id: wh_app, url: "https://app.example/userhub", signing_secret: "${KEY}" }
                """
            let file = try TenantFile.parse(text, file: "t.yaml", environment: ["SECRET": String(repeating: "s", count: 40), "KEY": String(repeating: "k", count: 30)])
            #expect(file.directoryResyncSeconds == 1800)
            let first = try await file.apply(to: harness.services)
            #expect(first.secrets.isEmpty, "a secret the file gives is not printed")
            #expect(first.changes.contains("set the client secret of Directory sync from the file"))
            let connection = try await harness.services.directory.connections.connection("conn_self")
            let client = try #require(try await harness.services.tenant.clients.list().first { $0.name == "Directory sync" })
            #expect(connection.clientId == client.clientID && connection.clientSecret == String(repeating: "s", count: 40))
            #expect(try await harness.services.tenant.clients.authenticate(clientID: client.clientID, secret: String(repeating: "s", count: 40)) != nil)
            #expect(try await harness.services.directory.keys.authenticate(String(repeating: "k", count: 30)).description == "admin")
            #expect(try await harness.services.directory.webhooks.list().map(\.webhook) == [
                Webhook(id: "wh_app", url: "https://app.example/userhub", signingSecret: String(repeating: "k", count: 30))])
            let second = try await file.apply(to: harness.services)
            #expect(!second.changed, "\(second.changes)")
        }
    }

    @Test(arguments: StoreKind.available)
    func badReferencesChangeNothing(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let text = """
            apis:
              - identifier: "https://a.test/"
                scopes: [read:a]
            applications:
              - name: svc
                type: m2m
                grants: [{ audience: "https://a.test/", scopes: [write:a] }]
            """
        let file = try TenantFile.parse(text, file: "t.yaml", environment: [:])
        await #expect(throws: DomainError.self) { try await file.apply(to: harness.services) }
        #expect(try await harness.tenant.resourceServers.find("https://a.test/") == nil)
        #expect(try await harness.tenant.clients.list().isEmpty)
        await harness.cleanup()
    }
}
