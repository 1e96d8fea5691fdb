import CoreMetrics
import Foundation
import Logging
import RedisClient
import ServiceLifecycle
import Synchronization

/// The refresher of one worker: an `AppRefresher` per configured app, the pub/sub listener that wakes
/// them (`P:refreshed`) or forces them (`P:refresh`), and a watchdog that notices vanished token keys.
///
/// On graceful shutdown (SIGTERM/SIGINT) every loop is cancelled: no new lease is taken, and a lease
/// held during an upstream call is released as that call unwinds.
public final class TokenRefresher: Service, Sendable {
    private let refreshers: [String: AppRefresher]
    /// Every app's metrics, in appid order: the order `/metrics` lists them in.
    private let appMetrics: [AppMetrics]
    private let store: TokenStore
    private let checkInterval: Duration
    let metrics: TokenMetrics
    private let logger: Logger
    private let rejectedMessages = RateLimitedLog(interval: .seconds(10))

    init(apps: [AppConfiguration], context: RefreshContext, checkInterval: Duration) {
        var refreshers: [String: AppRefresher] = [:]
        for app in apps { refreshers[app.appid] = AppRefresher(app: app, context: context) }
        self.refreshers = refreshers
        self.appMetrics = refreshers.values.map(\.metrics).sorted { $0.appid < $1.appid }
        self.store = context.store
        self.checkInterval = checkInterval
        self.metrics = context.metrics
        self.logger = context.logger
    }

    public var appIDs: [String] { refreshers.keys.sorted() }

    /// Forces a refresh of `appid` (the HTTP API's entry point): put to Redis at once, so the caller
    /// learns whether it stands or was refused, and why. Nil for an app this worker does not serve.
    public func forceRefresh(appid: String, badToken: String?) async throws(RedisError) -> ForcedRefreshVerdict? {
        try await refreshers[appid]?.forceRefresh(ForcedRefreshRequest(badToken: badToken))
    }

    /// The per-app metrics (and the forced-refresh counts of unknown apps) in the Prometheus text format.
    func renderAppMetrics() -> [UInt8] {
        MetricsExposition.render(appMetrics, worker: metrics)
    }

    public func run() async throws {
        logger.info("refresher starting", metadata: ["apps": "\(refreshers.count)", LogKey.redisAddress: "\(store.redis.endpoint)"])
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for refresher in self.refreshers.values {
                    group.addTask { await refresher.run() }
                }
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
        for await event in store.redis.subscribe(channels: channels) {
            switch event {
            case .subscribed:
                // Messages published while we were disconnected are lost: re-read every app.
                if subscribedBefore { metrics.subscriptionsLost.increment() }
                subscribedBefore = true
                logger.debug("subscribed", metadata: ["channels": "\(channels)"])
                for refresher in refreshers.values { refresher.wake() }
            case .message(let message) where message.channel == store.keys.refreshedChannel:
                if let announcement = RefreshedAnnouncement(payload: message.payload) { refreshers[announcement.appid]?.wake() }
            case .message(let message):
                handleForcedRefresh(message.payload)
            }
        }
    }

    private func handleForcedRefresh(_ payload: [UInt8]) {
        switch RefreshMessage.parse(payload) {
        case .success(let message):
            guard let refresher = refreshers[message.appid] else {
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

    /// Every `checkInterval`: wake apps whose token key vanished (FLUSHALL, restart without persistence)
    /// so they re-seed it from memory, wake apps with a forced refresh standing in meta (the worker that
    /// accepted it may have died) or one this worker accepted and has yet to count, and refresh the
    /// expiry gauges.
    private func watchTokenKeys() async {
        let appids = appIDs
        while !Task.isCancelled {
            do { try await Task.sleep(for: checkInterval) } catch { return }
            do {
                let now = try await store.time().redisNow()
                for refresher in refreshers.values { refresher.observe(nowMillis: now) }
                for appid in try await store.appsMissingTokenKey(appids) { refreshers[appid]?.wake() }
                for appid in try await store.appsWithStandingForcedRefresh(appids) { refreshers[appid]?.wake() }
                // A request this worker got accepted may have been withdrawn, which announces nothing.
                for refresher in refreshers.values where refresher.awaitsSettlement { refresher.wake() }
            } catch {
                metrics.redisErrorsInWatchdog.increment()
            }
        }
    }
}
