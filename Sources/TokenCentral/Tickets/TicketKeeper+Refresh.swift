import Logging
import RedisClient

/// A ticket fetched from upstream, with what its write needs.
struct FetchedTicket: Sendable {
    var ticket: String
    var lifetime: Duration
    /// The Redis-time window in which it was first seen: its expiry counts from there.
    var issued: ClosedRange<Int64>
    var lease: RefreshLease
}

extension TicketKeeper {
    /// Takes the ticket's lease (after a fetch permit, as the token does) and refreshes it; returns the
    /// instant of the next pass. `waivingRetryAt`: the pass decided without `retry_at` (a new token came).
    func refreshUnderLease(waivingRetryAt: Bool, state: inout PassState) async throws(RedisError) -> ContinuousClock.Instant {
        let ttl = context.refresh.schedule.leaseTTL(lifetimeMillis: state.remembered?.lifetime)
        let outcome = try await context.refresh.fetchPermits.withPermit { () async throws(RedisError) -> RefreshOutcome in
            guard let lease = try await context.store.acquireLease(appid: app.appid, worker: context.refresh.workerID, ttl: ttl, ticket: type)
            else {
                // Another worker refreshes: its `P:refreshed` wakes this keeper; half a TTL takes over if it died.
                return .contended
            }
            do throws(RedisError) {
                let outcome = try await refresh(lease: lease, waivingRetryAt: waivingRetryAt, state: &state)
                try await context.store.release(lease)
                return outcome
            } catch {
                try? await context.store.release(lease)
                throw error
            }
        }
        switch outcome {
        case .done: return .now
        case .contended, nil: return .now + ttl / 2
        case .tokenRejected(let token):
            state.rejectedToken = token
            return try await awaitReplacement(of: token)
        }
    }

    enum RefreshOutcome: Sendable {
        case done
        case contended
        /// `getticket` rejected this access_token (40001/42001): it is reported once the lease and the
        /// fetch permit are given back, so that the token refresher can get a permit for the new token.
        case tokenRejected(String)
    }

    private func refresh(lease: RefreshLease, waivingRetryAt: Bool, state: inout PassState) async throws(RedisError) -> RefreshOutcome {
        // Re-read under the lease: another worker may have stored a ticket between the decision and the lease.
        let fresh = try await context.store.snapshot(app.appid, ticket: type)
        let now = fresh.time.redisNow()
        var status = fresh.status
        if waivingRetryAt { status.retryAt = nil }
        guard case .refresh = context.schedule.decide(status, subject: subject, nowMillis: now) else { return .done }
        guard let token = try await context.store.readableToken(app.appid)?.token else {
            // No token yet: the token's `P:refreshed` wakes this keeper.
            logger.debug("no access_token in Redis yet; the ticket waits for it")
            return .contended
        }
        let sentAt = ContinuousClock.now
        let result = await context.upstream.fetchTicket(type, appid: app.appid, accessToken: token)
        let issued = fresh.time.redisRange(from: sentAt, to: .now)
        switch result {
        case .success(let fetched):
            let write = FetchedTicket(ticket: fetched.token, lifetime: fetched.expiresIn, issued: issued, lease: lease)
            state.unwritten = write
            // A refused ticket is not fetched again at once: the next pass reads what won after half a lease.
            return try await self.write(write, state: &state).isRefused ? .contended : .done
        case .failure(let error):
            if Task.isCancelled { return .done }
            let ahead = state.remembered.map { context.refresh.schedule.effectiveAhead(lifetimeMillis: $0.lifetime) }
            var delay = context.refresh.failurePolicy.retryDelay(
                for: error.kind, errcode: error.errcode, failures: fresh.status.failures, nowMillis: now, effectiveAheadMillis: ahead)
            // Other workers would call with the same rejected token: they wait as long as this one waits for
            // the new token, and this one retries as soon as it has it.
            if error.rejectsToken { delay = max(delay, context.upstream.timeout + .seconds(2)) }
            try await context.store.recordFailure(error, retryAfter: delay, lease: lease, ticket: type)
            let metadata: Logger.Metadata = [
                LogKey.errorKind: "\(error.kindLabel)", LogKey.errcode: "\(error.errcode.map(String.init) ?? "-")",
                LogKey.retryIn: "\(delay)", LogKey.error: "\(error.errmsg)",
            ]
            if error.rejectsToken {
                logger.notice("getticket rejected the access_token; reporting it, then retrying with the new one", metadata: metadata)
                return .tokenRejected(token)
            }
            logger.warning("getticket failed; keeping the current ticket: \(error.hint)", metadata: metadata)
            return .done
        }
    }

