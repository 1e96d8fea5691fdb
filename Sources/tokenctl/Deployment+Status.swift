import RedisClient
import TokenCentral

extension Deployment {
    /// The status of `appids` from their meta hashes and token TTLs, in one round trip.
    func statusRows(_ appids: [String]) async throws(RedisError) -> [StatusRow] {
        let replies = try await pipeline(appids.flatMap { appid in
            [RedisCommand("HGETALL", keys.meta(appid)), RedisCommand("PTTL", keys.accessToken(appid))]
        })
        let grants = Dictionary(uniqueKeysWithValues: (configuredApps ?? []).map { ($0.appid, $0.grant) })
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
