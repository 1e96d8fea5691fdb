import Glibc

/// One connection to Redis: the handshake (AUTH, SELECT) and the request/reply cycle, over a
/// `RedisTransport` (hiredis' own socket for plain TCP and unix sockets, OpenSSL for TLS).
///
/// Every call blocks (connect, write, read), bounded by the connect and command timeouts, so a
/// `RedisConnection` is only ever used on the dedicated thread of its `BlockingWorker`, never on
/// Swift's cooperative pool. It is deliberately not `Sendable`: the worker that created it is the
/// only one that touches it, so the C handles never cross threads concurrently.
final class RedisConnection {
    private let transport: any RedisTransport
    let endpoint: RedisEndpoint
    /// How long `roundTrip` busy-waits for a reply before blocking (see `RedisClientConfiguration.replySpin`).
    private let replySpin: Duration

    /// Connects, authenticates and selects the database; throws a `RedisError` naming the endpoint.
    init(endpoint: RedisEndpoint, connectTimeout: Duration, commandTimeout: Duration, replySpin: Duration = .zero) throws(RedisError) {
        self.endpoint = endpoint
        self.replySpin = replySpin
        switch (endpoint.address, endpoint.tls) {
        case (.tcp(let host, let port), let tls?):
            transport = try TLSTransport(
                host: host, port: port, tls: tls, endpoint: endpoint.description,
                connectTimeout: connectTimeout, commandTimeout: commandTimeout)
        default:
            transport = try HiredisTransport(endpoint: endpoint, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
        }
        try handshake()
        try refuseClusterMode()
    }

    private func handshake() throws(RedisError) {
        if let password = endpoint.password {
            var auth = ["AUTH"]
            if let username = endpoint.username { auth.append(username) }
            auth.append(password)
            let reply = try roundTrip([RedisCommand(arguments: auth.map { Array($0.utf8) })])[0]
            if case .error(let message) = reply {
                // The server's text names the cause (WRONGPASS, NOAUTH); it never echoes the password.
                throw RedisError(
                    .authenticationFailed,
                    "authentication as '\(endpoint.username ?? "default")' refused: \(message)",
                    endpoint: endpoint.description
                )
            }
        }
        if endpoint.database != 0 {
            let reply = try roundTrip([RedisCommand("SELECT", endpoint.database)])[0]
            if case .error(let message) = reply {
                throw RedisError(.server, "SELECT \(endpoint.database) failed: \(message)", endpoint: endpoint.description)
            }
        }
    }

    /// When the last reply was read: a connection busy a moment ago is not checked again.
    private var lastReplyAt = ContinuousClock.now

    /// How long a connection may sit idle before `isReusable` looks at its socket.
    private static let idleBeforeCheck = Duration.milliseconds(100)

    /// False when the socket went readable while the connection sat idle: the server closed it
    /// (restart, timeout, `CLIENT KILL`) or sent something unsolicited. The check costs one `poll` and
    /// saves a failed command; connections used back to back skip it, as it would be one more system
    /// call on every command of a hot loop, next to the write and the read.
    var isReusable: Bool {
        guard transport.isHealthy else { return false }
        return ContinuousClock.now - lastReplyAt < Self.idleBeforeCheck || transport.isQuietWhileIdle()
    }

    /// Sends all commands in one write and reads one reply for each, in order.
    /// Error replies are returned as `.error` values; only connection failures throw.
    func roundTrip(_ commands: [RedisCommand]) throws(RedisError) -> [RedisReply] {
        append(commands)
        try flush()
        spinUntilReadable()
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try readReply()) }
        return replies
    }

    /// Queues commands, encoded as RESP in one piece; they are written by the next `readReply` or `flush`.
    func append(_ commands: [RedisCommand]) {
        var encoded: [UInt8] = []
        for command in commands { command.encode(into: &encoded) }
        transport.append(encoded)
    }

    /// Writes pending output and blocks until one complete reply has been read.
    func readReply() throws(RedisError) -> RedisReply {
        let reply = try transport.readReply()
        lastReplyAt = .now
        return reply
    }

    /// Pub/sub: returns a reply already buffered, if any, without touching the socket.
    func bufferedReply() throws(RedisError) -> RedisReply? {
        try transport.bufferedReply()
    }

    /// Pub/sub: waits up to `timeoutMilliseconds` for data and reads what arrived into the reply buffer.
    /// Returns false when nothing arrived in time.
    func receive(timeoutMilliseconds: Int32) throws(RedisError) -> Bool {
        try transport.receive(timeoutMilliseconds: timeoutMilliseconds)
    }

    /// Busy-waits up to `replySpin` for the reply to arrive, yielding the core to any other runnable
    /// thread meanwhile, so the blocking read that follows finds it instead of putting the thread to
    /// sleep. On loopback a reply comes within about 25 µs, and a sleep and wake-up in the read costs
    /// twice that on our VMs; the spin is bounded, so a slow reply still ends in the blocking read.
    private func spinUntilReadable() {
        guard replySpin > .zero else { return }
        let deadline = ContinuousClock.now + replySpin
        while !transport.hasInput, ContinuousClock.now < deadline { sched_yield() }
    }

    /// Writes everything queued by `append` without waiting for replies.
    func flush() throws(RedisError) {
        try transport.flush()
    }
}
