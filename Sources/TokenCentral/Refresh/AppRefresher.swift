import CoreMetrics
import Logging
import RedisClient
import Synchronization

/// Keeps one app's token valid in Redis, in one worker. Every worker runs one per app; the refresh
/// lease makes exactly one of them call upstream per token lifetime.
///
/// The loop: read meta and the Redis clock → re-seed Redis from memory if it lost a valid token →
/// decide (pure `RefreshSchedule`) → either sleep until due (woken early by `P:refreshed`, forced
/// refreshes, resubscribes and the key watchdog) or take the lease and refresh.
final class AppRefresher: Sendable {
    let app: AppConfiguration
    private let context: RefreshContext
    let metrics: AppMetrics
    private let logger: Logger
    private let wakeup = Wakeup()
    private let forced = Mutex(PendingForcedRefresh())
    private let latest = Mutex<TokenRecord?>(nil)

    init(app: AppConfiguration, context: RefreshContext) {
        self.app = app
        self.context = context
        self.metrics = AppMetrics(appid: app.appid, endpoint: WeChatUpstream.endpointPath(app.grant))
        var logger = context.logger
        logger[metadataKey: LogKey.appID] = "\(app.appid)"
        self.logger = logger
    }

    /// Re-read Redis now: a new token was announced, the subscription was re-established, or the key vanished.
    func wake() {
        wakeup.signal()
    }

    /// Queues a forced refresh; requests arriving before the loop sees them are merged (see `PendingForcedRefresh`)
    /// and counted as deduplicated.
    func requestForcedRefresh(_ request: ForcedRefreshRequest) {
        if !forced.withLock({ $0.add(request) }) { metrics.forcedRefresh(.deduplicated) }
        wakeup.signal()
    }

    /// Updates the per-app gauges from memory (no Redis round trip): called on every watchdog tick.
    func observe(nowMillis: Int64) {
        metrics.observe(latest.withLock { $0 }, nowMillis: nowMillis)
    }

    func run() async {
        var loop = LoopState()
        while !Task.isCancelled {
            do throws(RedisError) {
                try await iterate(&loop)
                if loop.redisFailures > 0 {
                    logger.info("Redis reachable again")
                    loop.redisFailures = 0
                }
            } catch {
                context.metrics.redisErrorsInRefresh.increment()
                if loop.redisFailures == 0 {
                    logger.warning("Redis unavailable; keeping the last token in memory and retrying",
                                   metadata: [LogKey.error: "\(error)"])
                }
                await wakeup.wait(until: .now + context.redisBackoff.delay(attempt: loop.redisFailures))
                loop.redisFailures += 1
            }
        }
    }

    /// State only the loop touches.
    private struct LoopState {
        /// The newest valid token this worker has seen: re-seeds Redis if Redis loses it.
        var remembered: TokenRecord?
        /// The highest generation seen, even of expired tokens: new tokens get a higher one, also after
        /// Redis lost the meta hash.
        var highestGeneration = 0
        var redisFailures = 0
        /// The last upstream error logged at error level; repeats are logged at debug.
        var loggedError: String?
    }

    private func iterate(_ loop: inout LoopState) async throws(RedisError) {
        let snapshot = try await context.store.snapshot(app.appid)
        let now = snapshot.time.redisNow()
        loop.highestGeneration = max(loop.highestGeneration, snapshot.status.record?.generation ?? 0)
        if let record = snapshot.status.record, record.isValid(atMillis: now) { remember(record, loop: &loop) }
        metrics.observe(snapshot.status.record, nowMillis: now)

        if let remembered = loop.remembered, remembered.isValid(atMillis: now), !snapshot.tokenKeyExists {
            try await reseed(remembered, now: now)
            return
        }

        var decision = context.schedule.decide(snapshot.status, appid: app.appid, nowMillis: now)
        var force: ForcedRefreshRequest?
        if let request = forced.withLock({ $0.take(currentToken: snapshot.status.record?.token) }) {
            if try await acceptsForcedRefresh(request, snapshot: snapshot) {
                decision = .refresh(.forced)
                force = request
            }
        }
        switch decision {
        case .wait(let until):
            await wakeup.wait(until: snapshot.time.localInstant(forRedisMillis: until))
        case .refresh(let reason):
            try await refreshUnderLease(reason: reason, force: force, loop: &loop)
        }
    }

    /// Keeps `record` as the token to re-seed Redis with, unless this worker already holds a later-issued one.
    private func remember(_ record: TokenRecord, loop: inout LoopState) {
        guard record.issuedMin >= loop.remembered?.issuedMin ?? .min else { return }
        loop.remembered = record
        latest.withLock { $0 = record }
    }

