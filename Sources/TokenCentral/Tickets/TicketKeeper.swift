import CoreMetrics
import Logging
import RedisClient
import Synchronization

/// Keeps one ticket of one app (`P:{APPID}:jsapi_ticket` or `P:{APPID}:wx_card_ticket`) valid in Redis,
/// in one worker. Every worker runs one per configured (app, type); the ticket's lease makes one of them
/// call `getticket` per ticket lifetime.
///
/// It is the token's machinery applied to the ticket's own keys: the fenced write (a writer cannot put
/// back an older ticket), the lease, the failure backoff, the forced-refresh budget, the re-seed from
/// memory after Redis lost the ticket. Its work is shaped as passes: `pass` does one step and says when
/// it wants to run next, so a scheduler can drive it; `run` drives it with a `Wakeup` for now.
final class TicketKeeper: Sendable {
    let app: AppConfiguration
    let type: TicketType
    let context: TicketContext
    let logger: Logger
    let wakeup = Wakeup()
    let forced = Mutex(PendingForcedRefresh())
    /// `PassState.remembered`, readable outside the loop.
    private let latest = Mutex<TokenRecord?>(nil)

    init(app: AppConfiguration, type: TicketType, context: TicketContext) {
        self.app = app
        self.type = type
        self.context = context
        var logger = context.refresh.logger
        logger[metadataKey: LogKey.appID] = "\(app.appid)"
        logger[metadataKey: LogKey.ticket] = "\(type.rawValue)"
        self.logger = logger
    }

    /// The app and type, as jitter and logs name it.
    var subject: String { "\(app.appid):\(type.rawValue)" }

    /// The ticket this worker would write back.
    var remembered: TokenRecord? { latest.withLock { $0 } }

    /// Run a pass now: a ticket or a token was announced, the subscription was re-established.
    func wake() {
        wakeup.signal()
    }

    /// Queues a forced refresh heard on `P:refresh` for the next pass (merged as the token's are).
    func requestForcedRefresh(badTicket: String?) {
        let knownCurrent = latest.withLock { $0?.token }
        forced.withLock { _ = $0.add(ForcedRefreshRequest(badToken: badTicket), knownCurrent: knownCurrent) }
        wakeup.signal()
    }

    /// Puts a forced refresh (the HTTP API's) to Redis at once, so the caller learns whether it stands.
    func forceRefresh(badTicket: String?) async throws(RedisError) -> ForcedRefreshVerdict {
        let verdict = try await context.store.acceptForcedRefresh(
            app.appid, badToken: badTicket, budget: context.refresh.forcedBudget, worker: context.refresh.workerID, ticket: type)
        if verdict.standingSince != nil { wakeup.signal() }
        return verdict
    }

    /// Drives `pass` until cancelled, sleeping until the instant each pass asks for or a wake-up.
    func run() async {
        var state = PassState()
        var redisFailures = 0
        while !Task.isCancelled {
            var next: ContinuousClock.Instant
            do throws(RedisError) {
                next = try await pass(&state)
                redisFailures = 0
            } catch {
                context.refresh.metrics.redisErrorsInRefresh.increment()
                if redisFailures == 0 { logger.debug("Redis unavailable; keeping the last ticket in memory", metadata: [LogKey.error: "\(error)"]) }
                next = .now + context.refresh.redisBackoff.delay(attempt: redisFailures)
                redisFailures += 1
            }
            await wakeup.wait(until: next)
        }
    }

    /// What passes carry from one to the next.
    struct PassState {
        /// The last-issued ticket this worker stored or saw: re-seeds Redis if Redis loses it.
        var remembered: TokenRecord?
        /// The highest generation seen, so new tickets get a higher one even after Redis lost meta.
        var highestGeneration = 0
        /// A fetched ticket whose write failed (Redis error): written before anything else.
        var unwritten: FetchedTicket?
        /// Set once a pass found no ticket anywhere and gave other workers a check interval to re-seed.
        var waitedForReseed = false
        /// The token `getticket` rejected in this worker's last call, reported and waited for.
        var rejectedToken: String?
    }

