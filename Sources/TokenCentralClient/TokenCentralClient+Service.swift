import RedisClient
import ServiceLifecycle
import Synchronization
import TokenCentralContract

extension TokenCentralClient: Service {
    /// Listens on `P:refreshed` and drops the cached token and tickets of each announced app. Runs until
    /// cancelled or graceful shutdown; the cache is in use only meanwhile.
    ///
    /// Pub/sub is at-most-once: announcements published while the connection was down are lost, so
    /// each (re)subscription starts from an empty cache.
    public func run() async {
        defer { cache.withLock { $0.invalidateAll(listening: false) } }
        for await event in redis.subscribe(channels: [keys.refreshedChannel]).cancelOnGracefulShutdown() {
            switch event {
            case .subscribed:
                cache.withLock { $0.invalidateAll(listening: true) }
            case .message(let message):
                if let announcement = cache.withLock({ $0.hear(message.payload) }) {
                    // The announced app's tickets too: a ticket announcement names its app.
                    invalidate(announcement.appid)
                }
            }
        }
    }
}
