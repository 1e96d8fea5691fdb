/// An in-process view of the tokens kept in Redis, for a reader that learns of replacements from
/// `P:refreshed` announcements: `TokenCentralClient`'s cache and a worker's HTTP token reads. A
/// value-type state machine, kept behind a `Mutex` by its owner.
///
/// Entries are kept only while the owner listens on `P:refreshed`: without the announcements a cached
/// token could outlive a forced refresh. Every invalidation bumps `epoch`, and a Redis read may store
/// its result only with the ticket it took before reading, so a token replaced while the read was in
/// flight never enters the cache. `maxAge` bounds how long an entry is served after its read, for
/// replacements nothing announces (a key changed by hand, an announcement lost before the listener
/// noticed its connection broke).
public struct TokenCache<Value: Sendable>: Sendable {
    public struct Entry: Sendable {
        public var value: Value
        /// When `P:{APPID}:access_token` expires, on this process's clock (from `PTTL`, timed from
        /// before the read, so the entry never outlives the key).
        public var expiresAt: ContinuousClock.Instant
        /// `expiresAt`, or earlier by `maxAge` after the read.
        @usableFromInline var servedUntil: ContinuousClock.Instant
    }

    /// The invalidations a read has seen and when it started, taken before the read.
    public struct Ticket: Sendable, Hashable {
        @usableFromInline let epoch: UInt64
        public let readAt: ContinuousClock.Instant

        @usableFromInline init(epoch: UInt64, readAt: ContinuousClock.Instant) {
            self.epoch = epoch
            self.readAt = readAt
        }
    }

    public enum Lookup: Sendable {
        case hit(Value, expiresAt: ContinuousClock.Instant)
        /// Read Redis, then `store` the result with this ticket.
        case miss(Ticket)
    }

    // Inlinable reads (`lookup`) are specialized in the reader's module: unspecialized, every hit of a
    // generic cache looked up type metadata at run time, a third of an HTTP token read's CPU.
    @usableFromInline var entries: [String: Entry] = [:]
    @usableFromInline var epoch: UInt64 = 0
    private let maxAge: Duration?
    /// True between a `.subscribed` event on `P:refreshed` and the end of listening.
    public private(set) var isListening = false

    /// - Parameter maxAge: how long after its read an entry may be served at most; nil for as long as
    ///   the key lives, `.zero` for never.
    public init(maxAge: Duration? = nil) {
        self.maxAge = maxAge
    }

    @inlinable public mutating func lookup(_ appid: String, now: ContinuousClock.Instant) -> Lookup {
        if let entry = entries[appid] {
            if now < entry.servedUntil { return .hit(entry.value, expiresAt: entry.expiresAt) }
            entries[appid] = nil
        }
        return .miss(Ticket(epoch: epoch, readAt: now))
    }

    /// Keeps `value`, read with `ticket` from a key with `millisecondsLeft` to live, unless an
    /// invalidation came since the ticket was taken or nobody listens.
    public mutating func store(_ appid: String, _ value: Value, millisecondsLeft: Int, ticket: Ticket) {
        guard isListening, ticket.epoch == epoch, millisecondsLeft > 0 else { return }
        let expiresAt = ticket.readAt + .milliseconds(millisecondsLeft)
        let servedUntil = maxAge.map { min(expiresAt, ticket.readAt + $0) } ?? expiresAt
        guard servedUntil > ticket.readAt else { return }
        entries[appid] = Entry(value: value, expiresAt: expiresAt, servedUntil: servedUntil)
    }

    /// A new token was announced (or reported bad) for `appid`.
    public mutating func invalidate(_ appid: String) {
        epoch &+= 1
        entries[appid] = nil
    }

    /// Drops every entry: the listener (re)subscribed, stopped, or received an announcement it could not read.
    public mutating func invalidateAll(listening: Bool) {
        epoch &+= 1
        entries.removeAll()
        isListening = listening
    }

    /// A message on `P:refreshed`: drops the announced app's entry, or every entry when the payload is
    /// no announcement (not knowing which token changed, forget them all rather than serve a stale one).
    /// Returns the announcement.
    @discardableResult
    public mutating func hear(_ payload: [UInt8]) -> RefreshedAnnouncement? {
        guard let announcement = RefreshedAnnouncement(payload: payload) else {
            invalidateAll(listening: isListening)
            return nil
        }
        invalidate(announcement.appid)
        return announcement
    }

    /// How many apps have an entry.
    public var count: Int { entries.count }
}

extension TokenCache.Lookup: Equatable where Value: Equatable {}
