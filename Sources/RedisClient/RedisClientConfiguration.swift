/// Tuning for a `RedisClient`. The defaults suit a token server talking to a Redis on the same network.
public struct RedisClientConfiguration: Sendable {
    /// Connections in the pool, each with its own thread. Commands beyond this many in flight wait.
    public var poolSize: Int
    /// Bound on establishing a connection (TCP connect and, for `rediss://`, the TLS handshake; not AUTH).
    public var connectTimeout: Duration
    /// Bound on any one reply; a command that exceeds it fails with `.timeout` and its connection is dropped.
    public var commandTimeout: Duration
    /// Delays between reconnect attempts after a failure: exponential from `initial` up to `maximum`.
    public var reconnectBackoff: Backoff
    /// How long a connection busy-waits for each reply before a blocking read puts its thread to sleep.
    /// A nearby Redis answers within tens of microseconds, less than a sleep and wake-up costs, so the
    /// spin roughly halves the latency of a command on loopback (and costs at most this much CPU per
    /// command when Redis is far away). `.zero` always sleeps.
    public var replySpin: Duration

    public init(
        poolSize: Int = 8,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(2),
        reconnectBackoff: Backoff = Backoff(initial: .milliseconds(50), maximum: .seconds(2)),
        replySpin: Duration = .microseconds(30)
    ) {
        precondition(poolSize > 0, "a Redis pool needs at least one connection")
        self.poolSize = poolSize
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.reconnectBackoff = reconnectBackoff
        self.replySpin = replySpin
    }
}
