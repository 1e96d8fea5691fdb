/// What a worker makes of an app's state in Redis before it decides anything from it. Pure: plain
/// values in, findings out.
///
/// Redis is not always what workers wrote: a Sentinel failover loses the last write, an RDB restore or a
/// manual `SET` brings back an older token, a clock step or a bad hand edit leaves times no worker could
/// have written. Decisions taken from such state go wrong quietly (an old token served until WeChat
/// retires it, a fence that refuses every fresh token, an app stalled for years), so they are checked first.
public struct StoredStateCheck: Sendable, Hashable {
    /// Slack for the worker's own reading of the clock: issue windows and fetch times are taken on the
    /// Redis clock before they are written, so a later reading never lies before them by more than its
    /// round trip.
    public static let toleranceMillis: Int64 = 1000
    /// The latest `retry_at` (and `refresh_not_before`) that can be right, from now (see `init`).
    public var retryCapMillis: Int64
    /// The longest token lifetime believed (`TokenLifetime.maximum`).
    public var lifetimeCapMillis: Int64

    /// The longest legitimate wait is the longest of: the next quota reset (at most 24 h away), a risk-control
    /// block (WeChat's longest is 24 h), the configured backoffs, and a WeCom token's remaining life (one
    /// lifetime). 25 h covers them with an hour to spare; a `retry_at` beyond that was written by no worker
    /// (a hand edit, a clock that stepped back by a day) and would otherwise stall the app indefinitely.
    public init(failurePolicy: FailurePolicy, lifetimeCap: Duration = TokenLifetime.maximum) {
        let longest = max(Duration.seconds(25 * 3600), failurePolicy.configErrorRetry, failurePolicy.retryMaximum, lifetimeCap)
        retryCapMillis = longest.milliseconds
        lifetimeCapMillis = lifetimeCap.milliseconds
    }

    /// The fields of `status` no worker could have written by `now`; empty when it is plausible.
    public func implausible(_ status: AppStatus, nowMillis now: Int64) -> Set<ImplausibleField> {
        var found: Set<ImplausibleField> = []
        let latest = now + Self.toleranceMillis
        if let record = status.record {
            if record.issuedMin > latest || record.issuedMax > latest || record.fetchedAt > latest { found.insert(.issuedInFuture) }
            if record.issuedMin > record.issuedMax { found.insert(.issueWindowInverted) }
            if record.lifetime > lifetimeCapMillis { found.insert(.lifetimeTooLong) }
            // A token is issued before it is stored, so it cannot expire more than one lifetime from now.
            if record.expiresAt > latest + min(record.lifetime, lifetimeCapMillis) { found.insert(.expiryTooFar) }
        }
        if let retryAt = status.retryAt, retryAt > now + retryCapMillis { found.insert(.retryTooFar) }
        if let notBefore = status.refreshNotBefore, notBefore > now + retryCapMillis { found.insert(.retryTooFar) }
        return found
    }

    /// Whether Redis serves an older token than `remembered`, the last-issued one this worker stored or
    /// saw, and why; nil when it serves that one (or this worker knows no valid token).
    ///
    /// - Parameter keyToken: the value of `P:{APPID}:access_token`, what readers get.
    public func staleness(remembered: TokenRecord?, stored: AppStatus, keyToken: String?, nowMillis now: Int64) -> Staleness? {
        guard let remembered, remembered.isValid(atMillis: now) else { return nil }
        guard let keyToken else { return .keyMissing }
        guard let record = stored.record else { return .metaMissing }
        if record.token == remembered.token { return keyToken == remembered.token ? nil : .keyDiffers }
        // Generations first: they order tokens on any clock, where issue windows from before and after a
        // Redis clock step do not.
        if record.generation < remembered.generation { return .olderGeneration }
        if record.generation == remembered.generation, record.issuedMax < remembered.issuedMin { return .olderIssued }
        return nil
    }
}

/// A field of `P:{APPID}:meta` that no worker could have written.
public enum ImplausibleField: String, Sendable, Hashable, Comparable {
    case issuedInFuture = "issued_in_future"
    case issueWindowInverted = "issue_window_inverted"
    case lifetimeTooLong = "expires_in_too_long"
    case expiryTooFar = "expires_at_too_far"
    case retryTooFar = "retry_at_too_far"

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// How Redis differs from the token a worker knows to be the last issued.
public enum Staleness: String, Sendable, Hashable {
    /// `P:{APPID}:access_token` is gone (FLUSHALL, restart without persistence, expired early).
    case keyMissing = "key_missing"
    /// The key is there but meta is gone.
    case metaMissing = "meta_missing"
    /// Meta names the remembered token but the key holds another (a manual or restored `SET`).
    case keyDiffers = "key_differs"
    /// Meta holds a lower generation than the remembered token's (failover, RDB restore).
    case olderGeneration = "older_generation"
    /// Meta holds another token of the same generation, issued before the remembered one.
    case olderIssued = "older_issued"
}
