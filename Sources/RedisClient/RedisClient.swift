import Synchronization

/// An `async` Redis client over hiredis: a small pool of connections, each confined to its own thread.
///
/// Safe to share between any number of tasks. Commands wait for a free connection; a connection that
/// broke is replaced on next use, with exponential backoff between failed connection attempts so a
/// Redis that is down is not hammered (commands fail fast with `.connectionFailed` during the backoff).
/// Through Sentinel (`init(sentinel:)`) connections go to the primary the sentinels name, and follow it.
public final class RedisClient: Sendable {
    /// The server commands go to: through Sentinel, the primary last named.
    public var endpoint: RedisEndpoint { target.endpoint }
    public let configuration: RedisClientConfiguration
    let target: RedisTarget
    private let workers: [BlockingWorker<RedisConnection?>]
    private let pool: Mutex<ConnectionPoolState>
    private let reconnect: Mutex<ReconnectState>
    let scriptHashes = Mutex<[String: String]>([:])

    public convenience init(endpoint: RedisEndpoint, configuration: RedisClientConfiguration = .init()) {
        self.init(target: .fixed(endpoint), configuration: configuration)
    }

    /// A client of the primary that the sentinels name for `sentinel.masterName`; it asks them again
    /// when that primary fails, and listens for their `+switch-master` announcements.
    public convenience init(sentinel: RedisSentinelConfiguration, configuration: RedisClientConfiguration = .init()) {
        self.init(target: .sentinel(RedisSentinelResolver(configuration: sentinel, client: configuration)), configuration: configuration)
    }

    init(target: RedisTarget, configuration: RedisClientConfiguration) {
        self.target = target
        self.configuration = configuration
        self.workers = (0..<configuration.poolSize).map { index in
            BlockingWorker(name: "redis-\(index)", confined: nil)
        }
        self.pool = Mutex(ConnectionPoolState(size: configuration.poolSize))
        self.reconnect = Mutex(ReconnectState())
        if case .sentinel(let resolver) = target { resolver.startWatching() }
    }

    public convenience init(url: String, configuration: RedisClientConfiguration = .init()) throws(RedisError) {
        self.init(endpoint: try RedisEndpoint(url: url), configuration: configuration)
    }

    deinit {
        if case .sentinel(let resolver) = target { resolver.stopWatching() }
        for worker in workers { worker.shutdown { connection in connection = nil } }
    }

    /// Sends one command; an error reply is thrown as a `RedisError` with code `.server`.
    @discardableResult
    public func send(_ command: RedisCommand) async throws(RedisError) -> RedisReply {
        let reply = try await withConnection { [target] connection throws(RedisError) in
            try target.checked(connection.roundTrip([command]), from: connection)[0]
        }
        if case .error(let message) = reply {
            throw RedisError(reply: message, endpoint: endpoint.description)
        }
        return reply
    }

    /// Sends one command built from its name and arguments.
    @discardableResult
    public func send(_ name: String, _ arguments: any RedisArgument...) async throws(RedisError) -> RedisReply {
        try await send(RedisCommand(name, arguments))
    }

