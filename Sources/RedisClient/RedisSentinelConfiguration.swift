/// How to find a Sentinel-managed primary: the master's name as the sentinels know it, the sentinels to
/// ask, and how to talk to the data nodes once one is named.
///
/// The data nodes share one password and database (Sentinel fails over between copies of the same
/// data), so `dataNode` carries them; its address only names the master until the sentinels have
/// answered, and every connection goes to the address they give.
public struct RedisSentinelConfiguration: Sendable, Hashable {
    /// `sentinel monitor NAME ...` in the sentinels' configuration.
    public var masterName: String
    /// Asked in turn (starting with the last one that answered); each may carry sentinel credentials.
    public var sentinels: [RedisEndpoint]
    /// Credentials and database for the primary (and anything else a data-node connection needs).
    public var dataNode: RedisEndpoint

    public init(masterName: String, sentinels: [RedisEndpoint], dataNode: RedisEndpoint? = nil) {
        precondition(!sentinels.isEmpty, "list at least one sentinel")
        self.masterName = masterName
        self.sentinels = sentinels
        self.dataNode = dataNode ?? RedisEndpoint(address: .tcp(host: masterName, port: 6379))
    }

    /// The default port of `redis-sentinel`.
    public static let defaultPort = 26379

    /// Parses a sentinel given as `host[:port]` (port 26379 by default) or as a `redis://` URL, which may
    /// carry the sentinel's credentials (`redis://[[user]:password@]host:port`).
    public static func sentinel(_ text: String) throws(RedisError) -> RedisEndpoint {
        if text.contains("://") { return try RedisEndpoint(url: text) }
        let hasPort = text.hasPrefix("[") ? text.contains("]:") : text.contains(":")
        return try RedisEndpoint(url: "redis://\(text)" + (hasPort ? "" : ":\(defaultPort)"))
    }
}
