/// Names of the keys and channels of the Redis contract (docs/redis-contract.md).
///
/// `{APPID}` is written with literal braces: a Redis Cluster hash tag, so all keys of one app live in
/// one slot and the Lua scripts that touch several of them stay legal on a cluster.
public struct TokenKeys: Sendable, Hashable {
    public let prefix: String

    public init(prefix: String) {
        self.prefix = prefix
    }

    /// The raw token string with a PX TTL equal to its remaining validity: what business servers `GET`.
    public func accessToken(_ appid: String) -> String { "\(prefix):{\(appid)}:access_token" }
    /// Hash: token, expires_at, fetched_at, generation, worker, grant, plus fencing and error fields.
    public func meta(_ appid: String) -> String { "\(prefix):{\(appid)}:meta" }
    /// The refresh lease: `SET NX PX`, value `WORKERID:NONCE`.
    public func lock(_ appid: String) -> String { "\(prefix):{\(appid)}:lock" }
    /// Forced refreshes without `bad_token` honoured recently (cooldown marker).
    public func forcedCooldown(_ appid: String) -> String { "\(prefix):{\(appid)}:forced" }
    /// Count of `force_refresh:true` calls today (stable_token apps).
    public func stableForceCount(_ appid: String, day: String) -> String { "\(prefix):{\(appid)}:stable_force:\(day)" }

    /// Hash `tat` (when the next slot of `upstream.rate_limit` is due, Redis Unix ms), `second`, `calls`:
    /// shared by all workers. No app in the name: one set of slots for the whole deployment.
    public var upstreamRate: String { "\(prefix):upstream_rate" }

    /// Published after each new token: `{"appid":...,"generation":...,"expires_at":...}`; never the token.
    public var refreshedChannel: String { "\(prefix):refreshed" }
    /// Forced refresh requests: `{"appid":"...","bad_token":"..."}` or a bare appid.
    public var refreshChannel: String { "\(prefix):refresh" }
}
