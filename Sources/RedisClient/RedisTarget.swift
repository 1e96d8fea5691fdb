/// Where a client's connections go: one fixed server, or whichever node the sentinels name primary.
enum RedisTarget: Sendable {
    case fixed(RedisEndpoint)
    case sentinel(RedisSentinelResolver)

    /// The server commands go to now (for a sentinel target: the primary last named).
    var endpoint: RedisEndpoint {
        switch self {
        case .fixed(let endpoint): endpoint
        case .sentinel(let resolver): resolver.endpoint
        }
    }

    /// Changes when the primary moves; a fixed target never changes.
    var epoch: Int {
        switch self {
        case .fixed: 0
        case .sentinel(let resolver): resolver.epoch
        }
    }

    /// Opens a connection; blocking, on the caller's (dedicated) thread.
    func connect(_ configuration: RedisClientConfiguration, replySpin: Duration) throws(RedisError) -> RedisConnection {
        switch self {
        case .fixed(let endpoint):
            try RedisConnection(
                endpoint: endpoint, connectTimeout: configuration.connectTimeout,
                commandTimeout: configuration.commandTimeout, replySpin: replySpin)
        case .sentinel(let resolver):
            try resolver.connectToPrimary(replySpin: replySpin)
        }
    }

    /// False when the primary moved away from the node `connection` talks to.
    func isCurrent(_ connection: RedisConnection) -> Bool {
        switch self {
        case .fixed: true
        case .sentinel(let resolver): resolver.isCurrent(connection.endpoint.address)
        }
    }

    /// `connection` broke (or met a replica): a sentinel target asks the sentinels again.
    func lost(_ connection: RedisConnection) {
        if case .sentinel(let resolver) = self { resolver.primaryLost(connection.endpoint.address) }
    }

    /// Replies from `connection`, unless one is `READONLY`: the node was demoted under us, so through
    /// Sentinel it is a lost primary (`RedisError.isReadOnlyRedirect`, retried once by the client).
    /// A fixed target returns the reply as is: there is nowhere else to go.
    func checked(_ replies: [RedisReply], from connection: RedisConnection) throws(RedisError) -> [RedisReply] {
        guard case .sentinel(let resolver) = self else { return replies }
        for case .error(let message) in replies where RedisError.isReadOnly(message) {
            resolver.primaryLost(connection.endpoint.address)
            throw RedisError(.connectionLost, message, endpoint: connection.endpoint.description)
        }
        return replies
    }

    func subscriptionRoute(_ configuration: RedisClientConfiguration) -> SubscriptionRoute {
        SubscriptionRoute(
            connect: { () throws(RedisError) -> RedisConnection in try connect(configuration, replySpin: .zero) },
            isCurrent: { connection in isCurrent(connection) },
            lost: { connection in lost(connection) },
            epoch: { epoch }
        )
    }
}

extension RedisError {
    /// A `READONLY` reply: the node is a replica. A script that writes gets it too (Redis 7 keeps the
    /// error code of a failed `redis.call`).
    static func isReadOnly(_ message: String) -> Bool {
        message.hasPrefix("READONLY ")
    }

    /// A command refused by a demoted primary: safe to send again (a replica refuses every write), once
    /// the connection has moved to the new primary.
    var isReadOnlyRedirect: Bool {
        code == .connectionLost && Self.isReadOnly(message)
    }
}
