import TokenCentral

/// One app in `status` and `watch`, and its object in `status --json` (snake_case keys; absent fields omitted).
struct StatusRow: Encodable, Sendable {
    var appid: String
    var grant: String?
    var generation: Int?
    /// Whole seconds left on `P:{APPID}:access_token`; nil when there is no token.
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

    init(appid: String, status: AppStatus, millisecondsLeft: Int?, configuredGrant: Grant?) {
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
    }
}