    /// Redis lost a token this worker still holds (FLUSHALL, restart without persistence): put it back
    /// instead of calling upstream. The fenced write refuses it if a newer token got there first.
    private func reseed(_ record: TokenRecord, now: Int64) async throws(RedisError) {
        let outcome = try await context.store.write(
            appid: app.appid, token: record.token, issued: record.issuedMin...record.issuedMax,
            lifetimeMillis: record.lifetime, worker: record.worker, grant: record.grant ?? app.grant,
            minimumGeneration: record.generation, reseed: true)
        logger.notice("token missing from Redis; re-seeded from memory without calling upstream",
                      metadata: [LogKey.generation: "\(record.generation)", "outcome": "\(outcome)"])
    }

    private func refreshUnderLease(reason: RefreshReason, force: ForcedRefreshRequest?, loop: inout LoopState) async throws(RedisError) {
        if reason == .missing, loop.remembered == nil {
            // No token anywhere in Redis. On a first start nobody has one, but after a flush or a restart
            // without persistence another worker may still hold it in memory and re-seeds it within one
            // check interval: give it that chance before spending an upstream call.
            await wakeup.wait(until: .now + context.checkInterval)
            if try await context.store.snapshot(app.appid).status.record != nil { return }
        }
        let ttl = context.schedule.leaseTTL(lifetimeMillis: loop.remembered?.lifetime)
        // The permit comes first: a worker holds a lease only while it can make the call (see `FetchPermits`).
        let leased = try await context.fetchPermits.withPermit { () async throws(RedisError) -> Bool in
            guard let lease = try await context.store.acquireLease(appid: app.appid, worker: context.workerID, ttl: ttl) else {
                return false
            }
            metrics.lockAcquired.increment()
            do throws(RedisError) {
                try await refresh(reason: reason, force: force, lease: lease, loop: &loop)
            } catch {
                try? await context.store.release(lease)
                throw error
            }
            try await context.store.release(lease)
            return true
        }
        if leased == false {
            // Another worker refreshes. Wait for its `P:refreshed` (wakes us) or poll often enough to
            // take over within one lease TTL if it died.
            metrics.lockContended.increment()
            await wakeup.wait(until: .now + ttl / 2)
        }
    }

    private func refresh(reason: RefreshReason, force: ForcedRefreshRequest?, lease: RefreshLease, loop: inout LoopState)
        async throws(RedisError)
    {
        // Re-read under the lease: another worker may have refreshed between our decision and the lock.
        let fresh = try await context.store.snapshot(app.appid)
        let now = fresh.time.redisNow()
        if let force {
            if let bad = force.badToken, fresh.status.record?.token != bad {
                metrics.forcedRefresh(.deduplicated)
                return
            }
        } else if case .wait = context.schedule.decide(fresh.status, appid: app.appid, nowMillis: now) {
            return
        }
        let forceRefresh = force != nil && app.grant == .stableToken
        if forceRefresh,
            try await !context.store.takeStableForceAllowance(app.appid, nowMillis: now, limit: context.stableForceDailyLimit)
        {
            metrics.forcedRefresh(.refused)
            logger.error("forced refresh refused: stable_token force_refresh daily limit reached",
                         metadata: ["limit": "\(context.stableForceDailyLimit)"])
            return
        }

        let sentAt = ContinuousClock.now
        let result = await whileRenewing(lease) { [app, upstream = context.upstream] in
            await upstream.fetch(app, forceRefresh: forceRefresh)
        }
        let receivedAt = ContinuousClock.now
        // Shutting down cancelled the call: not an upstream failure, so nothing to record or back off from.
        if Task.isCancelled { return }

        switch result {
        case .success(let fetched):
            metrics.upstreamCall(result: "ok")
            let issued = fresh.time.redisRange(from: sentAt, to: receivedAt)
            let outcome = try await context.store.write(
                appid: app.appid, token: fetched.token, issued: issued, lifetimeMillis: fetched.expiresIn.milliseconds,
                worker: context.workerID, grant: app.grant, minimumGeneration: loop.highestGeneration + 1)
            if case .written(let generation, let expiresAt) = outcome {
                // Remembered at once, not at the next re-read: if Redis loses the token in between
                // (restart without persistence), this worker still re-seeds it instead of fetching again.
                let written = TokenRecord(
                    token: fetched.token, expiresAt: expiresAt, fetchedAt: issued.upperBound, generation: generation,
                    worker: context.workerID, grant: app.grant, lifetime: fetched.expiresIn.milliseconds,
                    issuedMin: issued.lowerBound, issuedMax: issued.upperBound)
                loop.highestGeneration = max(loop.highestGeneration, generation)
                remember(written, loop: &loop)
                metrics.observe(written, nowMillis: issued.upperBound)
            }
            record(outcome, fetched: fetched, reason: reason, force: force, loop: &loop)
        case .failure(let error):
            try await recordFailure(error, status: fresh.status, nowMillis: now, loop: &loop)
            if force != nil { metrics.forcedRefresh(.refused) }
        }
    }

