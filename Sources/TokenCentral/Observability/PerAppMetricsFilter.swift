/// `metrics.per_app`: which apps get per-app series in `/metrics`.
///
/// At 100,000 apps the per-app series are most of a scrape (about 20 per app); most apps are fine at
/// any moment, and the worker-wide series already show the fleet's health. `attention` keeps the
/// series of the apps a person may have to look at; `off` drops them all.
public enum PerAppMetrics: String, Sendable, CaseIterable {
    /// Every app's series: the default, so existing dashboards and alerts keep working.
    case all
    /// Only apps that need attention (`AppAttention.needsAttention`).
    case attention
    /// No per-app series.
    case off
}

/// What `/metrics` knows of an app when it decides whether the app needs attention. Plain values, as
/// last observed by the worker (see `AppMetrics`).
struct AppAttention: Sendable, Hashable {
    /// Until the token observed expires; 0 when there is none or it has expired.
    var expiresInMillis: Int64
    /// Since the observed token was fetched.
    var ageMillis: Int64
    /// The last upstream call of this worker for the app failed (any kind, transient included).
    var lastCallFailed: Bool
    /// A forced refresh was refused (by its budget or by upstream) and no token was fetched since.
    var forcedRefused: Bool

    /// An app needs attention when any of these holds:
    /// - it has no valid token (none observed, or expired);
    /// - its last upstream call failed: WeChat refuses it, or it is failing transiently right now;
    /// - a forced refresh was refused since its last new token: a client reported a token it could not
    ///   get replaced;
    /// - its token expires within half its refresh margin (`min(refresh.ahead, lifetime / 4)`, the
    ///   lifetime being the observed age plus time left): it is due from the whole margin before
    ///   expiry, so half of it gone without a new token means its refresh is overdue.
    func needsAttention(schedule: RefreshSchedule) -> Bool {
        guard expiresInMillis > 0 else { return true }
        if lastCallFailed || forcedRefused { return true }
        let margin = schedule.effectiveAhead(lifetimeMillis: ageMillis + expiresInMillis)
        return expiresInMillis < margin / 2
    }
}

/// Selects the apps whose per-app series are rendered, at scrape time.
public struct PerAppMetricsFilter: Sendable {
    public var mode: PerAppMetrics
    /// The refresh margin `attention` compares the time left of a token with.
    public var schedule: RefreshSchedule

    public init(mode: PerAppMetrics, schedule: RefreshSchedule) {
        self.mode = mode
        self.schedule = schedule
    }

    /// Every app, as before `metrics.per_app` existed.
    public static let all = PerAppMetricsFilter(mode: .all, schedule: RefreshSchedule(ahead: .seconds(300), lockTTL: .seconds(30)))

    func includes(_ app: AppMetrics, nowMillis: Int64) -> Bool {
        switch mode {
        case .all: true
        case .attention: app.attention(nowMillis: nowMillis).needsAttention(schedule: schedule)
        case .off: false
        }
    }
}
