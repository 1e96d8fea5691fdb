import CoreMetrics
import Logging
import Prometheus
import RedisClient
import ServiceLifecycle
import UnixSignals

/// One `tokend` worker, wired from a validated configuration: the Redis client, the refresher and
/// (when enabled) the HTTP API. `tokend`'s `main` only parses arguments and calls `run()`; tests build
/// the same application from a test configuration.
public struct TokendApplication: Sendable {
    public let configuration: TokendConfiguration
    public let logger: Logger
    public let redis: RedisClient
    public let store: TokenStore
    /// The configured apps, held once for the refresher, the HTTP API and the gateway.
    let apps: AppDirectory
    public let refresher: TokenRefresher
    /// Keeps the apps' `tickets` (jsapi, wx_card) in Redis.
    public let ticketRefresher: TicketRefresher
    /// Forwards WeChat API calls with the current token injected, when `gateway.enabled`.
    public let gateway: TokenGateway?
    /// This worker's metrics, rendered by `GET /metrics`.
    public let registry: PrometheusCollectorRegistry

    /// - Parameters:
    ///   - fetcher: upstream; `WeChatUpstream` with `configuration.upstream` when nil (tests pass a scripted one).
    ///   - ticketFetcher: upstream for `getticket`, likewise.
    ///   Either way every call first takes a slot of `upstream.rate_limit` (`UpstreamRateLimit`).
    public init(
        configuration: TokendConfiguration, logger: Logger, registry: PrometheusCollectorRegistry = .init(), fetcher: (any TokenFetcher)? = nil,
        ticketFetcher: (any TicketFetcher)? = nil
    ) throws(RedisError) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: LogKey.worker] = "\(configuration.workerID)"
        self.logger = logger
        self.registry = registry
        redis = try configuration.redis.makeClient(
            RedisClientConfiguration(poolSize: configuration.redis.poolSize, commandTimeout: configuration.redis.commandTimeout)
        )
        store = TokenStore(redis: redis, keys: TokenKeys(prefix: configuration.redis.keyPrefix))
        let refresh = configuration.refresh
        let schedule = RefreshSchedule(ahead: refresh.ahead, lockTTL: refresh.lockTTL)
        let rateLimit = UpstreamRateLimit(
            redis: redis, keys: store.keys, limit: configuration.upstream.rateLimit, maxWait: UpstreamRateLimit.maxWait,
            metrics: UpstreamRateLimitMetrics(factory: PrometheusMetricsFactory(registry: registry)))
        // The gateway's index follows the announcements the refresher hears (dropping the oldest if it
        // falls behind: a token it missed is found by its next scan).
        let (heard, heardFeed) = AsyncStream.makeStream(of: TokenView.Heard.self, bufferingPolicy: .bufferingNewest(1024))
        let feedsGateway = configuration.gateway.enabled
        let context = RefreshContext(
            workerID: configuration.workerID,
            store: store,
            upstream: RateLimitedFetcher<any TokenFetcher>(upstream: fetcher ?? WeChatUpstream(settings: configuration.upstream), rateLimit: rateLimit),
            schedule: schedule,
            failurePolicy: FailurePolicy(retryInitial: refresh.retryInitial, retryMaximum: refresh.retryMaximum,
                                         configErrorRetry: refresh.configErrorRetry),
            forcedBudget: ForcedRefreshBudget(
                minimumTokenAge: refresh.forcedMinTokenAge, hourly: refresh.forcedHourlyBudget, daily: refresh.forcedDailyBudget,
                cooldown: refresh.forcedCooldown),
            stableForceDailyLimit: refresh.stableForceDailyLimit,
            checkInterval: refresh.checkInterval,
            fetchPermits: FetchPermits(limit: configuration.upstream.maxConcurrentCalls),
            metrics: TokenMetrics(
                factory: PrometheusMetricsFactory(registry: registry),
                perApp: PerAppMetricsFilter(mode: configuration.metrics.perApp, schedule: schedule)),
            tokenView: TokenView(maxAge: configuration.http.tokenCacheMaxAge) { if feedsGateway { heardFeed.yield($0) } },
            logger: logger
        )
        apps = AppDirectory(configuration.apps)
        refresher = TokenRefresher(apps: apps, context: context, checkInterval: refresh.checkInterval)
        ticketRefresher = TicketRefresher(
            apps: configuration.apps,
            context: TicketContext(refresh: context, upstream: RateLimitedFetcher<any TicketFetcher>(upstream: ticketFetcher ?? WeChatUpstream(settings: configuration.upstream), rateLimit: rateLimit),
                tokens: refresher))
        gateway = configuration.gateway.enabled
            ? TokenGateway(configuration: configuration, apps: apps, store: store, refresher: refresher, heard: heard,
                           metrics: GatewayMetrics(factory: PrometheusMetricsFactory(registry: registry)))
            : nil
    }

    /// This worker's metrics in the Prometheus text format, as `GET /metrics` serves them: the registry's
    /// worker-wide metrics, then the per-app ones (see `TokenMetrics`).
    public func renderMetrics() -> [UInt8] {
        var text: [UInt8] = []
        registry.emit(into: &text)
        text += refresher.renderAppMetrics()
        return text
    }

    /// The services of this worker, in start order (they stop in reverse).
    public var services: [any Service] {
        let gatewayServices: [any Service] = gateway.map { [$0] } ?? []
        // A ServiceGroup takes a service that returns for a failure: the ticket refresher runs only with tickets to keep.
        let ticketServices: [any Service] = configuration.apps.contains { !$0.tickets.isEmpty } ? [ticketRefresher] : []
        let workerServices: [any Service] = [refresher] + ticketServices + [redisProbe] + gatewayServices
        return configuration.http.enabled ? workerServices + [HTTPService(application: self)] : workerServices
    }

    /// Runs until SIGTERM or SIGINT, then stops taking leases, releases those held and returns.
    /// Refuses a Redis Cluster node first (`RedisError.clusterMode`).
    public func run() async throws {
        try await redis.refuseUnsupportedServer()
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }
}
