import RedisClient
import Synchronization
import TokenCentralContract

/// Hands WeChat access_tokens that `tokend` keeps in Redis to a business server written in Swift.
///
/// Tokens are served from an in-process cache, so a busy server reads Redis about once per token
/// lifetime instead of once per WeChat call. The cache is in use only while `run()` listens on
/// `P:refreshed`: that is how it learns a token was replaced before its expiry (forced refresh,
/// `reportInvalid`). Without `run()` every call reads Redis.
///
/// ```swift
/// let tokens = TokenCentralClient(redis: try RedisClient(url: "redis://127.0.0.1:6379/0"))
/// // tokens is a Service: list it in the server's ServiceGroup.
/// let token = try await tokens.accessToken(for: "wx1234567890")
/// // WeChat answered 40001 or 42001:
/// try await tokens.reportInvalid(appid: "wx1234567890", token: token)
/// ```
///
/// Behind Redis Sentinel, give it `RedisClient(sentinel: RedisSentinelConfiguration(masterName:sentinels:))`:
/// reads, reports and the `P:refreshed` subscription then follow the primary through failovers.
public final class TokenCentralClient: Sendable {
    public let redis: RedisClient
    /// The contract's names under tokend's `redis.key_prefix`.
    public let keys: TokenKeys
    let cache = Mutex(TokenCache<String>())

    public init(redis: RedisClient, keyPrefix: String = "wechat") {
        self.redis = redis
        self.keys = TokenKeys(prefix: keyPrefix)
    }

    /// The current token of `appid`, from the cache while it is valid, otherwise from Redis
    /// (one pipelined `GET` + `PTTL`).
    public func accessToken(for appid: String) async throws(TokenCentralClientError) -> String {
        try await read(keys.accessToken(appid), cachedAs: appid, of: appid, missing: .noToken)
    }

    /// Reads `key` through the cache, where its value is kept under `name` (the appid for the token, the
    /// key for a ticket); `missing` is the error when Redis holds nothing under it.
    func read(
        _ key: String, cachedAs name: String, of appid: String, missing: TokenCentralClientError.Code
    ) async throws(TokenCentralClientError) -> String {
        let ticket: TokenCache<String>.Ticket
        switch cache.withLock({ $0.lookup(name, now: .now) }) {
        case .hit(let token, _): return token
        case .miss(let missTicket): ticket = missTicket
        }
        let replies: [RedisReply]
        do {
            replies = try await redis.pipeline([RedisCommand("GET", key), RedisCommand("PTTL", key)])
        } catch {
            throw TokenCentralClientError(.redis, appid: appid, key: key, underlying: error)
        }
        switch replies[0] {
        case .bulk(let bytes) where !bytes.isEmpty:
            let token = String(decoding: bytes, as: UTF8.self)
            if let ttl = replies[1].integer {
                cache.withLock { $0.store(name, token, millisecondsLeft: ttl, ticket: ticket) }
            }
            return token
        case .error(let message):
            let error = RedisError(reply: message, endpoint: redis.endpoint.description)
            throw TokenCentralClientError(.redis, appid: appid, key: key, underlying: error)
        default:
            throw TokenCentralClientError(missing, appid: appid, key: key)
        }
    }

    /// Drops every cached value of `appid`: its token (cached under the appid) and its tickets (under
    /// their keys).
    func invalidate(_ appid: String) {
        cache.withLock { cache in
            cache.invalidate(appid)
            for type in TicketType.allCases { cache.invalidate(keys.ticket(appid, type)) }
        }
    }

    /// Tells the tokend workers that WeChat rejected `token` (errcode 40001 or 42001), so one of them
    /// fetches a new one. Any number of reports of the same token cause one upstream call.
    ///
    /// Publishes `{"appid":...,"bad_token":...}` on `P:refresh` and drops the cached token, so the next
    /// `accessToken(for:)` reads Redis; wait for the new one before retrying the WeChat call.
    public func reportInvalid(appid: String, token: String) async throws(TokenCentralClientError) {
        invalidate(appid)
        do {
            try await redis.publish(keys.refreshChannel, RefreshMessage(appid: appid, badToken: token).payload)
        } catch {
            throw TokenCentralClientError(.redis, appid: appid, key: keys.refreshChannel, underlying: error)
        }
    }
}
