/// Forced refresh requests that arrived since the app's loop last looked.
///
/// Requests naming different bad tokens must not overwrite each other: a late report of an already
/// replaced token would otherwise hide a report of the current one, which would never be refreshed.
/// So distinct bad tokens are kept, up to a bound: a storm repeats one token, and stale ones are
/// dropped once the loop compares them with the current token.
///
/// Past the bound a flood of invented tokens must neither cause a call nor crowd out a genuine report:
/// a report is then kept only if it names the token this worker knows as current, in place of another
/// one; any other is dropped, since it can only be stale (or name a token too new for this worker to
/// have seen, whose reporters report again on their next 40001).
struct PendingForcedRefresh: Sendable {
    private var badTokens: Set<String> = []
    private var withoutToken = false

    /// Distinct bad tokens kept at most.
    static let maximumDistinctTokens = 64

    /// Queues `request`; returns false when it was merged into an identical one already waiting, or
    /// dropped because the queue is full of other tokens and it does not name `knownCurrent`.
    @discardableResult
    mutating func add(_ request: ForcedRefreshRequest, knownCurrent: String? = nil) -> Bool {
        guard let bad = request.badToken else {
            defer { withoutToken = true }
            return !withoutToken
        }
        if badTokens.count >= Self.maximumDistinctTokens, !badTokens.contains(bad) {
            guard bad == knownCurrent, let evicted = badTokens.first else { return false }
            badTokens.remove(evicted)
        }
        return badTokens.insert(bad).inserted
    }

    /// The request to act on, clearing the queue: one naming the current token if any report did,
    /// else a request without a token if any came, else one naming a stale token (deduplicated later).
    /// `others` counts the queued requests merged into it, to be counted as deduplicated.
    mutating func take(currentToken: String?) -> (request: ForcedRefreshRequest, others: Int)? {
        defer { self = PendingForcedRefresh() }
        let others = badTokens.count + (withoutToken ? 1 : 0) - 1
        if let currentToken, badTokens.contains(currentToken) { return (ForcedRefreshRequest(badToken: currentToken), others) }
        if withoutToken { return (ForcedRefreshRequest(badToken: nil), others) }
        return badTokens.first.map { (ForcedRefreshRequest(badToken: $0), others) }
    }
}
