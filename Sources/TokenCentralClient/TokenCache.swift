/// The in-process token cache of `TokenCentralClient`: a value-type state machine kept behind a `Mutex`.
///
/// Entries are kept only while the client listens on `P:refreshed`: without the announcements a cached
/// token could outlive a forced refresh. Every invalidation bumps `epoch`, and a Redis read may store
/// its result only with the ticket it took before reading, so a token replaced while the read was in
/// flight never enters the cache. Entries are keyed by the Redis key read: an app's token and its
/// tickets (`P:{APPID}:jsapi_ticket`) are cached alike.
struct TokenCache: Sendable {
    struct Entry: Sendable, Hashable {
        var token: String
        /// When the key expires, on this process's clock (from `PTTL`).
        var expiresAt: ContinuousClock.Instant
    }

    /// The invalidations a read has seen, taken before the read.
    struct Ticket: Sendable, Hashable {
        fileprivate let epoch: UInt64
    }

    enum Lookup: Sendable, Hashable {
        case hit(String)
        /// Read Redis, then `store` the result with this ticket.
        case miss(Ticket)
    }

    private var entries: [String: Entry] = [:]
    private var epoch: UInt64 = 0
    /// True between a `.subscribed` event on `P:refreshed` and the end of `run()`.
    private(set) var isListening = false

    mutating func lookup(_ key: String, now: ContinuousClock.Instant) -> Lookup {
        if let entry = entries[key] {
            if now < entry.expiresAt { return .hit(entry.token) }
            entries[key] = nil
        }
        return .miss(Ticket(epoch: epoch))
    }

    mutating func store(_ key: String, _ entry: Entry, ticket: Ticket) {
        guard isListening, ticket.epoch == epoch else { return }
        entries[key] = entry
    }

    /// A new token or ticket was announced (or reported bad): drops the entries of these keys.
    mutating func invalidate(_ keys: [String]) {
        epoch &+= 1
        for key in keys { entries[key] = nil }
    }

    /// Drops every entry: the listener (re)subscribed, stopped, or received an announcement it could not read.
    mutating func invalidateAll(listening: Bool) {
        epoch &+= 1
        entries.removeAll()
        isListening = listening
    }
}
