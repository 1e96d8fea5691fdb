import Logging
import RedisClient

/// A token fetched from upstream, with what its write to Redis needs.
struct FetchedWrite: Sendable {
    var fetched: FetchedToken
    /// The window of Redis time in which WeChat issued it (the fence).
    var issued: ClosedRange<Int64>
    var lease: RefreshLease
    /// When set, one more fetch is due after this instant (see `TokenStore.write`).
    var refreshNotBefore: Int64?
    var reason: RefreshReason
}

extension AppRefresher {
    /// Refreshes under the lease if this worker gets it; returns when the next pass is due.
    func refreshUnderLease(reason: RefreshReason, loop: inout LoopState) async throws(RedisError) -> ContinuousClock.Instant {
        if reason == .missing, remembered == nil, !loop.missingGraceGiven {
            // No token anywhere in Redis. On a first start nobody has one, but after a flush or a restart
            // without persistence another worker may still hold it in memory and re-seeds it within one
            // check interval: give it that chance before spending an upstream call. The next pass (then,
            // or when woken earlier) reads Redis again and fetches if the token is still missing.
            loop.missingGraceGiven = true
            return .now + context.checkInterval
        }
        loop.missingGraceGiven = false
        let ttl = context.schedule.leaseTTL(lifetimeMillis: remembered?.lifetime)
        // The permit comes first: a worker holds a lease only while it can make the call (see `FetchPermits`).
        let leased = try await context.fetchPermits.withPermit { () async throws(RedisError) -> Bool in
            guard let lease = try await context.store.acquireLease(appid: app.appid, worker: context.workerID, ttl: ttl) else {
                return false
            }
            metrics.lockAcquired.increment()
            do throws(RedisError) {
                try await refresh(lease: lease, loop: &loop)
            } catch {
                try? await context.store.release(lease)
                throw error
            }
            try await context.store.release(lease)
            return true
        }
        guard leased == false else { return .now }
        // Another worker refreshes. Wait for its `P:refreshed` (wakes us) or poll often enough to take
        // over within one lease TTL if it died; a standing forced refresh is in meta, so it is not
        // lost either way.
        metrics.lockContended.increment()
        return .now + ttl / 2
    }

    private func refresh(lease: RefreshLease, loop: inout LoopState) async throws(RedisError) {
        // Re-read under the lease: another worker may have refreshed between our decision and the lock.
        let fresh = try await context.store.snapshot(app.appid)
        let now = fresh.time.redisNow()
        guard case .refresh(let reason) = context.schedule.decide(fresh.status, appid: app.appid, nowMillis: now) else { return }
        var forceRefresh = fresh.status.forcedAt != nil && app.grant == .stableToken
        if forceRefresh,
            try await !context.store.takeStableForceAllowance(app.appid, nowMillis: now, limit: context.stableForceDailyLimit)
        {
            try await context.store.dropForcedRefresh(
                app.appid, reason: .stableForceLimit, until: now + FailurePolicy.millisUntilQuotaReset(nowMillis: now))
            context.refreshWaiters.announce(app.appid)
            logger.error("forced refresh refused: stable_token force_refresh daily limit reached",
                         metadata: ["limit": "\(context.stableForceDailyLimit)"])
            // A refresh due anyway still goes ahead, in normal mode.
            guard reason != .forced else { return }
            forceRefresh = false
        }

        let abandonedUntil = abandonedCallDeadline(fresh.status.fetchInProgress, lease: lease)
        try await context.store.announceFetch(lease, startedAt: now)
        let sentAt = ContinuousClock.now
        let result = await whileRenewing(lease) { [app, upstream = context.upstream, forceRefresh] in
            await upstream.fetch(app, forceRefresh: forceRefresh)
        }
        let receivedAt = ContinuousClock.now

        switch result {
        case .success(let fetched):
            metrics.upstreamCall(result: "ok")
            let issued = fresh.time.redisRange(from: sentAt, to: receivedAt)
            // Written even when shutting down: WeChat has already replaced the stored token with this one.
            let write = FetchedWrite(
                fetched: fetched, issued: issued, lease: lease,
                refreshNotBefore: abandonedUntil.flatMap { $0 >= issued.lowerBound ? $0 : nil }, reason: reason)
            loop.unwritten = write
            try await self.write(write, loop: &loop)
        case .failure(let error):
            // Shutting down cancelled the call: not an upstream failure, so nothing to record or back off from.
            if Task.isCancelled { return }
            if forceRefresh, error.kind == .quotaExhausted {
                try await refuseForcesForToday(error, lease: lease, nowMillis: now)
                return
            }
            // A transient failure leaves a forced refresh standing, for `retry_at`; any other withdraws it.
            try await recordFailure(error, lease: lease, status: fresh.status, nowMillis: now, loop: &loop)
        }
    }

    /// The last instant at which WeChat may still issue a token to a call another lease holder announced
    /// and never finished (it died, or stalls past its lease): its start plus the upstream timeout, plus a
    /// second for the announcement's own round trip. Nil when no such call is known.
    ///
    /// A token we fetch before then is not certainly the last issued: WeChat may hand the abandoned call a
    /// later one that nobody stores, and retire ours after the overlap. One more fetch after the deadline
    /// settles it.
    private func abandonedCallDeadline(_ announced: FetchInProgress?, lease: RefreshLease) -> Int64? {
        guard let announced, announced.lease != lease.value else { return nil }
        return announced.startedAt + context.upstream.timeout.milliseconds + 1000
    }

    /// Writes a fetched token (fenced), then updates memory, metrics and logs from the outcome.
    func write(_ write: FetchedWrite, loop: inout LoopState) async throws(RedisError) {
        let outcome = try await context.store.write(
            appid: app.appid, token: write.fetched.token, issued: write.issued, lifetimeMillis: write.fetched.expiresIn.milliseconds,
            worker: context.workerID, grant: app.grant, minimumGeneration: loop.highestGeneration + 1, lease: write.lease,
            refreshNotBefore: write.refreshNotBefore)
        loop.unwritten = nil
        if case .written(let generation, let expiresAt) = outcome {
            // Remembered at once, not at the next re-read: if Redis loses the token in between
            // (restart without persistence), this worker still re-seeds it instead of fetching again.
            let written = TokenRecord(
                token: write.fetched.token, expiresAt: expiresAt, fetchedAt: write.issued.upperBound, generation: generation,
                worker: context.workerID, grant: app.grant, lifetime: write.fetched.expiresIn.milliseconds,
                issuedMin: write.issued.lowerBound, issuedMax: write.issued.upperBound)
            loop.highestGeneration = max(loop.highestGeneration, generation)
            remember(written)
        }
        record(outcome, of: write, loop: &loop)
        noteWriteOutcome(outcome, fetched: write.fetched, loop: &loop)
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
