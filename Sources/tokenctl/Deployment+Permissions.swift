import RedisClient
import TokenCentral

extension Deployment {
    /// Checks that the Redis user may send what a subcommand will send (see `RedisPermissionCheck`), so a
    /// missing permission is named up front instead of surfacing as a `NOPERM` mid-way or, for a refused
    /// `SUBSCRIBE`, as a wait that only times out. A user that may run neither `ACL DRYRUN` nor `MULTI`
    /// is not checked.
    func checkPermissions(_ probes: [RedisPermissionCheck.Probe]) async throws {
        let report = try await RedisPermissionCheck(probes: probes).run(on: redis)
        if !report.denials.isEmpty {
            throw TokenctlError("\(RedisPermissionError(program: "tokenctl", endpoint: redis.endpoint, denials: report.denials))")
        }
    }

    /// `status`: the meta hashes and TTLs of tokens and tickets, found with `SCAN` unless the apps are configured.
    var statusProbes: [RedisPermissionCheck.Probe] {
        let scan: [[String]] = configuredApps == nil ? [["SCAN", "0", "MATCH", "\(keys.prefix):*", "COUNT", "1"]] : []
        let tickets = TicketType.allCases.flatMap { type in
            [["HGETALL", keys.meta(sampleAppID, type)], ["PTTL", keys.ticket(sampleAppID, type)]]
        }
        return (scan + [["HGETALL", keys.meta(sampleAppID)], ["PTTL", keys.accessToken(sampleAppID)]] + tickets)
            .map { RedisPermissionCheck.Probe($0) }
    }

    /// `get`: the token (or ticket) under `key`, its TTL and the generation in `meta`.
    func getProbes(key: String, meta: String) -> [RedisPermissionCheck.Probe] {
        [["GET", key], ["PTTL", key], ["HGET", meta, "generation"]].map { RedisPermissionCheck.Probe($0) }
    }

    /// `refresh`: listen on `P:refreshed`, read the generation, publish the request on `P:refresh`.
    func refreshProbes(_ appid: String) -> [RedisPermissionCheck.Probe] {
        (announcementProbes + [["HGET", keys.meta(appid), "generation"], ["PUBLISH", keys.refreshChannel, "x"]])
            .map { RedisPermissionCheck.Probe($0) }
    }

    /// `watch`: `status`, plus the announcements and the worker that fetched each new token.
    var watchProbes: [RedisPermissionCheck.Probe] {
        statusProbes + (announcementProbes + [["HGET", keys.meta(sampleAppID), "worker"]])
            .map { RedisPermissionCheck.Probe($0) }
    }

    /// An app whose keys stand for all in the probes: the first configured, else a placeholder name.
    private var sampleAppID: String { configuredApps?.first?.appid ?? "APPID" }

    private var announcementProbes: [[String]] {
        [["SUBSCRIBE", keys.refreshedChannel], ["UNSUBSCRIBE", keys.refreshedChannel]]
    }
}
