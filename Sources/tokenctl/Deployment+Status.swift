import RedisClient
import TokenCentral

extension Deployment {
    /// The status of `appids` from their meta hashes and token TTLs, with the Redis clock, in one round trip.
    func statusRows(_ appids: [String]) async throws(RedisError) -> [StatusRow] {
        let replies = try await pipeline(appids.flatMap { appid in
            [RedisCommand("HGETALL", keys.meta(appid)), RedisCommand("PTTL", keys.accessToken(appid))]
        } + [RedisCommand("TIME")])
        // The Redis clock, which meta's times are on: whether a forced-refresh refusal is still in effect.
        let time = replies.last?.array?.compactMap(\.integer) ?? []
        let nowMillis = time.count == 2 ? Int64(time[0]) * 1000 + Int64(time[1]) / 1000 : 0
        let grants = Dictionary(uniqueKeysWithValues: (configuredApps ?? []).map { ($0.appid, $0.grant) })
        return appids.enumerated().map { index, appid in
            StatusRow(
                appid: appid,
                status: AppStatus(fields: replies[2 * index].hashFields ?? [:]),
                millisecondsLeft: replies[2 * index + 1].integer,
                configuredGrant: grants[appid],
                nowMillis: nowMillis
            )
        }
    }
}
