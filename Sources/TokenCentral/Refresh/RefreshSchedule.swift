/// When an app's token is due, and how long leases last. Pure: plain values in, decisions out.
///
/// Times are unix milliseconds of the Redis clock, so every worker reaches the same decision.
public struct RefreshSchedule: Sendable, Hashable {
    /// Configured `refresh.ahead`.
    public var ahead: Duration
    /// Configured `refresh.lock_ttl`.
    public var lockTTL: Duration

    public init(ahead: Duration, lockTTL: Duration) {
        self.ahead = ahead
        self.lockTTL = lockTTL
    }

    /// `min(refresh.ahead, lifetime / 4)`: 300 s for WeChat's 7200 s tokens, 2 s for an 8 s test token,
    /// so short lifetimes behave like production ones instead of being due the moment they arrive.
    public func effectiveAhead(lifetimeMillis: Int64) -> Int64 {
        let configured = ahead.milliseconds
        return lifetimeMillis > 0 ? min(configured, lifetimeMillis / 4) : configured
    }

    /// The lease must expire soon enough that, if its holder dies mid-refresh, another worker still
    /// takes over and refreshes before the token expires: at most a third of the effective `ahead`.
    public func leaseTTL(lifetimeMillis: Int64?) -> Duration {
        guard let lifetimeMillis, lifetimeMillis > 0 else { return lockTTL }
        let cap = Duration.milliseconds(max(effectiveAhead(lifetimeMillis: lifetimeMillis) / 3, 50))
        return min(lockTTL, cap)
    }

    /// Spreads refreshes of many apps over the last tenth of their `ahead` window, so 10,000 apps fetched
    /// together do not all refresh at one instant. Deterministic per app and generation, so all workers agree.
    public func jitterMillis(appid: String, generation: Int, effectiveAhead: Int64) -> Int64 {
        let window = effectiveAhead / 10
        guard window > 0 else { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in "\(appid):\(generation)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return Int64(hash % UInt64(window))
    }

    /// When the record should be refreshed.
    public func dueAt(_ record: TokenRecord, appid: String) -> Int64 {
        let ahead = effectiveAhead(lifetimeMillis: record.lifetime)
        return record.expiresAt - ahead - jitterMillis(appid: appid, generation: record.generation, effectiveAhead: ahead)
    }

    public func decide(_ status: AppStatus, appid: String, nowMillis now: Int64) -> RefreshDecision {
        // Backoff, risk control, quota, or "same token returned": honoured even without a valid token,
        // so a failing app never turns into a tight loop of upstream calls.
        if let retryAt = status.retryAt, now < retryAt { return .wait(untilMillis: retryAt) }
        guard let record = status.record else { return .refresh(.missing) }
        if !record.isValid(atMillis: now) { return .refresh(.expired) }
        if status.refreshRequested != nil {
            // The next fetch must be certainly later than the stored token (or it is ambiguous again) and
            // than any token an abandoned call may still have obtained.
            let notBefore = max(record.issuedMax, status.refreshNotBefore ?? .min)
            return now > notBefore ? .refresh(.requested) : .wait(untilMillis: notBefore + 1)
        }
        // A forced refresh stands in meta until a newer token is written: after a transient failure it
        // is carried out at `retry_at` (checked first), by whichever worker gets there.
        if status.forcedAt != nil { return .refresh(.forced) }
        let due = dueAt(record, appid: appid)
        return now >= due ? .refresh(.due) : .wait(untilMillis: due)
    }
}

public enum RefreshDecision: Sendable, Hashable {
    case refresh(RefreshReason)
    /// Nothing to do before this Redis time (unix ms) unless woken (new token, forced refresh, flush).
    case wait(untilMillis: Int64)
}

public enum RefreshReason: String, Sendable, Hashable {
    /// No token stored yet.
    case missing
    case expired
    /// Within the `ahead` window before expiry.
    case due
    /// Marked `refresh_requested`: two tokens of unknown issue order, or a fetch abandoned by a worker
    /// that died during its upstream call.
    case requested
    /// A forced refresh stands for the current token (`forced_at`): a business server reported it
    /// invalid, or an operator asked.
    case forced
}
