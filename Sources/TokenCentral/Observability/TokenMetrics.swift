import CoreMetrics
import Synchronization

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
/// | tokencentral_forced_refresh_total | counter | app, outcome (refreshed, deduplicated, cooldown, budget, refused; unknown_app and malformed with app="unknown") |
/// | tokencentral_redis_errors_total | counter | operation (refresh, watchdog, http; subscribe: subscriptions lost and re-established) |
/// | tokencentral_forced_refresh_latency_seconds | histogram | — (request accepted in Redis → new token issued) |
/// | tokencentral_redis_clock_steps_total | counter | direction (back, forward): jumps of the Redis clock this worker saw |
/// | tokencentral_anomalies_total | counter | kind (stale_token, implausible_meta, lock_without_ttl, refused_write, lifetime_capped) |
/// | tokencentral_gateway_calls_total | counter | outcome (forwarded, rejected, refused, failed) |
/// | tokencentral_gateway_retries_total | counter | — |
/// | tokencentral_gateway_upstream_responses_total | counter | class (1xx, 2xx, 3xx, 4xx, 5xx, error) |
/// | tokencentral_gateway_added_latency_seconds | histogram | — (time in the gateway, WeChat's time excluded) |
/// | tokencentral_upstream_rate_limited_total | counter | outcome (waited, refused, redis_unavailable): calls held by `upstream.rate_limit` |
/// | tokencentral_http_token_reads_from_memory_total | counter | — (`GET /v1/apps/{appid}/access_token` answered on the event loop) |
///
/// `metrics.per_app` (`PerAppMetricsFilter`) chooses which apps' per-app series are rendered: all, those
/// needing attention, or none; the worker-wide series are always rendered.
/// The worker-wide metrics (Redis errors, forced-refresh latency, and the gateway's four in `GatewayMetrics`,
/// created only when the gateway is enabled) go through swift-metrics into the swift-prometheus registry.
/// The per-app ones are `AppMetrics` atomics that `MetricsExposition` renders: swift-prometheus 2.4
/// copies a whole metric family to add one labelled series, so registering the 15 series of each of
/// 10,000 apps is quadratic and took minutes of CPU at startup; atomics cost nothing to create.
public struct TokenMetrics: Sendable {
    let redisErrorsInRefresh: Counter
    let redisErrorsInWatchdog: Counter
    let redisErrorsInHTTP: Counter
    /// Token reads `CachedTokenReadHandler` answered; the others went through the router.
    let tokenReadsFromMemory: Counter
    let subscriptionsLost: Counter
    let forcedRefreshLatency: Timer
    /// Forced refresh requests that reached no app: rendered with `app="unknown"`.
    let forcedForUnknownApp = MetricCounter()
    let forcedMalformed = MetricCounter()
    let clockStepsBack: Counter
    let clockStepsForward: Counter
    /// Counted once per occurrence, whichever app it concerns (see `Anomaly`).
    let anomalies: [Anomaly: Counter]
    /// Which apps' series `/metrics` renders (`metrics.per_app`).
    let perApp: PerAppMetricsFilter

    public init(factory: any MetricsFactory, perApp: PerAppMetricsFilter = .all) {
        self.perApp = perApp
        let redisErrors = "tokencentral_redis_errors_total"
        redisErrorsInRefresh = Counter(label: redisErrors, dimensions: [("operation", "refresh")], factory: factory)
        redisErrorsInWatchdog = Counter(label: redisErrors, dimensions: [("operation", "watchdog")], factory: factory)
        redisErrorsInHTTP = Counter(label: redisErrors, dimensions: [("operation", "http")], factory: factory)
        subscriptionsLost = Counter(label: redisErrors, dimensions: [("operation", "subscribe")], factory: factory)
        tokenReadsFromMemory = Counter(label: "tokencentral_http_token_reads_from_memory_total", factory: factory)
        forcedRefreshLatency = Timer(label: "tokencentral_forced_refresh_latency_seconds", factory: factory)
        let clockSteps = "tokencentral_redis_clock_steps_total"
        clockStepsBack = Counter(label: clockSteps, dimensions: [("direction", "back")], factory: factory)
        clockStepsForward = Counter(label: clockSteps, dimensions: [("direction", "forward")], factory: factory)
        anomalies = Dictionary(uniqueKeysWithValues: Anomaly.allCases.map { kind in
            (kind, Counter(label: "tokencentral_anomalies_total", dimensions: [("kind", kind.rawValue)], factory: factory))
        })
    }

    func anomaly(_ kind: Anomaly) {
        anomalies[kind]?.increment()
    }
}

/// Something found wrong in Redis or in an upstream answer, and what the worker did about it.
enum Anomaly: String, Sendable, CaseIterable {
    /// Redis served an older token (or generation) than one this worker knows: written back through the fence.
    case staleToken = "stale_token"
    /// Meta fields no worker could have written (issued in the future, expiry or `retry_at` too far): clamped.
    case implausibleMeta = "implausible_meta"
    /// A lease key without a TTL, which would block the app forever: given the lease TTL.
    case lockWithoutTTL = "lock_without_ttl"
    /// The fence refused a fetched or written-back token (`older`, `ambiguous`, `expired`): this worker backs off.
    case refusedWrite = "refused_write"
    /// Upstream announced a lifetime above `TokenLifetime.maximum`: capped.
    case lifetimeCapped = "lifetime_capped"
}

/// The metrics of one app, created once with its refresher. The gauges are computed at scrape time
/// from the token the refresher remembers.
///
/// Its thirteen counters live inline behind one lock, not as an object each: at 100,000 apps that is
/// the difference between about 100 and about 900 bytes per app. They change a few times per token
/// lifetime, so the lock is never busy.
final class AppMetrics: Sendable {
    let appid: String
    /// The token endpoint this app's grant calls, e.g. `/cgi-bin/token`.
    let endpoint: String

