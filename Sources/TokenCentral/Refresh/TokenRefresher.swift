import CoreMetrics
import Foundation
import Logging
import RedisClient
import ServiceLifecycle
import Synchronization

/// The refresher of one worker: an `AppRefresher` per configured app, whose passes one `PassScheduler`
/// runs on a few runner tasks; the pub/sub listener that wakes them (`P:refreshed`) or forces them
/// (`P:refresh`); and a watchdog that notices vanished token keys.
///
/// On graceful shutdown (SIGTERM/SIGINT) the runners stop: no new lease is taken, and a lease held
/// during an upstream call is released as that call unwinds.
public final class TokenRefresher: Service, Sendable {
    /// Every app's refresher, in the order of `apps`; its index is its entry in `scheduler`.
    private let refreshers: [AppRefresher]
    private let apps: AppDirectory
    private let scheduler: PassScheduler
    /// Runner tasks: every upstream call permit can be in use while as many passes again, and a reserve,
    /// keep Redis-only work (re-seeding, forced-refresh acceptance, waits) moving.
    private let runners: Int
    private let store: TokenStore
    private let checkInterval: Duration
    private let clock: RedisClockMonitor
    /// The watchdog's last Redis clock reading: the scrape-time gauges count from it.
    private let lastTime = Mutex<RedisTimeSample?>(nil)
    let metrics: TokenMetrics
    private let logger: Logger
    private let rejectedMessages = RateLimitedLog(interval: .seconds(10))
    /// This worker's readiness; the subscription below reports to it.
    public let health = WorkerHealth()
    /// HTTP refresh requests waiting for a `P:refreshed` announcement.
    let refreshWaiters: RefreshWaiters
    /// What the subscription hears about tickets, for the `TicketRefresher`.
    let ticketMessages = TicketMessages()
    /// The tokens the HTTP API serves from memory, kept current by the subscription below.
    let tokenView: TokenView

    init(apps: AppDirectory, context: RefreshContext, checkInterval: Duration) {
        let count = apps.apps.count
        let scheduler = PassScheduler(count: count, first: PassScheduler.firstEntry(worker: context.workerID, count: count))
        let shared = SharedRefreshContext(context, apps: apps, scheduler: scheduler)
        refreshers = apps.apps.indices.map { AppRefresher(context: shared, entry: $0) }
        self.apps = apps
        self.scheduler = scheduler
        runners = min(max(apps.apps.count, 1), 2 * context.fetchPermits.limit + 16)
        self.store = context.store
        self.checkInterval = checkInterval
        self.clock = context.clock
        self.metrics = context.metrics
        self.logger = context.logger
        self.refreshWaiters = context.refreshWaiters
        self.tokenView = context.tokenView
    }

    public var appIDs: [String] { apps.apps.map(\.appid) }

    private func refresher(_ appid: String) -> AppRefresher? {
        apps.position(of: appid).map { refreshers[$0] }
    }

    /// Forces a refresh of `appid` (the HTTP API's entry point): put to Redis at once, so the caller
    /// learns whether it stands or was refused, and why. Nil for an app this worker does not serve.
    public func forceRefresh(appid: String, badToken: String?) async throws(RedisError) -> ForcedRefreshVerdict? {
        try await refresher(appid)?.forceRefresh(ForcedRefreshRequest(badToken: badToken))
    }

    /// The per-app metrics (and the forced-refresh counts of unknown apps) in the Prometheus text format.
    func renderAppMetrics() -> [UInt8] {
        let nowMillis = lastTime.withLock { $0 }?.redisNow() ?? Int64(Date().timeIntervalSince1970 * 1000)
        return MetricsExposition.render(refreshers.map(\.metrics), worker: metrics, nowMillis: nowMillis)
    }

