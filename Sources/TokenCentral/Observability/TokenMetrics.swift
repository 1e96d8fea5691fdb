import CoreMetrics

/// Every metric the service exports, with its dimensions. Names follow Prometheus conventions.
///
/// | name | type | dimensions |
/// |---|---|---|
/// | tokencentral_token_expires_in_seconds | gauge | app |
/// | tokencentral_token_age_seconds | gauge | app |
/// | tokencentral_token_generation | gauge | app |
/// | tokencentral_upstream_calls_total | counter | app, endpoint, result (ok, transient, configuration, risk_control, quota) |
/// | tokencentral_upstream_errcodes_total | counter | app, errcode |
/// | tokencentral_lock_total | counter | app, outcome (acquired, contended, lost) |
/// | tokencentral_forced_refresh_total | counter | app, outcome (refreshed, deduplicated, cooldown, refused, unknown_app, malformed) |
/// | tokencentral_redis_errors_total | counter | operation |
/// | tokencentral_forced_refresh_latency_seconds | histogram | — |
public struct TokenMetrics: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func forApp(_ appid: String, endpoint: String) -> AppMetrics {
        AppMetrics(appid: appid, endpoint: endpoint, factory: factory)
    }

    func redisError(operation: String) {
        Counter(label: "tokencentral_redis_errors_total", dimensions: [("operation", operation)], factory: factory).increment()
    }

    func forcedRefresh(appid: String, outcome: ForcedRefreshOutcome) {
        Counter(label: "tokencentral_forced_refresh_total", dimensions: [("app", appid), ("outcome", outcome.rawValue)], factory: factory)
            .increment()
    }

    func forcedRefreshLatency(_ duration: Duration) {
        Timer(label: "tokencentral_forced_refresh_latency_seconds", factory: factory)
            .recordNanoseconds(duration.milliseconds * 1_000_000)
    }
}

/// The metrics of one app, created once when its refresher starts.
struct AppMetrics: Sendable {
    let appid: String
    let endpoint: String
    let factory: any MetricsFactory
    let expiresIn: Gauge
    let age: Gauge
    let generation: Gauge
    let lockAcquired: Counter
    let lockContended: Counter
    let lockLost: Counter

    init(appid: String, endpoint: String, factory: any MetricsFactory) {
        self.appid = appid
        self.endpoint = endpoint
        self.factory = factory
        let app = [("app", appid)]
        expiresIn = Gauge(label: "tokencentral_token_expires_in_seconds", dimensions: app, factory: factory)
        age = Gauge(label: "tokencentral_token_age_seconds", dimensions: app, factory: factory)
        generation = Gauge(label: "tokencentral_token_generation", dimensions: app, factory: factory)
        lockAcquired = Counter(label: "tokencentral_lock_total", dimensions: app + [("outcome", "acquired")], factory: factory)
        lockContended = Counter(label: "tokencentral_lock_total", dimensions: app + [("outcome", "contended")], factory: factory)
        lockLost = Counter(label: "tokencentral_lock_total", dimensions: app + [("outcome", "lost")], factory: factory)
    }

    func upstreamCall(result: String) {
        Counter(label: "tokencentral_upstream_calls_total",
                dimensions: [("app", appid), ("endpoint", endpoint), ("result", result)], factory: factory).increment()
    }

    func errcode(_ errcode: Int) {
        Counter(label: "tokencentral_upstream_errcodes_total", dimensions: [("app", appid), ("errcode", "\(errcode)")], factory: factory)
            .increment()
    }

    func observe(_ record: TokenRecord?, nowMillis: Int64) {
        guard let record else { return }
        expiresIn.record(Double(max(record.expiresAt - nowMillis, 0)) / 1000)
        age.record(Double(max(nowMillis - record.fetchedAt, 0)) / 1000)
        generation.record(record.generation)
    }
}

/// What became of a forced refresh request.
public enum ForcedRefreshOutcome: String, Sendable, Hashable {
    /// A new token was fetched because of it.
    case refreshed
    /// The reported token was no longer current: someone already refreshed.
    case deduplicated
    /// Without `bad_token`, within the cooldown of a previous forced refresh.
    case cooldown
    /// Not allowed now (stable_token daily force limit, quota, risk control).
    case refused
    case unknownApp = "unknown_app"
    case malformed
}