    private struct Counts {
        var slots = InlineArray<13, UInt32>(repeating: 0)
        /// Errcodes are open-ended: counted as they are seen.
        var errcodes: [Int: Int] = [:]
    }

    private let counts = Mutex(Counts())
    /// The remembered token's times (0 before any token): the gauges are computed from them when
    /// `/metrics` is scraped, so nothing is updated per app per watchdog tick.
    private let expiresAt = Atomic<Int64>(0)
    private let fetchedAt = Atomic<Int64>(0)
    /// The last upstream call failed (any kind): the app needs attention (`PerAppMetricsFilter`).
    private let lastCallFailed = Atomic<Bool>(false)
    /// A forced refresh was refused (`refused`, `budget`) and no token was fetched since.
    private let forcedRefused = Atomic<Bool>(false)
    private let generation = Atomic<Int>(0)

    private static let upstreamResults = ["ok", "transient", "configuration", "risk_control", "quota"]
    private static let forcedOutcomes: [ForcedRefreshOutcome] = [.refreshed, .deduplicated, .cooldown, .budget, .refused]

    init(appid: String, endpoint: String) {
        self.appid = appid
        self.endpoint = endpoint
    }

    var lockAcquired: AppCounter { AppCounter(metrics: self, slot: 0) }
    var lockContended: AppCounter { AppCounter(metrics: self, slot: 1) }
    var lockLost: AppCounter { AppCounter(metrics: self, slot: 2) }
    /// Upstream calls by result, in the order `/metrics` lists them.
    var upstreamCalls: [(key: String, value: AppCounter)] {
        Self.upstreamResults.enumerated().map { ($1, AppCounter(metrics: self, slot: 3 + $0)) }
    }
    /// Forced refresh requests by outcome, in the order `/metrics` lists them.
    var forced: [(key: ForcedRefreshOutcome, value: AppCounter)] {
        Self.forcedOutcomes.enumerated().map { ($1, AppCounter(metrics: self, slot: 3 + Self.upstreamResults.count + $0)) }
    }

    func upstreamCall(result: String) {
        upstreamCalls.first { $0.key == result }?.value.increment()
        lastCallFailed.store(result != "ok", ordering: .relaxed)
        if result == "ok" { forcedRefused.store(false, ordering: .relaxed) }
    }

    func forcedRefresh(_ outcome: ForcedRefreshOutcome) {
        forced.first { $0.key == outcome }?.value.increment()
        if outcome == .refused || outcome == .budget { forcedRefused.store(true, ordering: .relaxed) }
    }

    func errcode(_ errcode: Int) {
        counts.withLock { $0.errcodes[errcode, default: 0] += 1 }
    }

    fileprivate func increment(_ slot: Int) {
        counts.withLock { $0.slots[slot] &+= 1 }
    }

    fileprivate func count(_ slot: Int) -> Int {
        Int(counts.withLock { $0.slots[slot] })
    }

    /// Keeps the times of the token this worker now remembers, for the gauges.
    func observe(_ record: TokenRecord?) {
        guard let record else { return }
        expiresAt.store(record.expiresAt, ordering: .relaxed)
        fetchedAt.store(record.fetchedAt, ordering: .relaxed)
        generation.store(record.generation, ordering: .relaxed)
    }

    /// Seconds until expiry, token age in seconds, generation at Redis time `nowMillis`: 0 before any token.
    func gauges(nowMillis: Int64) -> (expiresIn: Double, age: Double, generation: Int) {
        let expiresAt = expiresAt.load(ordering: .relaxed)
        guard expiresAt > 0 else { return (0, 0, 0) }
        return (Double(max(expiresAt - nowMillis, 0)) / 1000, Double(max(nowMillis - fetchedAt.load(ordering: .relaxed), 0)) / 1000,
                generation.load(ordering: .relaxed))
    }

    /// What decides whether the app needs attention, at Redis time `nowMillis`.
    func attention(nowMillis: Int64) -> AppAttention {
        let expiresAt = expiresAt.load(ordering: .relaxed)
        return AppAttention(
            expiresInMillis: expiresAt > 0 ? max(expiresAt - nowMillis, 0) : 0,
            ageMillis: expiresAt > 0 ? max(nowMillis - fetchedAt.load(ordering: .relaxed), 0) : 0,
            lastCallFailed: lastCallFailed.load(ordering: .relaxed), forcedRefused: forcedRefused.load(ordering: .relaxed))
    }

    /// Counts per errcode seen, in errcode order.
    var errcodeCounts: [(errcode: Int, count: Int)] {
        counts.withLock { $0.errcodes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }
}

/// One of an app's counters (`AppMetrics`), rendered as a Prometheus counter by `MetricsExposition`.
struct AppCounter: Sendable {
    fileprivate let metrics: AppMetrics
    fileprivate let slot: Int

    func increment() {
        metrics.increment(slot)
    }

    var count: Int { metrics.count(slot) }
}

/// What became of a forced refresh request.
public enum ForcedRefreshOutcome: String, Sendable, Hashable {
    /// A new token was fetched because of it.
    case refreshed
    /// The reported token was no longer current (someone already refreshed), or the request was
    /// merged into one already waiting for the app's loop.
    case deduplicated
    /// Without `bad_token`, within the cooldown of a previous forced refresh.
    case cooldown
    /// Refused by the app's forced-refresh budget (`ForcedRefreshBudget`: token age, hourly, daily).
    case budget
    /// Refused by upstream: it refuses the app (configuration, risk control, quota), or the stable_token
    /// force allowance is used up. A transient failure refuses nothing: the request stands.
    case refused
    case unknownApp = "unknown_app"
    case malformed
}
