import CoreMetrics
import Logging
import RedisClient
import Synchronization

/// Forced refreshes: a request is put to Redis once (`TokenStore.acceptForcedRefresh`), where it stands
/// as `forced_at` until a newer token is written. Any worker's loop then sees it in meta and carries it
/// out, at `retry_at` after a transient failure, after a Redis error, or after the worker that accepted
/// it died: nothing about it lives only in one worker's memory.
extension AppRefresher {
    /// Puts a request of the HTTP API to Redis at once, so the caller learns at once whether it was
    /// refused, and wakes the loop when it stands.
    func forceRefresh(_ request: ForcedRefreshRequest) async throws(RedisError) -> ForcedRefreshVerdict {
        let verdict = try await accept(request, snapshot: try await context.store.snapshot(app.appid))
        if verdict.standingSince != nil { wake() }
        return verdict
    }

    /// Decides a request against what Redis holds, counting its outcome: a request this worker got
    /// accepted is counted once it is settled (see `settleAccepted`).
    func accept(_ request: ForcedRefreshRequest, snapshot: TokenStore.Snapshot) async throws(RedisError) -> ForcedRefreshVerdict {
        let now = snapshot.time.redisNow()
        let status = snapshot.status
        if let bad = request.badToken, status.record?.token != bad {
            metrics.forcedRefresh(.deduplicated)
            return .stale
        }
        if let retryAt = status.retryAt, now < retryAt, status.lastError != nil, status.lastErrorKind != "transient" {
            // Bad secret, IP not whitelisted, risk control, quota: forcing would fail the same way.
            metrics.forcedRefresh(.refused)
            logger.info("forced refresh refused: upstream refuses this app until retry_at",
                        metadata: [LogKey.retryIn: "\(retryAt - now) ms", LogKey.errcode: "\(status.lastErrcode.map(String.init) ?? "-")"])
            return .refused(ForcedRefreshRefusal(reason: .upstreamRefusing, until: retryAt, firstInPeriod: false))
        }
        let verdict = try await context.store.acceptForcedRefresh(
            app.appid, badToken: request.badToken, budget: context.forcedBudget, worker: context.workerID)
        switch verdict {
        case .stale, .standing: metrics.forcedRefresh(.deduplicated)
        case .cooldown: metrics.forcedRefresh(.cooldown)
        case .accepted(let since): accepted.withLock { $0 = AcceptedRequest(since: since, token: status.record?.token) }
        case .refused(let refusal):
            metrics.forcedRefresh(.budget)
            let metadata: Logger.Metadata = [LogKey.reason: "\(refusal.reason.rawValue)", LogKey.retryIn: "\(refusal.until - now) ms"]
            if refusal.firstInPeriod {
                logger.warning("forced refresh refused by the app's forced-refresh budget; scheduled refreshes go on", metadata: metadata)
            } else {
                logger.debug("forced refresh refused by the app's forced-refresh budget", metadata: metadata)
            }
        }
        return verdict
    }

    /// This worker got a request accepted and has not counted its outcome yet.
    var awaitsSettlement: Bool { accepted.withLock { $0 != nil } }

    /// Counts the request this worker got accepted once `snapshot` (read after it) shows it settled,
    /// whichever worker settled it: `refreshed` (with its latency) when another token replaced the one it
    /// stood for; with that token still stored, `refused` when it was withdrawn (upstream refuses the
    /// app, or the stable_token force allowance ran out), else `deduplicated` (upstream handed out the
    /// same token again, all it will give).
    func settleAccepted(_ snapshot: TokenStore.Snapshot) {
        let status = snapshot.status
        let settled = accepted.withLock { accepted -> AcceptedRequest? in
            // A snapshot read before the acceptance says nothing about it.
            guard let request = accepted, snapshot.time.redisMillis > request.since, status.forcedAt != request.since else { return nil }
            accepted = nil
            return request
        }
        guard let settled else { return }
        if status.record?.token != settled.token {
            metrics.forcedRefresh(.refreshed)
            let answeredAt = status.record?.fetchedAt ?? snapshot.time.redisMillis
            context.metrics.forcedRefreshLatency.recordNanoseconds(max(answeredAt - settled.since, 0) * 1_000_000)
        } else if let refusal = status.forcedRefusal, !refusal.reason.isBudget, status.forcedRefusedAt ?? .min >= settled.since {
            metrics.forcedRefresh(.refused)
        } else {
            metrics.forcedRefresh(.deduplicated)
        }
    }
}

/// A forced refresh this worker got accepted: when (`forced_at`), and the token it stood for. A class:
/// rarely set, and inline it would take 24 more bytes of every app.
final class AcceptedRequest: Sendable {
    let since: Int64
    let token: String?

    init(since: Int64, token: String?) {
        self.since = since
        self.token = token
    }
}