    /// Reports a token `getticket` rejected through the token's own path (`TokenRefresher.forceRefresh`:
    /// deduplicated by the reported token, and budgeted), then waits for the token that replaces it,
    /// at most `upstream.timeout` + 2 s (as an HTTP refresh request does). This worker's next pass retries
    /// with it at once; the others keep to the failure's `retry_at`, as long as this wait, so nobody calls
    /// with the rejected token meanwhile. Bounded: one retry per new token, and the token's forced
    /// refreshes are deduplicated and budgeted; past the wait the failure's backoff applies.
    private func awaitReplacement(of rejected: String) async throws(RedisError) -> ContinuousClock.Instant {
        let waiters = context.tokens.refreshWaiters
        let deadline = ContinuousClock.now + context.upstream.timeout + .seconds(2)
        var seen = waiters.announcements(of: app.appid)
        let verdict = try await context.tokens.forceRefresh(appid: app.appid, badToken: rejected)
        guard verdict?.standingSince != nil || verdict == .stale else { return .now }
        while try await context.store.readableToken(app.appid)?.token ?? rejected == rejected {
            guard await waiters.waitForAnnouncement(of: app.appid, after: seen, until: deadline) else { break }
            seen = waiters.announcements(of: app.appid)
        }
        return .now
    }

    /// Writes a fetched ticket through the fence. The ticket this worker already remembers keeps the
    /// window it was first seen in, so its expiry is never extended, even after Redis lost its meta.
    @discardableResult
    func write(_ fetched: FetchedTicket, state: inout PassState) async throws(RedisError) -> WriteOutcome {
        var issued = fetched.issued
        var lifetime = fetched.lifetime.milliseconds
        if let known = state.remembered, known.token == fetched.ticket, known.isValid(atMillis: fetched.issued.upperBound) {
            issued = known.issuedMin...known.issuedMax
            lifetime = known.lifetime
        }
        let outcome = try await context.store.write(
            appid: app.appid, token: fetched.ticket, issued: issued, lifetimeMillis: lifetime, worker: context.refresh.workerID,
            grant: app.grant, minimumGeneration: state.highestGeneration + 1, lease: fetched.lease, ticket: type)
        state.unwritten = nil
        switch outcome {
        case .written(let generation, let expiresAt):
            state.highestGeneration = max(state.highestGeneration, generation)
            remember(
                TokenRecord(token: fetched.ticket, expiresAt: expiresAt, fetchedAt: issued.upperBound, generation: generation,
                            worker: context.refresh.workerID, grant: app.grant, lifetime: lifetime, issuedMin: issued.lowerBound,
                            issuedMax: issued.upperBound),
                state: &state)
            logger.info("ticket refreshed", metadata: [LogKey.generation: "\(generation)", LogKey.expiresIn: "\(fetched.lifetime)"])
        case .same(let generation, let expiresAt):
            // getticket hands out a ticket until it expires: ask again then (`retry_at`), not in a loop.
            logger.debug("upstream handed out the stored ticket again; its expiry stays that of when it was first seen",
                         metadata: [LogKey.generation: "\(generation)", "expires_at": "\(expiresAt)"])
        case .older, .ambiguous, .expired:
            logger.warning("the fence refused this worker's ticket", metadata: ["outcome": "\(outcome)"])
        }
        return outcome
    }
}
