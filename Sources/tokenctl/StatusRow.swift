import TokenCentral

/// One app (or one of its tickets) in `status` and `watch`, and its object in `status --json` (snake_case
/// keys; absent fields omitted).
struct StatusRow: Encodable, Sendable {
    var appid: String
    var grant: String?
    var generation: Int?
    /// Whole seconds left on `P:{APPID}:access_token` (or the ticket's key); nil when there is none.
    var expiresIn: Int?
    /// Unix ms, Redis clock.
    var expiresAt: Int64?
    var fetchedAt: Int64?
    /// The worker that fetched the current token.
    var worker: String?
    var lastError: String?
    var errcode: Int?
    /// No worker calls WeChat for this app before this unix ms.
    var retryAt: Int64?
    /// A forced refresh stands for the current token since this unix ms (`forced_at`).
    var forcedSince: Int64?
    /// Why forced refreshes are being refused (`forced_refused`: `min_token_age`, `hourly_budget`, ...),
    /// while that refusal is in effect; with the unix ms it lasts until.
    var forcedRefused: String?
    var forcedRefusedUntil: Int64?
    /// On a row of the app's `tickets`: which ticket (`jsapi`, `wx_card`), read from its key and its meta
    /// hash (the token meta's fields) as the app's row is from the token's.
    var ticket: String?
    /// The app's tickets: those configured, or (apps found with SCAN) those present in Redis; omitted when none.
    var tickets: [StatusRow]?

    init(appid: String, status: AppStatus, millisecondsLeft: Int?, configuredGrant: Grant?, nowMillis: Int64) {
        self.appid = appid
        let record = status.record
        grant = (record?.grant ?? configuredGrant)?.rawValue
        generation = record?.generation
        expiresIn = millisecondsLeft.flatMap { $0 >= 0 ? $0 / 1000 : nil }
        expiresAt = record?.expiresAt
        fetchedAt = record?.fetchedAt
        worker = record?.worker
        lastError = status.lastError
        errcode = status.lastErrcode
        retryAt = status.retryAt
        forcedSince = status.forcedAt
        if let refusal = status.forcedRefusal, refusal.until > nowMillis {
            forcedRefused = refusal.reason.rawValue
            forcedRefusedUntil = refusal.until
        }
    }

    /// The FORCED column: a standing request, or the refusal in effect (until when: `status --json`).
    var forcedSummary: String {
        if forcedSince != nil { return "standing" }
        return forcedRefused.map { "refused: \($0)" } ?? "-"
    }

    /// Whether `status` shows a ticket of an app found with SCAN (no configuration says which it keeps):
    /// only when its key or its meta exists.
    static func isTicketPresent(meta: [String: String], millisecondsLeft: Int?) -> Bool {
        !meta.isEmpty || millisecondsLeft.map { $0 != -2 } ?? false
    }
}
