/// An app's stored token if it is still valid, with its whole remaining seconds, both judged at one
/// instant of the Redis clock (the clock every worker shares), not this host's.
struct CurrentToken: Sendable, Hashable {
    var record: TokenRecord
    var expiresIn: Int

    init?(_ snapshot: TokenStore.Snapshot) {
        let now = snapshot.time.redisNow()
        guard let record = snapshot.status.record, record.isValid(atMillis: now) else { return nil }
        self.record = record
        expiresIn = Int((record.expiresAt - now) / 1000)
    }
}
