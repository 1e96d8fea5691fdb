/// The current token of one app as stored in `P:{APPID}:meta`. Times are unix milliseconds of the
/// Redis server's clock (`TIME`), so every worker compares them on one clock.
public struct TokenRecord: Sendable, Hashable {
    public var token: String
    public var expiresAt: Int64
    /// When the response carrying this token arrived (the upper bound of its issue window).
    public var fetchedAt: Int64
    /// +1 per new token; never goes back.
    public var generation: Int
    /// The worker that fetched it.
    public var worker: String
    public var grant: Grant?
    /// The validity WeChat announced (`expires_in`), in milliseconds.
    public var lifetime: Int64
    /// WeChat issued this token at some instant within `issuedMin...issuedMax`: the fence that decides
    /// which of two tokens is newer (see `TokenStore.write`).
    public var issuedMin: Int64
    public var issuedMax: Int64

    public init(
        token: String, expiresAt: Int64, fetchedAt: Int64, generation: Int, worker: String, grant: Grant?,
        lifetime: Int64, issuedMin: Int64, issuedMax: Int64
    ) {
        self.token = token
        self.expiresAt = expiresAt
        self.fetchedAt = fetchedAt
        self.generation = generation
        self.worker = worker
        self.grant = grant
        self.lifetime = lifetime
        self.issuedMin = issuedMin
        self.issuedMax = issuedMax
    }

    public func isValid(atMillis now: Int64) -> Bool { expiresAt > now }
}

/// Everything `P:{APPID}:meta` says about an app: its token (if any) and its latest upstream failure.
public struct AppStatus: Sendable, Hashable {
    public var record: TokenRecord?
    /// The last upstream failure, without secrets; cleared by the next new token.
    public var lastError: String?
    public var lastErrcode: Int?
    /// `UpstreamError.kindLabel` of the last failure: transient, configuration, risk_control, quota.
    public var lastErrorKind: String?
    public var lastErrorAt: Int64?
    /// No worker calls upstream for this app before this instant (backoff, risk control, quota, or
    /// an upstream that returned the same token: ask again when it expires).
    public var retryAt: Int64?
    /// Consecutive failed upstream calls, shared by all workers.
    public var failures: Int
    /// Set when a refresh is needed regardless of expiry: `issue-order-unknown` (two tokens of unknown
    /// issue order) or `abandoned-fetch` (a worker died during its upstream call; see `fetchInProgress`).
    public var refreshRequested: String?
    /// The requested refresh must not start before this instant: only a token issued after it is
    /// certainly later than the one an abandoned call may still have obtained.
    public var refreshNotBefore: Int64?
    /// The upstream call under way, as its worker announced it before sending it; cleared when that
    /// worker writes its result or records its failure. Still set when the next lease holder reads meta,
    /// it means the previous holder died or was paused mid-call, and WeChat may still issue it a token.
    public var fetchInProgress: FetchInProgress?
    /// Redis time at which the forced refresh that stands for the current token was accepted
    /// (`forced_at`); cleared by the write of a newer token, or when upstream refuses the app.
    public var forcedAt: Int64?
    /// The last forced refresh refused (`forced_refused`, `forced_refused_until`): by the budget, the
    /// stable_token force allowance, or an upstream refusing the app. Kept after it ran out, as history.
    public var forcedRefusal: ForcedRefreshRefusal?
    /// Redis time of that refusal (`forced_refused_at`).
    public var forcedRefusedAt: Int64?
    /// Tickets only (`renews_at_expiry`): upstream handed out the stored ticket again when asked ahead of
    /// its expiry, so later tickets are asked for at expiry instead (see `TicketSchedule`).
    public var renewsAtExpiry = false

    public init(
        record: TokenRecord? = nil, lastError: String? = nil, lastErrcode: Int? = nil, lastErrorAt: Int64? = nil,
        retryAt: Int64? = nil, failures: Int = 0, refreshRequested: String? = nil, refreshNotBefore: Int64? = nil,
        fetchInProgress: FetchInProgress? = nil
    ) {
        self.record = record
        self.lastError = lastError
        self.lastErrcode = lastErrcode
        self.lastErrorAt = lastErrorAt
        self.retryAt = retryAt
        self.failures = failures
        self.refreshRequested = refreshRequested
        self.refreshNotBefore = refreshNotBefore
        self.fetchInProgress = fetchInProgress
    }

    /// Parses the meta hash; a hash without a complete token yields `record == nil`.
    public init(fields: [String: String]) {
        func int64(_ name: String) -> Int64? { fields[name].flatMap { Int64($0) } }
        if let token = fields["token"], let expiresAt = int64("expires_at"), let generation = fields["generation"].flatMap({ Int($0) }) {
            record = TokenRecord(
                token: token,
                expiresAt: expiresAt,
                fetchedAt: int64("fetched_at") ?? 0,
                generation: generation,
                worker: fields["worker"] ?? "",
                grant: fields["grant"].flatMap(Grant.init(rawValue:)),
                lifetime: int64("expires_in").map { $0 * 1000 } ?? 0,
                issuedMin: int64("issued_min") ?? 0,
                issuedMax: int64("issued_max") ?? 0
            )
        }
        lastError = fields["error"]
        lastErrcode = fields["errcode"].flatMap { Int($0) }
        lastErrorKind = fields["error_kind"]
        lastErrorAt = int64("error_at")
        retryAt = int64("retry_at")
        failures = fields["failures"].flatMap { Int($0) } ?? 0
        refreshRequested = fields["refresh_requested"]
        refreshNotBefore = int64("refresh_not_before")
        if let lease = fields["fetch_lease"], let startedAt = int64("fetch_started") {
            fetchInProgress = FetchInProgress(lease: lease, startedAt: startedAt)
        }
        forcedAt = int64("forced_at")
        renewsAtExpiry = fields["renews_at_expiry"] != nil
        forcedRefusedAt = int64("forced_refused_at")
        if let reason = fields["forced_refused"].flatMap(ForcedRefreshRefusal.Reason.init(rawValue:)), let until = int64("forced_refused_until") {
            forcedRefusal = ForcedRefreshRefusal(reason: reason, until: until, firstInPeriod: false)
        }
    }
}

/// An upstream call announced in meta (`fetch_lease`, `fetch_started`) by the lease holder making it.
public struct FetchInProgress: Sendable, Hashable {
    /// The lease value of the worker making the call.
    public var lease: String
    /// Redis time (unix ms) just before the call was sent.
    public var startedAt: Int64

    public init(lease: String, startedAt: Int64) {
        self.lease = lease
        self.startedAt = startedAt
    }
}
