import RedisClient
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

extension Deployment {
    /// The status of `appids` from their meta hashes and token TTLs, in one round trip.
    func statusRows(_ appids: [String]) async throws(RedisError) -> [StatusRow] {
        let replies = try await pipeline(appids.flatMap { appid in
            [RedisCommand("HGETALL", keys.meta(appid)), RedisCommand("PTTL", keys.accessToken(appid))]
        })
        let grants = Dictionary((configuredApps ?? []).map { ($0.appid, $0.grant) }, uniquingKeysWith: { first, _ in first })
        return appids.enumerated().map { index, appid in
            StatusRow(
                appid: appid,
                status: AppStatus(fields: replies[2 * index].hashFields ?? [:]),
                millisecondsLeft: replies[2 * index + 1].integer,
                configuredGrant: grants[appid]
            )
        }
    }
}
