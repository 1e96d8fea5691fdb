import CoreMetrics
import Synchronization

/// Every metric the service exports, with its dimensions. Names follow Prometheus conventions.
/// Metric objects are created once (per worker, or per app in `AppMetrics`) and reused.
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
/// | tokencentral_redis_errors_total | counter | operation (refresh, watchdog) |
/// | tokencentral_forced_refresh_latency_seconds | histogram | — (request received → new token written) |
public struct TokenMetrics: Sendable {
    let factory: any MetricsFactory
    let redisErrorsInRefresh: Counter
    let redisErrorsInWatchdog: Counter
    /// Forced refresh requests that reached no app: `app="unknown"`.
    let forcedForUnknownApp: Counter
    let forcedMalformed: Counter
    let forcedRefreshLatency: Timer

    public init(factory: any MetricsFactory) {
        self.factory = factory
        let redisErrors = "tokencentral_redis_errors_total"
        redisErrorsInRefresh = Counter(label: redisErrors, dimensions: [("operation", "refresh")], factory: factory)
        redisErrorsInWatchdog = Counter(label: redisErrors, dimensions: [("operation", "watchdog")], factory: factory)
        let forced = "tokencentral_forced_refresh_total"
        forcedForUnknownApp = Counter(label: forced, dimensions: [("app", "unknown"), ("outcome", ForcedRefreshOutcome.unknownApp.rawValue)], factory: factory)
        forcedMalformed = Counter(label: forced, dimensions: [("app", "unknown"), ("outcome", ForcedRefreshOutcome.malformed.rawValue)], factory: factory)
        forcedRefreshLatency = Timer(label: "tokencentral_forced_refresh_latency_seconds", factory: factory)
    }

    func forApp(_ appid: String, endpoint: String) -> AppMetrics {
        AppMetrics(appid: appid, endpoint: endpoint, factory: factory)
    }
}

/// The metrics of one app, created once when its refresher starts.
final class AppMetrics: Sendable {
    let expiresIn: Gauge
    let age: Gauge
    let generation: Gauge
    let lockAcquired: Counter
    let lockContended: Counter
    let lockLost: Counter
    private let upstreamCalls: [String: Counter]
    private let forced: [ForcedRefreshOutcome: Counter]
    /// Errcodes are open-ended: their counters are made on first sight, then reused.
    private let errcodes: Mutex<[Int: Counter]>
    private let appid: String
    private let factory: any MetricsFactory

    static let upstreamResults = ["ok", "transient", "configuration", "risk_control", "quota"]

    init(appid: String, endpoint: String, factory: any MetricsFactory) {
        self.appid = appid
        self.factory = factory
        let app = [("app", appid)]
        expiresIn = Gauge(label: "tokencentral_token_expires_in_seconds", dimensions: app, factory: factory)
        age = Gauge(label: "tokencentral_token_age_seconds", dimensions: app, factory: factory)
        generation = Gauge(label: "tokencentral_token_generation", dimensions: app, factory: factory)
        lockAcquired = Counter(label: "tokencentral_lock_total", dimensions: app + [("outcome", "acquired")], factory: factory)
        lockContended = Counter(label: "tokencentral_lock_total", dimensions: app + [("outcome", "contended")], factory: factory)
        lockLost = Counter(label: "tokencentral_lock_total", dimensions: app + [("outcome", "lost")], factory: factory)
        var upstreamCalls: [String: Counter] = [:]
        for result in Self.upstreamResults {
            upstreamCalls[result] = Counter(
                label: "tokencentral_upstream_calls_total", dimensions: app + [("endpoint", endpoint), ("result", result)], factory: factory)
        }
        self.upstreamCalls = upstreamCalls
        var forced: [ForcedRefreshOutcome: Counter] = [:]
        for outcome in [ForcedRefreshOutcome.refreshed, .deduplicated, .cooldown, .refused] {
            forced[outcome] = Counter(label: "tokencentral_forced_refresh_total", dimensions: app + [("outcome", outcome.rawValue)], factory: factory)
        }
        self.forced = forced
        errcodes = Mutex([:])
    }

    func upstreamCall(result: String) {
        upstreamCalls[result]?.increment()
    }

    func forcedRefresh(_ outcome: ForcedRefreshOutcome) {
        forced[outcome]?.increment()
    }

    func errcode(_ errcode: Int) {
        let counter = errcodes.withLock { counters in
            if let counter = counters[errcode] { return counter }
            let counter = Counter(label: "tokencentral_upstream_errcodes_total", dimensions: [("app", appid), ("errcode", "\(errcode)")],
                                  factory: factory)
            counters[errcode] = counter
            return counter
        }
        counter.increment()
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
    /// Not allowed now (stable_token daily force limit, upstream backing off, upstream failure).
    case refused
    case unknownApp = "unknown_app"
    case malformed
}
