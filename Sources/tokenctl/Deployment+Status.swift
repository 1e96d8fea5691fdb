import Foundation
import RedisClient
import TokenCentral

extension Deployment {
    /// The status of `appids` from their meta hashes and token TTLs, in one round trip.
    func statusRows(_ appids: [String]) async throws(RedisError) -> [StatusRow] {
        let replies = try await pipeline(appids.flatMap { appid in
            [RedisCommand("HGETALL", keys.meta(appid)), RedisCommand("PTTL", keys.accessToken(appid))]
        })
        // Whether a forced-refresh refusal is still in effect, on this machine's clock: meta's times are
        // Redis time, but a display may be off by the skew, and reading TIME would need one more permission.
        let nowMillis = Int64(Date().timeIntervalSince1970 * 1000)
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
