import CoreMetrics
import Logging
import RedisClient

/// Makes Redis agree with what this worker knows before the loop decides anything from it: times moved by
/// a step of the Redis clock, fields no worker could have written, and an older token than the one this
/// worker last stored or saw (see `StoredStateCheck`). The fence decides every write, as for fetched tokens.
extension AppRefresher {
    /// Corrects the snapshot's times for a step of the Redis clock and clamps implausible meta fields;
    /// true when Redis changed, so the loop reads it again before deciding.
    func reconcileTimes(_ snapshot: TokenStore.Snapshot, loop: inout LoopState) async throws(RedisError) -> Bool {
        context.clock.observe(snapshot.time, metrics: context.metrics, logger: logger)
        if try await followClockStep(snapshot, loop: &loop) { return true }
        return try await clampImplausible(snapshot, loop: &loop)
    }

    /// Writes the remembered token back when Redis serves an older one (or none). Returns when the next
    /// pass is due if it wrote (at once: it reads again) or a refusal backoff holds it off; nil otherwise.
    ///
    /// A Sentinel failover that lost the last write, an RDB restore or a manual `SET` can put back a token
    /// issued before the one WeChat now holds as current: readers would get it until WeChat retires it.
    /// The write goes through the fence (as a re-seed, keeping the token's generation), so a newer token
    /// another worker stored meanwhile always wins. After a refusal the worker backs off like after a
    /// refused fetch.
    func writeBackIfStale(_ snapshot: TokenStore.Snapshot, nowMillis now: Int64, loop: inout LoopState)
        async throws(RedisError) -> ContinuousClock.Instant?
    {
        guard let remembered,
            let staleness = context.stateCheck.staleness(
                remembered: remembered, stored: snapshot.status, keyToken: snapshot.keyToken, nowMillis: now)
        else { return nil }
        if let until = loop.refusals.waitUntil(now: .now) { return until }
        let outcome = try await context.store.write(
            appid: app.appid, token: remembered.token, issued: remembered.issuedMin...remembered.issuedMax,
            lifetimeMillis: remembered.lifetime, worker: remembered.worker, grant: remembered.grant ?? app.grant,
            minimumGeneration: remembered.generation, reseed: true)
        let metadata: Logger.Metadata = [
            LogKey.generation: "\(remembered.generation)", LogKey.reason: "\(staleness.rawValue)", "outcome": "\(outcome)",
        ]
        if staleness == .keyMissing {
            logger.notice("token missing from Redis; re-seeded from memory without calling upstream", metadata: metadata)
        } else {
            context.metrics.anomaly(.staleToken)
            logger.warning("Redis served an older token than the last one this worker stored or saw; wrote that one back",
                           metadata: metadata)
        }
        noteWriteOutcome(outcome, fetched: nil, loop: &loop)
        return .now
    }

    /// After every fenced write of this worker: ends or extends its streak of refusals (see `RefusedWrites`),
    /// logging a streak once, and warns about a lifetime upstream announced beyond belief.
    func noteWriteOutcome(_ outcome: WriteOutcome, fetched: FetchedToken?, loop: inout LoopState) {
        if let announced = fetched?.announcedExpiresIn {
            context.metrics.anomaly(.lifetimeCapped)
            logger.warning("upstream announced an implausible token lifetime; stored the documented maximum instead",
                           metadata: [LogKey.expiresIn: "\(announced) (stored: \(TokenLifetime.maximum))"])
        }
        switch outcome {
        case .written, .same:
            loop.refusals.stored()
        case .older, .ambiguous, .expired:
            context.metrics.anomaly(.refusedWrite)
            if loop.refusals.refused(at: .now, backoff: context.refusalBackoff) {
                let why = switch outcome {
                case .ambiguous: "issue order unknown (a fetch outlived its lease); one more fetch follows"
                case .expired: "the token had expired on arrival"
                default: "the stored token was issued later"
                }
                logger.warning("the fence refused this worker's token: \(why); backing off scheduled fetches until one is stored",
                               metadata: ["outcome": "\(outcome)", LogKey.retryIn: "\(loop.refusals.waitUntil(now: .now).map { $0 - .now } ?? .zero)"])
            } else {
                logger.debug("the fence refused this worker's token again", metadata: ["outcome": "\(outcome)"])
            }
        }
    }

