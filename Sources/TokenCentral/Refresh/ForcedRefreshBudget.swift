/// The limits on forced refreshes of one app, shared by every worker through the app's meta hash
/// (see `TokenStore.acceptForcedRefresh`).
///
/// The failure it prevents: every report of the current token costs one upstream call, and a reader
/// can report the token it just read as often as it likes. WeChat allows an app 2,000 token calls a
/// day; once they are gone it answers 45009 and no token can be had until midnight, Beijing time, so a
/// buggy or hostile client in a report loop would otherwise stop the app's scheduled refreshes too.
public struct ForcedRefreshBudget: Sendable, Hashable {
    /// A report of a token younger than this is refused: a token just fetched was certainly valid when
    /// WeChat issued it, so a client in a report loop gets one call per this period, not one per report.
    public var minimumTokenAge: Duration
    /// Forced refreshes honoured per app per clock hour (Redis time), so a report loop cannot spend
    /// the whole day's budget in its first hour.
    public var hourly: Int
    /// Forced refreshes honoured per app per Beijing day (as WeChat counts its quota).
    public var daily: Int
    /// Requests without `bad_token` are honoured at most once per this period (`P:{APPID}:forced`).
    public var cooldown: Duration

    public init(minimumTokenAge: Duration, hourly: Int, daily: Int, cooldown: Duration) {
        self.minimumTokenAge = minimumTokenAge
        self.hourly = hourly
        self.daily = daily
        self.cooldown = cooldown
    }
}

/// What became of a forced refresh request when it was put to Redis.
public enum ForcedRefreshVerdict: Sendable, Hashable {
    /// The reported token is no longer the stored one (or there is none yet): nothing to refresh.
    case stale
    /// A request for the current token already stands, accepted at this Redis time (unix ms).
    case standing(since: Int64)
    /// Accepted now, at this Redis time: it stands in meta (`forced_at`) until a newer token is stored.
    case accepted(since: Int64)
    /// Without `bad_token`, within the cooldown of the previous such request.
    case cooldown
    case refused(ForcedRefreshRefusal)

    /// The Redis time since which a request for the current token stands, if one does.
    var standingSince: Int64? {
        switch self {
        case .standing(let since), .accepted(let since): since
        case .stale, .cooldown, .refused: nil
        }
    }
}

/// Why a forced refresh was refused, and until when the same request would be refused again.
public struct ForcedRefreshRefusal: Sendable, Hashable {
    public enum Reason: String, Sendable, Hashable {
        /// The reported token is younger than `refresh.forced_min_token_age`.
        case minimumTokenAge = "min_token_age"
        /// `refresh.forced_hourly_budget` is used up for this hour.
        case hourlyBudget = "hourly_budget"
        /// `refresh.forced_daily_budget` is used up for this Beijing day.
        case dailyBudget = "daily_budget"
        /// `refresh.stable_force_daily_limit` is used up, or WeChat's own force_refresh count is.
        case stableForceLimit = "stable_force_limit"
        /// Upstream refuses this app until `retry_at` (bad secret, IP not whitelisted, risk control, quota):
        /// forcing would fail the same way.
        case upstreamRefusing = "upstream_refusing"

        /// Refused by this app's forced-refresh budget (`ForcedRefreshBudget`), not by WeChat's limits.
        public var isBudget: Bool {
            switch self {
            case .minimumTokenAge, .hourlyBudget, .dailyBudget: true
            case .stableForceLimit, .upstreamRefusing: false
            }
        }
    }

    public var reason: Reason
    /// Redis time (unix ms) from which the same request may be honoured.
    public var until: Int64
    /// The first refusal of this reason in its period (hour, day, token) across all workers: the one
    /// logged at warning level.
    public var firstInPeriod: Bool

    public init(reason: Reason, until: Int64, firstInPeriod: Bool) {
        self.reason = reason
        self.until = until
        self.firstInPeriod = firstInPeriod
    }

    /// For a person: what refused it and when to try again.
    public func explanation(nowMillis: Int64) -> String {
        let wait = "\(max(until - nowMillis, 0) / 1000) s"
        return switch reason {
        case .minimumTokenAge: "the reported token is younger than refresh.forced_min_token_age; a report of it is honoured in \(wait)"
        case .hourlyBudget: "this hour's forced-refresh budget (refresh.forced_hourly_budget) is used up; next in \(wait)"
        case .dailyBudget: "today's forced-refresh budget (refresh.forced_daily_budget) is used up; next in \(wait) (Beijing midnight)"
        case .stableForceLimit: "today's force_refresh allowance for this stable_token app is used up; next in \(wait)"
        case .upstreamRefusing: "upstream refuses this app (see its last error); forcing would fail the same way; retry in \(wait)"
        }
    }
}