    public func run() async throws {
        logger.info("refresher starting", metadata: ["apps": "\(refreshers.count)", "runners": "\(runners)", LogKey.redisAddress: "\(store.redis.endpoint)"])
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.scheduler.run(runners: self.runners, self) }
                group.addTask { await self.listen() }
                group.addTask { await self.watchTokenKeys() }
                await group.waitForAll()
            }
        }
        logger.info("refresher stopped; leases released")
    }

    private func listen() async {
        let channels = [store.keys.refreshedChannel, store.keys.refreshChannel]
        var subscribedBefore = false
        defer { tokenView.unsubscribed() }
        for await event in store.redis.subscribe(channels: channels) {
            switch event {
            case .subscribed:
                // Messages published while we were disconnected are lost: re-read every app.
                if subscribedBefore { metrics.subscriptionsLost.increment() }
                subscribedBefore = true
                health.subscribed()
                logger.debug("subscribed", metadata: ["channels": "\(channels)"])
                scheduler.wakeAll()
                ticketMessages.deliver(.resubscribed)
                tokenView.subscribed()
            case .message(let message) where message.channel == store.keys.refreshedChannel:
                let announcement = tokenView.heard(message.payload)
                if let announcement { ticketMessages.deliver(.announced(announcement)) }
                // Ticket announcements are the `TicketRefresher`'s only.
                if let announcement, announcement.ticket == nil {
                    refresher(announcement.appid)?.wake()
                    refreshWaiters.announce(announcement.appid)
                }
            case .message(let message):
                handleForcedRefresh(message.payload)
            }
        }
    }

    private func handleForcedRefresh(_ payload: [UInt8]) {
        switch RefreshMessage.parse(payload) {
        case .success(let message) where message.ticket != nil:
            ticketMessages.deliver(.requested(message))
        case .success(let message):
            guard let refresher = refresher(message.appid) else {
                metrics.forcedForUnknownApp.increment()
                rejectedMessages.log(logger, "forced refresh for an app this worker does not serve", metadata: [LogKey.appID: "\(message.appid)"])
                return
            }
            refresher.requestForcedRefresh(ForcedRefreshRequest(badToken: message.badToken))
        case .failure(let error):
            metrics.forcedMalformed.increment()
            rejectedMessages.log(logger, "ignored a malformed forced refresh message", metadata: ["reason": "\(error)", "bytes": "\(payload.count)"])
        }
    }

    /// Every `checkInterval`: wake apps whose token key vanished (FLUSHALL, restart without persistence) or
    /// holds another token than the one they know (failover, restore, hand edit), so they write theirs
    /// back; wake apps with a forced refresh standing in meta (the worker that accepted it may have died)
    /// or one this worker accepted and has yet to count; free lease keys left without a TTL; wake every
    /// app when the Redis clock stepped back, so each moves its times with it. Redis reports only the
    /// apps that need attention (`TokenStore.watch`), so an idle tick costs little however many apps.
    private func watchTokenKeys() async {
        var steppedBack = clock.steppedBack
        while !Task.isCancelled {
            do { try await Task.sleep(for: checkInterval) } catch { return }
            do {
                let sample = try await store.time()
                clock.observe(sample, metrics: metrics, logger: logger)
                if clock.steppedBack != steppedBack {
                    steppedBack = clock.steppedBack
                    scheduler.wakeAll()
                }
                lastTime.withLock { $0 = sample }
                let now = sample.redisNow()
                var list = TokenStore.WatchList()
                for refresher in refreshers { refresher.addWatched(to: &list, nowMillis: now) }
                for (entry, findings) in try await store.watch(list) {
                    try await refreshers[entry].attend(findings)
                }
                // A request this worker got accepted may have been withdrawn, which announces nothing.
                for refresher in refreshers where refresher.awaitsSettlement { refresher.wake() }
            } catch {
                metrics.redisErrorsInWatchdog.increment()
            }
        }
    }
}

extension TokenRefresher: PassJobs {
    func runPass(_ entry: Int) async -> ContinuousClock.Instant {
        await refreshers[entry].pass()
    }
}
