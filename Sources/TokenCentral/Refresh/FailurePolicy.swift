import RedisClient

/// How long every worker leaves an app's token endpoint alone after a failure. Pure.
public struct FailurePolicy: Sendable, Hashable {
    public var retryInitial: Duration
    public var retryMaximum: Duration
    public var configErrorRetry: Duration

    public init(retryInitial: Duration, retryMaximum: Duration, configErrorRetry: Duration) {
        self.retryInitial = retryInitial
        self.retryMaximum = retryMaximum
        self.configErrorRetry = configErrorRetry
    }

    /// - Parameters:
    ///   - errcode: WeChat's errcode, if any: 45011 (the per-minute API limit) is retried no earlier than
    ///     the next minute, when WeChat's count starts again.
    ///   - failures: consecutive failures before this one (shared by all workers through meta).
    ///   - effectiveAheadMillis: the app's refresh window; transient retries are capped at a quarter of
    ///     it so several attempts fit before the old token expires.
    ///   - unit: jitter in [0, 1].
    public func retryDelay(
        for kind: UpstreamError.Kind, errcode: Int? = nil, failures: Int, nowMillis: Int64, effectiveAheadMillis: Int64?,
        unit: Double = .random(in: 0...1)
    ) -> Duration {
        switch kind {
        case .transient:
            var maximum = retryMaximum
            if let window = effectiveAheadMillis { maximum = min(maximum, max(retryInitial, .milliseconds(window / 4))) }
            let backoff = Backoff(initial: retryInitial, maximum: max(maximum, retryInitial)).delay(attempt: failures, unit: unit)
            guard errcode == 45011 else { return backoff }
            return max(backoff, .milliseconds(60_000 - nowMillis % 60_000))
        case .configuration:
            return configErrorRetry
        case .riskControl(let blockedFor):
            return blockedFor
        case .quotaExhausted:
            return .milliseconds(Self.millisUntilQuotaReset(nowMillis: nowMillis))
        }
    }

    /// WeChat's daily quotas reset at 00:00 Beijing time (UTC+8).
    public static func millisUntilQuotaReset(nowMillis: Int64) -> Int64 {
        let day: Int64 = 86_400_000
        let beijingOffset: Int64 = 8 * 3_600_000
        let nextMidnight = ((nowMillis + beijingOffset) / day + 1) * day - beijingOffset
        return nextMidnight - nowMillis
    }
}
