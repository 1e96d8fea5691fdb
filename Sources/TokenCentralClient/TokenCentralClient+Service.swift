import Foundation
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
                if let announced = AnnouncedApp(payload: message.payload) {
                    invalidate(announced.appid)
                } else {
                    // Not knowing which token changed, forget them all rather than serve a stale one.
                    cache.withLock { $0.invalidateAll(listening: true) }
                }
            }
        }
    }
}

/// The app an announcement on `P:refreshed` is about, whatever it announces: a new token
/// (`{"appid":...,"generation":...,"expires_at":...}`) or a new ticket (the same with a `"ticket"` field).
/// Either drops all of the app's cached values: one extra read at most, and no field beyond `appid` has
/// to be understood, so a payload that grows fields stays handled.
private struct AnnouncedApp: Decodable {
    var appid: String

    init?(payload: [UInt8]) {
        guard let decoded = try? JSONDecoder().decode(Self.self, from: Data(payload)) else { return nil }
        self = decoded
    }
}
