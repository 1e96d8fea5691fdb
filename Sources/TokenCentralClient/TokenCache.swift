/// The in-process token cache of `TokenCentralClient`: a value-type state machine kept behind a `Mutex`.
///
/// Entries are kept only while the client listens on `P:refreshed`: without the announcements a cached
/// token could outlive a forced refresh. Every invalidation bumps `epoch`, and a Redis read may store
/// its result only with the ticket it took before reading, so a token replaced while the read was in
/// flight never enters the cache.
struct TokenCache: Sendable {
    struct Entry: Sendable, Hashable {
        var token: String
        /// When `P:{APPID}:access_token` expires, on this process's clock (from `PTTL`).
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

    mutating func lookup(_ appid: String, now: ContinuousClock.Instant) -> Lookup {
        if let entry = entries[appid] {
            if now < entry.expiresAt { return .hit(entry.token) }
            entries[appid] = nil
        }
        return .miss(Ticket(epoch: epoch))
    }

    mutating func store(_ appid: String, _ entry: Entry, ticket: Ticket) {
        guard isListening, ticket.epoch == epoch else { return }
        entries[appid] = entry
    }

    /// A new token was announced (or reported bad) for `appid`.
    mutating func invalidate(_ appid: String) {
        epoch &+= 1
        entries[appid] = nil
    }

    /// Drops every entry: the listener (re)subscribed, stopped, or received an announcement it could not read.
    mutating func invalidateAll(listening: Bool) {
        epoch &+= 1
        entries.removeAll()
        isListening = listening
    }
}
