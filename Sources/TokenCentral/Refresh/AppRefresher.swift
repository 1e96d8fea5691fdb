import CoreMetrics
import Logging
import RedisClient
import Synchronization

/// Keeps one app's token valid in Redis, in one worker. Every worker has one per app; the refresh
/// lease makes exactly one of them call upstream per token lifetime.
///
/// One pass (`pass()`, run by the worker's `PassScheduler`): write a fetched token a Redis failure kept out
/// → read meta and the Redis clock → follow a step of that clock and clamp implausible meta → write the
/// remembered token back if Redis lost it or serves an older one (`AppRefresher+Reconcile.swift`) → decide
/// (pure `RefreshSchedule`) → either return when it is due (woken early by `P:refreshed`, forced refreshes,
/// resubscribes and the watchdog) or take the lease and refresh (`AppRefresher+Refresh.swift`). A forced
/// refresh is put to Redis first (`AppRefresher+Forced.swift`), where it stands until a newer token is written.
///
/// No task of its own and no logger of its own: at 100,000 apps every word per app counts.
final class AppRefresher: Sendable {
    private let shared: SharedRefreshContext
    let metrics: AppMetrics
    /// Its app's position in the worker's `AppDirectory`, and its entry in the worker's scheduler:
    /// `wake()` makes it due there.
    private let entry: Int
    let forced = Mutex(PendingForcedRefresh())
    /// The request this worker got accepted and has not yet counted (`settleAccepted`).
    let accepted = Mutex<AcceptedRequest?>(nil)
    /// What passes carry from one to the next; the scheduler never runs two passes of one app at once.
    private let loopState: Mutex<LoopState>
    /// The newest valid token this worker has seen: re-seeds Redis if Redis loses it. Kept here, not in
    /// `LoopState`, so that the watchdog and forced refreshes read it outside a pass, and each app holds
    /// one copy of the record instead of two.
    private let latest = Mutex<TokenRecord?>(nil)

    /// What every app of this worker shares.
    var context: RefreshContext { shared.value }

    /// Its app, as configured: looked up in the worker's one directory, not copied into every refresher.
    var app: AppConfiguration { shared.apps.apps[entry] }

    /// The token this worker would write back (see `latest`).
    var remembered: TokenRecord? { latest.withLock { $0 } }

    /// Runs `body` on the remembered token without copying it out.
    func remembered(_ body: (borrowing TokenRecord?) -> Void) {
        latest.withLock { body($0) }
    }

    /// The worker's logger with this app's id: built when a message is logged, not kept per app.
    var logger: Logger {
        var logger = context.logger
        logger[metadataKey: LogKey.appID] = "\(app.appid)"
        return logger
    }

    /// The refresher of the app at `entry` of `context.apps`.
    init(context: SharedRefreshContext, entry: Int) {
        shared = context
        self.entry = entry
        let app = context.apps.apps[entry]
        self.metrics = AppMetrics(appid: app.appid, endpoint: WeChatUpstream.endpointPath(app.grant))
        loopState = Mutex(LoopState())
    }

    /// Re-read Redis now: a new token was announced, the subscription was re-established, or the key vanished.
    func wake() {
        shared.scheduler.wake(entry)
    }

    /// Queues a forced refresh heard on `P:refresh` for the loop's next pass; requests arriving before
    /// the loop sees them are merged (see `PendingForcedRefresh`) and counted as deduplicated, so every
    /// request heard is counted exactly once.
    func requestForcedRefresh(_ request: ForcedRefreshRequest) {
        let knownCurrent = latest.withLock { $0?.token }
        if !forced.withLock({ $0.add(request, knownCurrent: knownCurrent) }) { metrics.forcedRefresh(.deduplicated) }
        wake()
    }

    /// Runs one pass and returns when the next is due; a Redis error is retried with backoff.
    func pass() async -> ContinuousClock.Instant {
        var loop = loopState.withLock { $0 }
        defer { loopState.withLock { $0 = loop } }
        do throws(RedisError) {
            let next = try await iterate(&loop)
            if loop.redisFailures > 0 {
                // Debug: WorkerHealth logs an outage once per worker, not once per app.
                logger.debug("Redis reachable again")
                loop.redisFailures = 0
            }
            return next
        } catch {
            context.metrics.redisErrorsInRefresh.increment()
            if loop.redisFailures == 0 {
                logger.debug("Redis unavailable; keeping the last token in memory and retrying",
                               metadata: [LogKey.error: "\(error)"])
            }
            defer { loop.redisFailures += 1 }
            return .now + context.redisBackoff.delay(attempt: loop.redisFailures)
        }
    }

