import CHiredis
import Glibc

/// Plain TCP or a unix socket through hiredis' own `redisContext`: the only type that owns one.
final class HiredisTransport: RedisTransport {
    private let context: UnsafeMutablePointer<redisContext>
    private let endpoint: RedisEndpoint

    /// Connects within `connectTimeout`; later reads and writes are bounded by `commandTimeout`.
    init(endpoint: RedisEndpoint, connectTimeout: Duration, commandTimeout: Duration) throws(RedisError) {
        self.endpoint = endpoint
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
    }

    deinit {
        redisFree(context)
    }

    /// Queues the commands in hiredis' output buffer in one piece (cheaper than one
    /// `redisAppendCommandArgv` per command).
    func append(_ encoded: [UInt8]) {
        encoded.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { characters in
                _ = redisAppendFormattedCommand(context, characters.baseAddress, characters.count)
            }
        }
    }

    func readReply() throws(RedisError) -> RedisReply {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw currentError() }
        defer { freeReplyObject(raw) }
        return RedisReply(hiredis: raw.assumingMemoryBound(to: redisReply.self))
    }

    func bufferedReply() throws(RedisError) -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReplyFromReader(context, &raw) == REDIS_OK else { throw currentError() }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return RedisReply(hiredis: raw.assumingMemoryBound(to: redisReply.self))
    }

    func receive(timeoutMilliseconds: Int32) throws(RedisError) -> Bool {
        let ready = chiredis_wait_readable(context, timeoutMilliseconds)
        if ready == 0 || (ready < 0 && errno == EINTR) { return false }
        guard redisBufferRead(context) == REDIS_OK else { throw currentError() }
        return true
    }

    var hasInput: Bool { chiredis_wait_readable(context, 0) != 0 }

    var isHealthy: Bool { context.pointee.err == 0 }

    func isQuietWhileIdle() -> Bool { chiredis_wait_readable(context, 0) == 0 }

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

    private static func timeval(_ duration: Duration) -> Glibc.timeval {
        let (seconds, attoseconds) = duration.components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
