import RedisClient
import Synchronization
import TokenCentralContract

/// This worker's in-memory view of the tokens `GET /v1/apps/{appid}/access_token` serves, so that a
/// read costs no Redis round trip: the view of `TokenCentralClient` (the same `TokenCache`), kept
/// current by the refresher's subscription to `P:refreshed`.
///
/// How long a replaced token can still be served: until this worker hears the announcement of its
/// replacement (the write script publishes it with the write), and never longer than `maxAge`
/// (`http.token_cache_max_age`) after the read of Redis that filled the entry, whatever happens to the
/// announcement (a key changed without one, a subscription that broke before it arrived). While the
/// subscription is not established (before the first one, after the refresher stopped) every read
/// goes to Redis; each (re)subscription drops every entry, as announcements may have been lost.
///
/// Only apps actually read are held, each as its encoded body and two instants (a few hundred bytes
/// with a WeChat token); an entry past its age goes at its app's next read or, at the latest, with the
/// announcement of its replacement, so an app no longer read costs nothing after one token lifetime.
final class TokenView: Sendable {
    /// Long enough that a busy app costs one Redis read a second per worker instead of one per
    /// request; short enough that a token changed behind the workers' backs (by hand, a restore that
    /// announced nothing) stops being served about as soon as a person could check.
    static let defaultMaxAge: Duration = .seconds(1)

    private let cache: Mutex<TokenCache<EncodedAccessToken>>
    /// Told of every announcement and (re)subscription (the gateway's `TokenIndex`), or nobody.
    private let onHeard: @Sendable (Heard) -> Void

    /// What the subscription delivered, for those who follow it.
    enum Heard: Sendable, Hashable {
        /// Every channel is (re)subscribed: messages sent meanwhile may be lost.
        case subscribed
        /// A new token of `appid` was stored (by any worker).
        case announced(appid: String)
        /// A message on `P:refreshed` that is no announcement: any token may have changed.
        case unreadable
    }

    init(maxAge: Duration = TokenView.defaultMaxAge, onHeard: @escaping @Sendable (Heard) -> Void = { _ in }) {
        cache = Mutex(TokenCache(maxAge: maxAge))
        self.onHeard = onHeard
    }

    /// The subscription to `P:refreshed` stands (again): start from nothing.
    func subscribed() {
        cache.withLock { $0.invalidateAll(listening: true) }
        onHeard(.subscribed)
    }

    /// The subscription ended: serve nothing from memory any more.
    func unsubscribed() {
        cache.withLock { $0.invalidateAll(listening: false) }
    }

    /// A message on `P:refreshed`; returns the announcement it holds.
    @discardableResult
    func heard(_ payload: [UInt8]) -> RefreshedAnnouncement? {
        let announcement = cache.withLock { $0.hear(payload) }
        onHeard(announcement.map { .announced(appid: $0.appid) } ?? .unreadable)
        return announcement
    }

    /// The body of `appid`'s current token and its whole seconds left: from memory while the entry
    /// stands, otherwise from `store` (`GET` + `PTTL`), kept for the next reads. Nil when there is none.
    func current(_ appid: String, store: TokenStore) async throws(RedisError) -> (body: EncodedAccessToken, expiresIn: Int)? {
        let now = ContinuousClock.now
        let ticket: TokenCache<EncodedAccessToken>.Ticket
        switch cache.withLock({ $0.lookup(appid, now: now) }) {
        case .hit(let body, let expiresAt):
            return (body, Int((expiresAt - now).components.seconds))
        case .miss(let missTicket):
            ticket = missTicket
        }
        guard let readable = try await store.readableToken(appid) else { return nil }
        let body = EncodedAccessToken(token: readable.token)
        cache.withLock { $0.store(appid, body, millisecondsLeft: readable.millisecondsLeft, ticket: ticket) }
        return (body, readable.millisecondsLeft / 1000)
    }

    /// The body of `appid`'s current token and its whole seconds left when memory holds it, without
    /// reading Redis: what the event loop answers by itself (`CachedTokenReadHandler`).
    func cached(_ appid: String) -> (body: EncodedAccessToken, expiresIn: Int)? {
        let now = ContinuousClock.now
        guard case .hit(let body, let expiresAt) = cache.withLock({ $0.lookup(appid, now: now) }) else { return nil }
        return (body, Int((expiresAt - now).components.seconds))
    }

    /// How many apps are held: for tests of the memory bound.
    var count: Int { cache.withLock { $0.count } }
}