    /// State only passes touch.
    struct LoopState {
        /// The highest generation seen, even of expired tokens: new tokens get a higher one, also after
        /// Redis lost the meta hash.
        var highestGeneration = 0
        var redisFailures = 0
        /// The last upstream refusal logged at error level (kind and errcode); repeats are logged at debug.
        var loggedError: String?
        /// A token fetched from upstream whose write to Redis failed. WeChat now takes it for the current
        /// one, so it is written before anything else, and never dropped for an older one from memory.
        var unwritten: FetchedWrite? {
            get { unwrittenBox?.write }
            set { unwrittenBox = newValue.map(UnwrittenBox.init) }
        }
        /// Boxed: rarely set, and inline it would take 150 bytes of every app.
        fileprivate var unwrittenBox: UnwrittenBox? = nil
        /// Backs off scheduled fetches after the fence refused this worker's token.
        var refusals = RefusedWrites()
        /// A pass found no token anywhere and gave other workers one check interval to re-seed it: the
        /// next pass that still finds none fetches (see `refreshUnderLease`).
        var missingGraceGiven = false
        /// The sum of Redis clock steps back this app has followed (see `RedisClockMonitor`).
        var clockShiftApplied = ClockShift()
    }

    /// One pass; returns when the next is due.
    private func iterate(_ loop: inout LoopState) async throws(RedisError) -> ContinuousClock.Instant {
        if let unwritten = loop.unwritten { try await write(unwritten, loop: &loop) }
        let snapshot = try await context.store.snapshot(app.appid)
        if try await reconcileTimes(snapshot, loop: &loop) { return .now }
        let now = snapshot.time.redisNow()
        loop.highestGeneration = max(loop.highestGeneration, snapshot.status.record?.generation ?? 0)
        if let record = snapshot.status.record, record.isValid(atMillis: now) { remember(record) }

        if let next = try await writeBackIfStale(snapshot, nowMillis: now, loop: &loop) { return next }

        settleAccepted(snapshot)
        var status = snapshot.status
        if let (request, others) = forced.withLock({ $0.take(currentToken: status.record?.token) }) {
            for _ in 0..<others { metrics.forcedRefresh(.deduplicated) }
            if let since = try await accept(request, snapshot: snapshot).standingSince { status.forcedAt = since }
        }
        switch context.schedule.decide(status, appid: app.appid, nowMillis: now) {
        case .wait(let until):
            loop.missingGraceGiven = false
            return snapshot.time.localInstant(forRedisMillis: until)
        case .refresh(let reason):
            if reason != .forced, let until = loop.refusals.waitUntil(now: .now) {
                // The fence refused this worker's last token: fetching again at once would be refused the same way.
                return until
            }
            return try await refreshUnderLease(reason: reason, loop: &loop)
        }
    }

    /// Keeps `record` as the token to re-seed Redis with, unless this worker already holds a later one.
    ///
    /// Later means a higher generation (the fence gives each token stored after another the next one, on
    /// any clock), or the same generation and a later issue window. For the token already held it keeps
    /// the earlier of each time: after a Redis clock step this worker followed, its copy is on the new
    /// clock before meta is, and an old-clock copy would look issued later than every token fetched since.
    func remember(_ record: TokenRecord) {
        guard let known = remembered else { return setRemembered(record) }
        if record.token == known.token {
            var merged = record
            merged.generation = max(record.generation, known.generation)
            merged.expiresAt = min(record.expiresAt, known.expiresAt)
            merged.issuedMin = min(record.issuedMin, known.issuedMin)
            merged.issuedMax = min(record.issuedMax, known.issuedMax)
            merged.fetchedAt = min(record.fetchedAt, known.fetchedAt)
            if merged != known { setRemembered(merged) }
        } else if record.generation > known.generation || (record.generation == known.generation && record.issuedMin >= known.issuedMin) {
            setRemembered(record)
        }
    }

    /// Replaces the remembered token. Only passes call it; the watchdog and forced refreshes read it.
    func setRemembered(_ record: TokenRecord?) {
        latest.withLock { $0 = record }
        metrics.observe(record)
    }
}

/// A fetched token waiting to be written (`LoopState.unwritten`).
private final class UnwrittenBox: Sendable {
    let write: FetchedWrite

    init(_ write: FetchedWrite) {
        self.write = write
    }
}

/// What all the apps of a worker share, held once by reference: inline, the `RefreshContext` alone
/// would cost every app a few hundred bytes.
final class SharedRefreshContext: Sendable {
    let value: RefreshContext
    /// The worker's apps; each `AppRefresher` finds its own by its entry.
    let apps: AppDirectory
    /// Runs every app's passes; an app's entry in it is its position in `apps`.
    let scheduler: PassScheduler

    init(_ value: RefreshContext, apps: AppDirectory, scheduler: PassScheduler) {
        self.value = value
        self.apps = apps
        self.scheduler = scheduler
    }
}
