/// Forced refresh requests that arrived since the app's loop last looked.
///
/// Requests naming different bad tokens must not overwrite each other: a late report of an already
/// replaced token would otherwise hide a report of the current one, which would never be refreshed.
/// So every distinct bad token is kept (a bounded set: a storm repeats one token, and stale ones are
/// dropped once the loop compares them with the current token).
struct PendingForcedRefresh: Sendable {
    private var badTokens: Set<String> = []
    /// The tokens among `badTokens` named by a request that claimed the cooldown (`claimedCooldown`).
    private var claimedCooldown: Set<String> = []
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
            if request.claimedCooldown { claimedCooldown.insert(bad) }
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
        if let currentToken, badTokens.contains(currentToken) { return naming(currentToken, receivedAt: receivedAt) }
        if withoutToken { return ForcedRefreshRequest(badToken: nil, receivedAt: receivedAt) }
        return badTokens.first.map { naming($0, receivedAt: receivedAt) }
    }

    private func naming(_ token: String, receivedAt: ContinuousClock.Instant) -> ForcedRefreshRequest {
        var request = ForcedRefreshRequest(badToken: token, receivedAt: receivedAt)
        request.claimedCooldown = claimedCooldown.contains(token)
        return request
    }
}
