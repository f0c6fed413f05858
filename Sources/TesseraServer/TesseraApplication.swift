import Analytics
import Charts
import Foundation
import Directory
import GraphQLEngine
import Actions
import Console
import Hummingbird
import HTTPTypes
import Identity
import IdentityManagement
import Logging
import Prometheus
import TesseraCore
import TesseraHTTP

/// The composition root: one Hummingbird application serving every enabled service on one port.
public enum TesseraApplication {
    /// `loopback` is where the console reaches the public APIs; ``make`` sets it once the port is open.
    public static func router(services: TesseraServices, metrics: PrometheusCollectorRegistry?,
                              hook: (any PostLoginHook)? = nil, loopback: LoopbackAddress = LoopbackAddress()) async throws
        -> Router<TesseraRequestContext>
    {
        let router = Router(context: TesseraRequestContext.self)
        router.add(middleware: ClientAddressMiddleware(proxies: services.configuration.trustedProxies))
        router.add(middleware: SecurityHeadersMiddleware())
        if metrics != nil { router.add(middleware: MetricsMiddleware()) }
        router.add(middleware: RequestLogMiddleware())

        router.get("healthz") { _, _ in
            JSONResponse.text(#"{"status":"ok"}"#)
        }
        let store = services.store, analytics = services.analytics
        router.get("readyz") { _, context in
            do {
                try await store.read { db in _ = try await db.raw("SELECT 1 AS ok").all() }
            } catch {
                context.logger.warning("store not ready", metadata: ["error": "\(error)"])
                return JSONResponse.text(#"{"status":"unavailable","reason":"store"}"#, status: .serviceUnavailable)
            }
            // A ClickHouse that does not answer degrades analytics only (its endpoints answer 503); sign-in and the rest
            // still serve, so the instance stays ready and says which engines are down.
            let engines = (try? await analytics.engineHealth()) ?? [:]
            let degraded = engines.values.contains { $0 != "ok" }
            if degraded { context.logger.warning("analytics engine unavailable", metadata: ["engines": "\(engines)"]) }
            return JSONResponse.text(JSONValue.object([
                "status": .string(degraded ? "degraded" : "ready"),
                "analytics": .object(engines.mapValues { .string($0) }),
            ]).jsonText())
        }
        if let metrics {
            router.get("metrics") { _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                         body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
            }
        }
        let signIn = SignInService(tenant: services.tenant, tokens: services.tokens, store: services.store,
                                   clock: services.clock, hook: hook ?? ActionsPostLoginHook(services: services))
        OAuthRoutes(tenant: services.tenant, tokens: services.tokens, signIn: signIn).addRoutes(to: router)
        SignInRoutes(signIn: signIn, tokens: services.tokens, pages: try await Pages.load()).addRoutes(to: router)
        ManagementAPI(tenant: services.tenant, tokens: services.tokens).addRoutes(to: router)
        ActionsManagementAPI(actions: services.actions, runner: try ActionRunner(userHubBaseURL: services.userHubBaseURL),
                             tokens: services.tokens).addRoutes(to: router)
        AnalyticsAPI<TesseraRequestContext>(analytics: services.analytics).addRoutes(to: router)
        ChartRoutes(analytics: services.analytics, charts: services.charts).addRoutes(to: router)
        DirectoryAPI<TesseraRequestContext>(directory: services.directory).addRoutes(to: router)
        if let graphql = services.graphql { GraphQLRoutes<TesseraRequestContext>(service: graphql).addRoutes(to: router) }
        try DemoRoutes(tenant: services.tenant).addRoutes(to: router)
        try Console(settings: ConsoleSetup.settings(services), backend: ServerConsoleBackend(services: services), address: loopback,
                    clock: { services.clock.now() }).addRoutes(to: router)
        try OpenAPIRoutes().addRoutes(to: router)
        return router
    }

    public static func make(services: TesseraServices, metrics: PrometheusCollectorRegistry?, logger: Logger,
                            onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws
        -> some ApplicationProtocol
    {
        let configuration = services.configuration
        let loopback = LoopbackAddress()
        return Application(
            router: try await router(services: services, metrics: metrics, loopback: loopback),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Tessera"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                await loopback.listening(host: configuration.host, port: port)
                await onServerRunning(port)
            },
            logger: logger
        )
    }
}

/// Headers every response carries: no MIME sniffing, no framing of API responses, no referrer leaks.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        // Pages meant to be framed (charts) say where with CSP frame-ancestors; everything else refuses frames.
        if response.headers[.xFrameOptions] == nil, response.headers[.contentSecurityPolicy]?.contains("frame-ancestors") != true {
            response.headers[.xFrameOptions] = "DENY"
        }
        return response
    }
}

/// Logs each request's method, path and status at debug level, without the query string: queries carry secrets
/// (`?token=` on analytics endpoints and chart pages, `?code=` on callbacks) that must never reach a log.
struct RequestLogMiddleware<Context: ClientAddressRequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log(request, context, status: response.status.code, started)
            return response
        } catch let error as HTTPError {
            log(request, context, status: error.status.code, started)
            throw error
        }
    }

    private func log(_ request: Request, _ context: Context, status: Int, _ started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        context.logger.debug("request", metadata: [
            "method": .string(request.method.rawValue), "path": .string(request.uri.path), "status": .stringConvertible(status),
            "client": .string(context.clientIP),
            "ms": .stringConvertible(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000),
        ])
    }
}
