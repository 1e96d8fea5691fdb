import Logging
import RedisClient
import Synchronization

/// Why this worker should not get traffic: the answer of `GET /readyz`.
///
/// It describes the worker, never an app: an app whose secret is wrong has no token on every worker
/// alike, so taking workers out of the load balancer for it would only add an outage for every other app.
/// Per-app state is on `GET /v1/status`.
public enum NotReadyReason: String, Sendable, Hashable, Encodable {
    /// Redis refuses this worker's credentials (`WRONGPASS`, `NOAUTH`): a person must fix the password.
    case redisAuthentication = "redis_authentication"
    /// Redis refuses the database of `redis.url` (`SELECT` failed).
    case redisDatabase = "redis_database"
    /// The ACL user may not run a command the worker needs (`NOPERM`): see the users in docs/redis-contract.md.
    case redisPermission = "redis_permission"
    /// Redis does not answer.
    case redisUnreachable = "redis_unreachable"
    /// The subscription to `P:refresh`/`P:refreshed` is not (yet, or no longer) established: forced
    /// refreshes and announcements would not reach this worker. Reported until the first subscription;
    /// a later loss shows as a Redis outage.
    case notSubscribed = "not_subscribed"
    /// SIGTERM or SIGINT arrived: the worker is finishing its requests and releasing its leases.
    case shuttingDown = "shutting_down"

    /// Classifies a Redis failure: a refusal of the configuration is not something retrying fixes.
    init(_ error: RedisError) {
        switch error.serverErrorPrefix {
        case "NOAUTH", "WRONGPASS": self = .redisAuthentication
        case "SELECT": self = .redisDatabase
        case "NOPERM": self = .redisPermission
        default: self = error.code == .authenticationFailed ? .redisAuthentication : .redisUnreachable
        }
    }

    /// Failures a retry will not cure: logged as errors, since a person must act.
    var needsOperator: Bool { self == .redisAuthentication || self == .redisDatabase || self == .redisPermission }
}

/// This worker's view of its own health: whether Redis answers, whether the refresher's subscription
/// stands, whether it is shutting down. Fed by the Redis probe, the subscription and the HTTP service;
/// read by `/readyz`.
///
/// It also makes a Redis outage visible in the log once per worker, not once per app or per request: one
/// warning when Redis stops answering, one when it answers again. A refusal of the configuration (wrong
/// password, bad database) is logged as an error at most once a minute for as long as it lasts.
public final class WorkerHealth: Sendable {
    struct Outage {
        var since: ContinuousClock.Instant
        var reason: NotReadyReason
        var error: RedisError
    }

    struct State {
        var subscribed = false
        var shuttingDown = false
        var outage: Outage?
    }

    /// One problem keeping the worker out of the load balancer, with the details a person needs. The
    /// message omits the Redis address (`/readyz` needs no key); the log line has it.
    public struct Problem: Sendable, Hashable, Encodable {
        public var reason: NotReadyReason
        public var message: String
    }

    private let state = Mutex(State())
    private let misconfiguration = RateLimitedLog(interval: .seconds(60), level: .error)

    public init() {}

    /// The refresher's subscription is established (again): messages reach this worker.
    func subscribed() {
        state.withLock { $0.subscribed = true }
    }

    /// Graceful shutdown began: the load balancer should stop sending requests now.
    func beginShutdown() {
        state.withLock { $0.shuttingDown = true }
    }

    /// Redis answered a command: ends an outage, logging how long it lasted.
    func redisAnswered(logger: Logger) {
        guard let ended = state.withLock({ state -> Outage? in
            defer { state.outage = nil }
            return state.outage
        }) else { return }
        logger.warning("Redis reachable again", metadata: [
            "redis.outage_seconds": "\((ContinuousClock.now - ended.since).components.seconds)",
        ])
    }

    /// A command failed: starts an outage (one warning). The subscription is not marked lost: it
    /// reconnects on its own, possibly before a pooled connection notices the outage, and would then not
    /// report again. While Redis fails, the outage itself keeps the worker out of the load balancer.
    func redisFailed(_ error: RedisError, logger: Logger) {
        let reason = NotReadyReason(error)
        let started = state.withLock { state -> Bool in
            defer { state.outage = Outage(since: state.outage?.since ?? .now, reason: reason, error: error) }
            return state.outage == nil
        }
        if reason.needsOperator {
            misconfiguration.log(logger, "Redis refuses this worker's configuration; fix redis.url or the Redis password", metadata: [
                LogKey.error: "\(error)", "readiness.reason": "\(reason.rawValue)",
            ])
        } else if started {
            logger.warning("Redis unavailable; keeping the last tokens in memory and retrying", metadata: [LogKey.error: "\(error)"])
        }
    }

    /// Why the worker is not ready, or empty when it is.
    public var problems: [Problem] {
        let state = state.withLock { $0 }
        var problems: [Problem] = []
        if state.shuttingDown { problems.append(Problem(reason: .shuttingDown, message: "the worker is shutting down")) }
        if let outage = state.outage {
            problems.append(Problem(reason: outage.reason, message: "Redis: \(outage.error.message)"))
        } else if !state.subscribed {
            problems.append(Problem(reason: .notSubscribed, message: "not subscribed to the refresh channels yet"))
        }
        return problems
    }
}