    private func record(_ outcome: WriteOutcome, fetched: FetchedToken, reason: RefreshReason, force: ForcedRefreshRequest?,
                        loop: inout LoopState)
    {
        switch outcome {
        case .written(let generation, _):
            loop.loggedError = nil
            logger.info("token refreshed", metadata: [
                LogKey.generation: "\(generation)", LogKey.expiresIn: "\(fetched.expiresIn)", LogKey.reason: "\(reason.rawValue)",
            ])
            if let force {
                metrics.forcedRefresh(.refreshed)
                let latency = ContinuousClock.now - force.receivedAt
                context.metrics.forcedRefreshLatency.recordNanoseconds(latency.components.seconds * 1_000_000_000 + latency.components.attoseconds / 1_000_000_000)
            }
        case .same(let generation, _):
            logger.debug("upstream returned the current token again; asking again when it expires",
                         metadata: [LogKey.generation: "\(generation)"])
        case .older(let stored):
            logger.notice("fetched token is older than the stored one; discarded", metadata: [LogKey.generation: "\(stored)"])
        case .ambiguous(let stored):
            logger.warning(
                "cannot tell whether the fetched or the stored token was issued last (a fetch outlived its lease); fetching once more",
                metadata: [LogKey.generation: "\(stored)"])
        case .expired:
            logger.warning("fetched token had already expired when written; fetching again")
        }
    }

    private func recordFailure(_ error: UpstreamError, status: AppStatus, nowMillis: Int64, loop: inout LoopState) async throws(RedisError) {
        metrics.upstreamCall(result: error.kindLabel)
        if let errcode = error.errcode { metrics.errcode(errcode) }
        let ahead = loop.remembered.map { context.schedule.effectiveAhead(lifetimeMillis: $0.lifetime) }
        let delay = context.failurePolicy.retryDelay(for: error.kind, failures: status.failures, nowMillis: nowMillis,
                                                     effectiveAheadMillis: ahead)
        try await context.store.recordFailure(error, retryAfter: delay)
        let metadata: Logger.Metadata = [
            LogKey.errorKind: "\(error.kindLabel)", LogKey.errcode: "\(error.errcode.map(String.init) ?? "-")",
            LogKey.endpoint: "\(error.endpoint)", LogKey.retryIn: "\(delay)", LogKey.error: "\(error.errmsg)",
        ]
        if error.kind == .transient {
            logger.warning("upstream call failed; keeping the current token", metadata: metadata)
        } else if loop.loggedError != error.description {
            loop.loggedError = error.description
            logger.error("upstream refused the token request: \(error.hint)", metadata: metadata)
        } else {
            logger.debug("upstream refused the token request again", metadata: metadata)
        }
    }

    /// Decides whether a forced refresh goes ahead, before taking the lease.
    private func acceptsForcedRefresh(_ request: ForcedRefreshRequest, snapshot: TokenStore.Snapshot) async throws(RedisError) -> Bool
    {
        let now = snapshot.time.redisNow()
        if let retryAt = snapshot.status.retryAt, now < retryAt, snapshot.status.lastError != nil {
            guard snapshot.status.lastErrorKind == "transient" else {
                // Bad secret, IP not whitelisted, risk control, quota: forcing would fail the same way.
                metrics.forcedRefresh(.refused)
                logger.info("forced refresh refused: upstream refuses this app until retry_at",
                            metadata: [LogKey.retryIn: "\(retryAt - now) ms", LogKey.errcode: "\(snapshot.status.lastErrcode.map(String.init) ?? "-")"])
                return false
            }
            // A short transient backoff: keep the request (without waking the loop) and act on it at retry_at.
            _ = forced.withLock { $0.add(request) }
            return false
        }
        if let bad = request.badToken {
            guard snapshot.status.record?.token == bad else {
                metrics.forcedRefresh(.deduplicated)
                return false
            }
            return true
        }
        // Without a bad token anyone could burn the daily quota: one per cooldown per app, for all workers.
        guard try await context.store.claimForcedCooldown(app.appid, worker: context.workerID, cooldown: context.forcedCooldown) else {
            metrics.forcedRefresh(.cooldown)
            return false
        }
        return true
    }

    /// Runs `body` while renewing the lease every third of its TTL; renewal stops the moment `body`
    /// returns or the task is cancelled (shutdown). A lost lease is counted and logged, and `body` goes
    /// on: the fenced write, not the lease, keeps Redis correct.
    private func whileRenewing<Result: Sendable>(_ lease: RefreshLease, _ body: @escaping @Sendable () async -> Result) async -> Result {
        await withTaskGroup(of: Result?.self) { group in
            group.addTask { await body() }
            group.addTask { [store = context.store, metrics, logger] in
                while true {
                    do { try await Task.sleep(for: lease.ttl / 3) } catch { return nil }
                    let renewed = (try? await store.renew(lease)) ?? false
                    if !renewed {
                        metrics.lockLost.increment()
                        logger.warning("refresh lease lost during the upstream call", metadata: [LogKey.leaseKey: "\(lease.key)"])
                        return nil
                    }
                }
            }
            while let next = await group.next() {
                if let result = next {
                    group.cancelAll()
                    return result
                }
            }
            fatalError("the upstream call task always returns a result")
        }
    }
}