    /// Sends all commands in one write and reads all replies: one round trip instead of `commands.count`.
    /// Error replies stay in the result as `.error` values, in command order.
    public func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        if commands.isEmpty { return [] }
        return try await withConnection { [target] connection throws(RedisError) in
            try target.checked(connection.roundTrip(commands), from: connection)
        }
    }

    /// Like `pipeline`, plus the local instants just before the commands were written and just after the
    /// last reply was read, taken on the connection's thread: time spent waiting for a free connection is
    /// excluded, so a `TIME` in the pipeline is bracketed as tightly as the round trip allows.
    public func timedPipeline(_ commands: [RedisCommand]) async throws(RedisError)
        -> (replies: [RedisReply], sentAt: ContinuousClock.Instant, receivedAt: ContinuousClock.Instant)
    {
        try await withConnection { [target] connection throws(RedisError) in
            let sentAt = ContinuousClock.now
            let replies = try target.checked(connection.roundTrip(commands), from: connection)
            return (replies, sentAt, ContinuousClock.now)
        }
    }

    /// Runs `body` with exclusive use of one healthy connection, on that connection's thread. A `READONLY`
    /// from a demoted primary runs `body` once more, on a connection to the primary named now.
    func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (RedisConnection) throws(RedisError) -> Result
    ) async throws(RedisError) -> Result {
        let index = await acquire()
        defer { release(index) }
        do {
            return try await execute(on: index, body)
        } catch where error.isReadOnlyRedirect {
            return try await execute(on: index, body)
        }
    }

    /// Runs `body` on connection `index`'s thread, (re)connecting first if needed. The caller owns `index`.
    func execute<Result: Sendable>(
        on index: Int, _ body: @escaping @Sendable (RedisConnection) throws(RedisError) -> Result
    ) async throws(RedisError) -> Result {
        try await workers[index].run { [self] connection throws(RedisError) in
            if let existing = connection {
                if !existing.isReusable {
                    // Closed by the server: through Sentinel maybe a demotion (Sentinel disconnects the clients
                    // of a primary it turns into a replica), so the next connection asks again.
                    target.lost(existing)
                    connection = nil
                } else if !target.isCurrent(existing) {
                    connection = nil
                }
            }
            let live: RedisConnection
            if let existing = connection {
                live = existing
            } else {
                live = try connect()
                connection = live
            }
            do throws(RedisError) {
                return try body(live)
            } catch {
                if error.isConnectionError {
                    target.lost(live)
                    connection = nil
                }
                throw error
            }
        }
    }

    /// Runs `body` with one connection reserved for it, and the task itself running on that connection's
    /// thread: each command then costs no thread hand-off at all, only the Redis round trip. For hot
    /// loops with one request in flight (what `redis-benchmark -c 1` measures). The blocking calls still
    /// happen on the connection's dedicated thread, never on the cooperative pool.
    public func withPinnedConnection<Result: Sendable>(
        _ body: (RedisPinnedConnection) async throws -> Result
    ) async throws -> Result {
        let index = await acquire()
        defer { release(index) }
        return try await withTaskExecutorPreference(workers[index]) {
            try await body(RedisPinnedConnection(client: self, index: index))
        }
    }

    /// Opens a connection unless a recent failure says to wait; runs on a worker thread.
    func connect() throws(RedisError) -> RedisConnection {
        let now = ContinuousClock.now
        let epoch = target.epoch
        // A new primary is tried at once: the backoff was for the old one.
        if let retryAt = reconnect.withLock({ $0.epoch == epoch ? $0.retryAt : nil }), now < retryAt {
            throw RedisError(
                .connectionFailed,
                "unreachable; next connection attempt in \(retryAt - now)",
                endpoint: endpoint.description
            )
        }
        do {
            let connection = try target.connect(configuration, replySpin: configuration.replySpin)
            reconnect.withLock { $0 = ReconnectState() }
            return connection
        } catch {
            if error.code != .authenticationFailed {
                let backoff = configuration.reconnectBackoff
                reconnect.withLock { state in
                    state.retryAt = .now + backoff.delay(attempt: state.failures)
                    state.failures += 1
                    state.epoch = epoch
                }
            }
            throw error
        }
    }

    func acquire() async -> Int {
        if let index = pool.withLock({ $0.idle.popLast() }) { return index }
        return await withUnsafeContinuation { continuation in
            let index = pool.withLock { state -> Int? in
                if let index = state.idle.popLast() { return index }
                state.waiters.append(continuation)
                return nil
            }
            if let index { continuation.resume(returning: index) }
        }
    }

    func release(_ index: Int) {
        let waiter = pool.withLock { state -> UnsafeContinuation<Int, Never>? in
            if state.waiters.isEmpty {
                state.idle.append(index)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: index)
    }
}

/// Which connections are free and who waits for one.
struct ConnectionPoolState: ~Copyable {
    var idle: [Int]
    var waiters: [UnsafeContinuation<Int, Never>] = []

    init(size: Int) {
        idle = Array((0..<size).reversed())
    }
}

/// Consecutive connection failures and when the next attempt is allowed.
struct ReconnectState {
    var failures = 0
    var retryAt: ContinuousClock.Instant?
    /// `RedisTarget.epoch` at the last failure.
    var epoch = 0
}
