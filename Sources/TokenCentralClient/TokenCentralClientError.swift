import RedisClient

/// Why `TokenCentralClient` could not hand out or report a token. Never carries the token itself.
public struct TokenCentralClientError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// Redis holds no token for the app: it is not configured in tokend, no worker runs, or its
        /// first fetch failed (`tokenctl status` shows the last upstream error).
        case noToken
        /// Redis holds no ticket of that type for the app: the app is not configured with it in tokend
        /// (`tickets:`), no worker runs, or its first fetch failed (`tokenctl status` shows the last error).
        case noTicket
        /// Talking to Redis failed; `underlying` says how.
        case redis
    }

    public var code: Code
    public var appid: String
    /// The key read (`wechat:{wx123}:access_token`, `wechat:{wx123}:jsapi_ticket`) or, for a report, the
    /// channel published to.
    public var key: String
    public var underlying: RedisError?

    public init(_ code: Code, appid: String, key: String, underlying: RedisError? = nil) {
        self.code = code
        self.appid = appid
        self.key = key
        self.underlying = underlying
    }

    public var description: String {
        switch code {
        case .noToken:
            "no access_token for \(appid) at \(key): is a tokend worker running with this app configured? (see `tokenctl status`)"
        case .noTicket:
            "no ticket for \(appid) at \(key): is the app configured in tokend with this ticket in its tickets: list, and a worker running? (see `tokenctl status`)"
        case .redis:
            "cannot reach the token of \(appid) at \(key): \(underlying.map(String.init(describing:)) ?? "Redis error")"
        }
    }
}
