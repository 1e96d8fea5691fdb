/// Forced refresh requests that arrived since the app's loop last looked.
///
/// Requests naming different bad tokens must not overwrite each other: a late report of an already
/// replaced token would otherwise hide a report of the current one, which would never be refreshed.
/// So every distinct bad token is kept (a bounded set: a storm repeats one token, and stale ones are
/// dropped once the loop compares them with the current token).
struct PendingForcedRefresh: Sendable {
    private var badTokens: Set<String> = []
    private var withoutToken = false
    private var earliest: ContinuousClock.Instant?

    /// Distinct bad tokens kept at most; beyond that the newest reports are merged into "without token".
    static let maximumDistinctTokens = 64

    /// Queues `request`; returns false when an identical one was already waiting (it is merged into that one).
    @discardableResult
    mutating func add(_ request: ForcedRefreshRequest) -> Bool {
        let added: Bool
        if let bad = request.badToken, badTokens.count < Self.maximumDistinctTokens || badTokens.contains(bad) {
            added = badTokens.insert(bad).inserted
        } else {
            added = !withoutToken
            withoutToken = true
        }
        earliest = min(earliest ?? request.receivedAt, request.receivedAt)
        return added
    }

    /// The request to act on, clearing the queue: one naming the current token if any report did,
    /// else a request without a token if any came, else one naming a stale token (deduplicated later).
    mutating func take(currentToken: String?) -> ForcedRefreshRequest? {
        defer { self = PendingForcedRefresh() }
        guard let receivedAt = earliest else { return nil }
        if let currentToken, badTokens.contains(currentToken) {
            return ForcedRefreshRequest(badToken: currentToken, receivedAt: receivedAt)
        }
        if withoutToken { return ForcedRefreshRequest(badToken: nil, receivedAt: receivedAt) }
        return ForcedRefreshRequest(badToken: badTokens.first, receivedAt: receivedAt)
    }
}