    /// One pass: write what a Redis error kept out, read the ticket's meta, re-seed it if Redis lost it or
    /// serves an older one, take a forced refresh heard meanwhile, then decide (`TicketSchedule`) and
    /// either return when it is due or refresh it under its lease. Returns the instant of the next pass.
    ///
    /// A waiting pass returns within a check interval at the latest, so a ticket flushed from Redis is
    /// re-seeded within one check interval, as tokens are.
    func pass(_ state: inout PassState) async throws(RedisError) -> ContinuousClock.Instant {
        if let unwritten = state.unwritten { try await write(unwritten, state: &state) }
        let snapshot = try await context.store.snapshot(app.appid, ticket: type)
        let now = snapshot.time.redisNow()
        state.highestGeneration = max(state.highestGeneration, snapshot.status.record?.generation ?? 0)
        if let record = snapshot.status.record, record.isValid(atMillis: now) { remember(record, state: &state) }
        if let remembered = state.remembered,
            let staleness = context.refresh.stateCheck.staleness(
                remembered: remembered, stored: snapshot.status, keyToken: snapshot.keyToken, nowMillis: now)
        {
            return try await writeBack(remembered, staleness: staleness)
        }
        var status = snapshot.status
        var waivingRetryAt = false
        if let rejected = state.rejectedToken {
            // This worker waited for the token that replaced the one `getticket` rejected: it retries with
            // it at once, while the others keep to the `retry_at` its failure set (see `refresh`).
            state.rejectedToken = nil
            if try await context.store.readableToken(app.appid)?.token ?? rejected != rejected {
                status.retryAt = nil
                waivingRetryAt = true
            }
        }
        if let (request, _) = forced.withLock({ $0.take(currentToken: status.record?.token) }) {
            let verdict = try await context.store.acceptForcedRefresh(
                app.appid, badToken: request.badToken, budget: context.refresh.forcedBudget, worker: context.refresh.workerID, ticket: type)
            if let since = verdict.standingSince { status.forcedAt = since }
        }
        let checkAgain = ContinuousClock.now + context.refresh.checkInterval
        switch context.schedule.decide(status, subject: subject, nowMillis: now) {
        case .wait(let until):
            return min(snapshot.time.localInstant(forRedisMillis: until), checkAgain)
        case .refresh(.missing) where state.remembered == nil && !state.waitedForReseed:
            // No ticket in Redis. After a flush another worker may still hold it in memory and re-seeds it
            // within one check interval: give it that chance before spending a call of the small quota.
            state.waitedForReseed = true
            return checkAgain
        case .refresh:
            return try await refreshUnderLease(waivingRetryAt: waivingRetryAt, state: &state)
        }
    }

    /// Writes the remembered ticket back through the fence, as a re-seed: it keeps its first-seen expiry
    /// and generation, and a newer ticket stored meanwhile wins.
    private func writeBack(_ remembered: TokenRecord, staleness: Staleness) async throws(RedisError) -> ContinuousClock.Instant {
        let outcome = try await context.store.write(
            appid: app.appid, token: remembered.token, issued: remembered.issuedMin...remembered.issuedMax,
            lifetimeMillis: remembered.lifetime, worker: remembered.worker, grant: app.grant,
            minimumGeneration: remembered.generation, reseed: true, ticket: type)
        logger.notice("ticket missing or older in Redis; wrote back the one this worker remembers, without calling upstream",
                      metadata: [LogKey.reason: "\(staleness.rawValue)", LogKey.generation: "\(remembered.generation)", "outcome": "\(outcome)"])
        // A refused write-back (a newer ticket won) is read again after a check interval, not in a loop.
        return outcome.isRefused ? .now + context.refresh.checkInterval : .now
    }

    /// Keeps `record` as the ticket to re-seed with when it is later than the one held; for the ticket
    /// already held it keeps the first-seen times, which a same-ticket answer must never extend.
    func remember(_ record: TokenRecord, state: inout PassState) {
        state.waitedForReseed = false
        let keep: TokenRecord
        if let known = state.remembered, known.token == record.token {
            keep = known.issuedMin <= record.issuedMin ? known : record
        } else if let known = state.remembered, known.generation > record.generation {
            keep = known
        } else {
            keep = record
        }
        state.remembered = keep
        latest.withLock { $0 = keep }
    }
}