    /// Applies the steps back of the Redis clock this app has not followed yet: to the times it remembers,
    /// and, once per step for all workers, to the stored token's times and its key's expiry. True when it
    /// followed one: the snapshot predates the move, so the loop reads again.
    private func followClockStep(_ snapshot: TokenStore.Snapshot, loop: inout LoopState) async throws(RedisError) -> Bool {
        let total = context.clock.steppedBack
        let step = total.since(loop.clockShiftApplied)
        guard !step.isZero else { return false }
        loop.clockShiftApplied = total
        if let unwritten = loop.unwritten {
            loop.unwritten?.issued = (unwritten.issued.lowerBound - step.upper)...(unwritten.issued.upperBound - step.lower)
        }
        guard let remembered else { return false }
        setRemembered(remembered.shifted(by: step))
        guard let stored = snapshot.status.record, stored.token == remembered.token, stored.expiresAt == remembered.expiresAt else {
            return true
        }
        if try await context.store.shiftTimes(appid: app.appid, token: stored.token, expiresAt: stored.expiresAt, by: step) {
            logger.notice("moved the stored token's times back with the Redis clock",
                          metadata: [LogKey.clockStep: "\(step.lower)...\(step.upper)", LogKey.generation: "\(stored.generation)"])
        }
        return true
    }

    /// Clamps meta fields no worker could have written; a remembered copy of that token is dropped, so
    /// the clamped one is remembered on the next read.
    private func clampImplausible(_ snapshot: TokenStore.Snapshot, loop: inout LoopState) async throws(RedisError) -> Bool {
        let found = context.stateCheck.implausible(snapshot.status, nowMillis: snapshot.time.redisNow())
        guard !found.isEmpty else { return false }
        let token = snapshot.status.record?.token
        guard try await context.store.clampImplausible(appid: app.appid, token: token, check: context.stateCheck) > 0 else {
            return false
        }
        context.metrics.anomaly(.implausibleMeta)
        logger.warning("meta held values no worker could have written; clamped them",
                       metadata: [LogKey.anomaly: "\(found.sorted().map(\.rawValue).joined(separator: ","))"])
        if token != nil, remembered?.token == token { setRemembered(nil) }
        return true
    }

    /// What the watchdog reports of this app (only apps with findings): frees a lease key left without
    /// a TTL, and wakes a pass to re-read Redis when it no longer serves the token this worker knows or a
    /// forced refresh stands.
    func attend(_ findings: TokenStore.WatchFinding) async throws(RedisError) {
        if findings.contains(.lockWithoutTTL) {
            let ttl = context.schedule.leaseTTL(lifetimeMillis: remembered?.lifetime)
            if try await context.store.repairLockWithoutTTL(app.appid, ttl: ttl) {
                context.metrics.anomaly(.lockWithoutTTL)
                logger.warning("the refresh lease key had no TTL and would have blocked this app forever; gave it the lease TTL",
                               metadata: [LogKey.leaseKey: "\(context.store.keys.lock(app.appid))", LogKey.leaseTTL: "\(ttl)"])
                wake()
            }
        }
        if !findings.isDisjoint(with: [.tokenDiffers, .forcedRefreshStanding]) { wake() }
    }

    /// Adds what the watchdog asks Redis about this app at Redis time `now`: the valid token it remembers,
    /// if any. Read in place, not copied out: a tick does this for every app.
    func addWatched(to list: inout TokenStore.WatchList, nowMillis now: Int64) {
        remembered { remembered in
            if let remembered, remembered.isValid(atMillis: now) {
                list.append(appid: app.appid, generation: remembered.generation, token: remembered.token)
            } else {
                list.append(appid: app.appid)
            }
        }
    }
}

extension TokenRecord {
    /// The same record with its times moved back by a step of the Redis clock (bounds as in `TokenStore.shiftScript`).
    func shifted(by step: ClockShift) -> TokenRecord {
        var record = self
        record.expiresAt -= step.upper
        record.issuedMin -= step.upper
        record.issuedMax -= step.lower
        record.fetchedAt -= step.lower
        return record
    }
}
