import CoreMetrics
import Hummingbird
import Logging
import RedisClient

/// The HTTP API of one worker: what it reads and drives, and the router serving it.
///
/// Tokens are served from this worker's `TokenView`, which reads Redis (the one place all workers agree
/// on) on a miss and drops what `P:refreshed` announces replaced; see it for how stale a token can be.
struct TokenAPI: Sendable {
    let store: TokenStore
    let tokenView: TokenView
    let refresher: TokenRefresher
    /// The worker's metrics in the Prometheus text format.
    let renderMetrics: @Sendable () -> [UInt8]
    let tokenMetrics: TokenMetrics
    /// When set, `/v1/*` requires `Authorization: Bearer <key>`.
    let apiKey: Secret?
    /// The configured apps; any other appid is `unknown_app` without a Redis round trip. The ticket
    /// routes serve only the tickets an app keeps (`tickets:`).
    let apps: AppDirectory
    /// How long `POST .../refresh` waits for a new token: one upstream call plus slack for the lease and the write.
    let refreshDeadline: Duration
    /// Refreshes this worker's readiness (`probe.health`) on every `/readyz`.
    let probe: RedisProbe
    let waiters: RefreshWaiters

    init(_ application: TokendApplication) {
        store = application.store
        tokenView = application.refresher.tokenView
        refresher = application.refresher
        renderMetrics = { application.renderMetrics() }
        tokenMetrics = application.refresher.metrics
        apiKey = application.configuration.http.apiKey
        apps = application.apps
        refreshDeadline = application.configuration.upstream.timeout + .seconds(2)
        probe = application.redisProbe
        waiters = application.refresher.refreshWaiters
    }

    func buildRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: APIErrorMiddleware())
        router.get("healthz") { _, _ in StatusBody(status: "ok") }
        router.get("readyz") { _, _ in await readiness() }
        router.get("metrics") { _, _ in metrics() }

        let v1 = router.group("v1")
        if let apiKey { v1.add(middleware: BearerAuthMiddleware(apiKey: apiKey)) }
        v1.get("status") { _, _ in await appStatus() }
        v1.get("apps/{appid}/access_token") { _, context in
            try await accessToken(appid: try context.parameters.require("appid"), logger: context.logger)
        }
        v1.post("apps/{appid}/refresh") { request, context in
            try await refresh(appid: try context.parameters.require("appid"), body: request.body, logger: context.logger)
        }
        addTicketRoutes(to: v1)
        return router
    }

    /// `GET /metrics`: this worker's metrics in the Prometheus text format.
    private func metrics() -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: renderMetrics()))
        )
    }

    /// `GET /v1/apps/{appid}/access_token`: the current token in WeChat's own response shape, as business
    /// servers read it (the key and its TTL), through `tokenView`; meta is read only to say why there is none.
    private func accessToken(appid: String, logger: Logger) async throws(APIError) -> Response {
        try requireConfigured(appid)
        let current = try await fromStore(appid, logger: logger) { store throws(RedisError) in try await tokenView.current(appid, store: store) }
        guard let current else { throw Self.tokenUnavailable(appid, snapshot: try await snapshot(appid, logger: logger)) }
        return current.body.response(expiresIn: current.expiresIn)
    }

    func requireConfigured(_ appid: String) throws(APIError) {
        guard apps.position(of: appid) != nil else { throw Self.unknownApp(appid) }
    }

    static func unknownApp(_ appid: String) -> APIError {
        APIError(.unknownApp, "app \(APIError.quoted(appid)) is not configured on this worker")
    }

    static func tokenUnavailable(_ appid: String, snapshot: TokenStore.Snapshot) -> APIError {
        let cause = snapshot.status.lastError.map { " (last upstream error: \($0))" } ?? ""
        return APIError(.tokenUnavailable, "no valid token for \(appid) yet\(cause)")
    }

    func snapshot(_ appid: String, logger: Logger) async throws(APIError) -> TokenStore.Snapshot {
        try await fromStore(appid, logger: logger) { store throws(RedisError) in try await store.snapshot(appid) }
    }

    /// Runs one read of `appid`'s state; an unreachable Redis becomes the client's 503, and its details
    /// (address, cause) go to the log only.
    func fromStore<Value>(
        _ appid: String, logger: Logger, _ read: (TokenStore) async throws(RedisError) -> Value
    ) async throws(APIError) -> Value {
        do {
            return try await read(store)
        } catch {
            tokenMetrics.redisErrorsInHTTP.increment()
            logger.info("cannot read the token store", metadata: [LogKey.appID: "\(appid)", LogKey.error: "\(error)"])
            throw APIError(.redisUnavailable, "the token store is unreachable; retry shortly")
        }
    }
}
