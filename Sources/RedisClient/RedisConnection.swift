import CHiredis
import Glibc

/// Owns one hiredis `redisContext`: the only type in the project that calls hiredis.
///
/// Every call blocks (connect, write, read), bounded by the connect and command timeouts, so a
/// `RedisConnection` is only ever used on the dedicated thread of its `BlockingWorker`, never on
/// Swift's cooperative pool. It is deliberately not `Sendable`: the worker that created it is the
/// only one that touches it, so the C handle never crosses threads concurrently.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    let endpoint: RedisEndpoint
    /// How long `roundTrip` busy-waits for a reply before blocking (see `RedisClientConfiguration.replySpin`).
    private let replySpin: Duration

    /// Connects, authenticates and selects the database; throws a `RedisError` naming the endpoint.
    init(endpoint: RedisEndpoint, connectTimeout: Duration, commandTimeout: Duration, replySpin: Duration = .zero) throws(RedisError) {
        self.endpoint = endpoint
        self.replySpin = replySpin
        let connectTimeval = Self.timeval(connectTimeout)
        let maybeContext: UnsafeMutablePointer<redisContext>? =
            switch endpoint.address {
            case .tcp(let host, let port): redisConnectWithTimeout(host, Int32(port), connectTimeval)
            case .unix(let path): redisConnectUnixWithTimeout(path, connectTimeval)
            }
        guard let context = maybeContext else {
            throw RedisError(.connectionFailed, "cannot allocate a connection", endpoint: endpoint.description)
        }
        // From here on `deinit` frees the context, also when this initializer throws.
        self.context = context
        if context.pointee.err != 0 {
            let reason = String(cString: chiredis_errstr(context))
            throw RedisError(.connectionFailed, "cannot connect: \(reason)", endpoint: endpoint.description)
        }
        _ = redisSetTimeout(context, Self.timeval(commandTimeout))
        if case .tcp = endpoint.address { _ = redisEnableKeepAlive(context) }
        try handshake()
    }

    deinit {
        redisFree(context)
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
        guard context.pointee.err == 0 else { return false }
        return ContinuousClock.now - lastReplyAt < Self.idleBeforeCheck || chiredis_wait_readable(context, 0) == 0
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

    /// Queues commands in hiredis' output buffer, encoded as RESP in one piece (cheaper than one
    /// `redisAppendCommandArgv` per command); they are written by the next `readReply` or `flush`.
    func append(_ commands: [RedisCommand]) {
        var encoded: [UInt8] = []
        for command in commands { command.encode(into: &encoded) }
        encoded.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { characters in
                _ = redisAppendFormattedCommand(context, characters.baseAddress, characters.count)
            }
        }
    }

    /// Writes pending output and blocks until one complete reply has been read.
    func readReply() throws(RedisError) -> RedisReply {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw currentError() }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        lastReplyAt = .now
        return Self.convert(reply)
    }

    /// Pub/sub: returns a reply already buffered, if any, without touching the socket.
    func bufferedReply() throws(RedisError) -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReplyFromReader(context, &raw) == REDIS_OK else { throw currentError() }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Pub/sub: waits up to `timeoutMilliseconds` for data and reads what arrived into hiredis' buffer.
    /// Returns false when nothing arrived in time.
    func receive(timeoutMilliseconds: Int32) throws(RedisError) -> Bool {
        let ready = chiredis_wait_readable(context, timeoutMilliseconds)
        if ready == 0 || (ready < 0 && errno == EINTR) { return false }
        guard redisBufferRead(context) == REDIS_OK else { throw currentError() }
        return true
    }

    /// Busy-waits up to `replySpin` for the reply to arrive, yielding the core to any other runnable
    /// thread meanwhile, so the blocking read that follows finds it instead of putting the thread to
    /// sleep. On loopback a reply comes within about 25 µs, and a sleep and wake-up in the read costs
    /// twice that on our VMs; the spin is bounded, so a slow reply still ends in the blocking read.
    private func spinUntilReadable() {
        guard replySpin > .zero else { return }
        let deadline = ContinuousClock.now + replySpin
        while chiredis_wait_readable(context, 0) == 0, ContinuousClock.now < deadline { sched_yield() }
    }

    /// Writes everything queued by `append` without waiting for replies.
    func flush() throws(RedisError) {
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(context, &done) == REDIS_OK else { throw currentError() }
        }
    }

    private func currentError() -> RedisError {
        let reason = String(cString: chiredis_errstr(context))
        let code: RedisError.Code =
            switch context.pointee.err {
            case REDIS_ERR_IO where errno == EAGAIN || errno == EWOULDBLOCK: .timeout
            case REDIS_ERR_PROTOCOL: .unexpectedReply
            default: .connectionLost
            }
        let message = code == .timeout ? "no reply within the command timeout" : "connection lost: \(reason)"
        return RedisError(code, message, endpoint: endpoint.description)
    }

    private static func convert(_ reply: UnsafePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            return .bulk(Array(UnsafeRawBufferPointer(start: value.str, count: value.len)))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: UnsafeRawBufferPointer(start: value.str, count: value.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: UnsafeRawBufferPointer(start: value.str, count: value.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(value.integer))
        case REDIS_REPLY_ARRAY:
            return .array((0..<value.elements).map { convert(chiredis_reply_element(reply, $0)) })
        default:
            return .null
        }
    }

    private static func timeval(_ duration: Duration) -> Glibc.timeval {
        let (seconds, attoseconds) = duration.components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
