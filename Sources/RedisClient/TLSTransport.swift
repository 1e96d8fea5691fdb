import CHiredis
import COpenSSL
import Glibc

/// RESP over TLS: an OpenSSL session on a non-blocking socket of its own, with hiredis' reply reader
/// parsing what it decrypts. Debian's hiredis 0.14 has no TLS and cannot be given another transport,
/// so only its reader is reused; commands are encoded by `RedisCommand`, as on the plain path.
///
/// The socket is non-blocking and every wait is a `poll` against a deadline, so the connect and
/// command timeouts bound the TLS handshake and each read and write just as hiredis bounds the plain
/// path. The server's certificate is verified against the CA (chain) and the server name (host or
/// `serverName`); a failure names which of the two it was and the setting to check.
final class TLSTransport: RedisTransport {
    private let socket: Int32
    private let session: OpaquePointer
    private let reader: UnsafeMutablePointer<redisReader>
    private let endpoint: String
    private let commandTimeout: Duration
    private var output: [UInt8] = []
    private var input = [UInt8](repeating: 0, count: 16 * 1024)
    private var failed = false
    /// Whether any application data arrived yet: a session that ends before its first reply was most
    /// likely refused by the server for our (missing) client certificate.
    private var answered = false

    /// Connects, then completes the TLS handshake, both within `connectTimeout`.
    init(
        host: String, port: Int, tls: RedisTLSConfiguration, endpoint: String,
        connectTimeout: Duration, commandTimeout: Duration
    ) throws(RedisError) {
        self.endpoint = endpoint
        self.commandTimeout = commandTimeout
        let deadline = ContinuousClock.now + connectTimeout
        let context = try Self.makeContext(tls, endpoint: endpoint)
        defer { SSL_CTX_free(context) }  // the session keeps its own reference
        let socket = try Self.connect(host: host, port: port, deadline: deadline, endpoint: endpoint)
        let session = SSL_new(context)
        let bio = copenssl_socket_bio(socket)
        let reader = redisReaderCreate()
        guard let session, let bio, let reader else {
            SSL_free(session)
            BIO_free(bio)
            redisReaderFree(reader)
            close(socket)
            throw RedisError(.connectionFailed, "cannot allocate a TLS session", endpoint: endpoint)
        }
        SSL_set_bio(session, bio, bio)
        copenssl_accept_moving_write_buffer(session)
        self.socket = socket
        self.session = session
        self.reader = reader
        // From here on `deinit` frees the session, the reader and the socket, also when this throws.
        try verifyServerName(tls.serverName ?? host)
        try handshake(deadline: deadline, serverName: tls.serverName ?? host)
    }

    deinit {
        SSL_free(session)
        redisReaderFree(reader)
        close(socket)
    }

    /// The trust and identity settings, shared by nothing: each connection loads its files afresh, so
    /// a rotated certificate is picked up by the next reconnect.
    private static func makeContext(_ tls: RedisTLSConfiguration, endpoint: String) throws(RedisError) -> OpaquePointer {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw RedisError(.connectionFailed, "cannot create a TLS context: \(openSSLReason())", endpoint: endpoint)
        }
        func fail(_ what: String) -> RedisError {
            SSL_CTX_free(context)
            return RedisError(.connectionFailed, "\(what): \(openSSLReason())", endpoint: endpoint)
        }
        ERR_clear_error()
        _ = copenssl_require_tls12(context)
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if let caFile = tls.caFile {
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw fail("cannot load the CA file \(caFile) (tls ca_file)")
            }
        } else if SSL_CTX_set_default_verify_paths(context) != 1 {
            throw fail("cannot load the system's CA certificates")
        }
        switch (tls.certificateFile, tls.keyFile) {
        case (let certificate?, let key?):
            guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
                throw fail("cannot load the client certificate \(certificate) (tls cert_file)")
            }
            guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1, SSL_CTX_check_private_key(context) == 1 else {
                throw fail("cannot load the client key \(key), or it does not match the certificate (tls key_file)")
            }
        case (nil, nil):
            break
        default:
            SSL_CTX_free(context)
            throw RedisError(.connectionFailed, "a TLS client certificate needs both cert_file and key_file", endpoint: endpoint)
        }
        return context
    }

    /// A non-blocking TCP socket connected to the first address of `host` that answers.
    private static func connect(host: String, port: Int, deadline: ContinuousClock.Instant, endpoint: String) throws(RedisError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var addresses: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &addresses)
        guard status == 0 else {
            throw RedisError(.connectionFailed, "cannot resolve \(host): \(String(cString: gai_strerror(status)))", endpoint: endpoint)
        }
        defer { freeaddrinfo(addresses) }
        var reason = "no address"
        var next = addresses
        while let address = next?.pointee {
            next = address.ai_next
            let socket = Glibc.socket(
                address.ai_family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), address.ai_protocol)
            guard socket >= 0 else {
                reason = String(cString: strerror(errno))
                continue
            }
            var error: Int32 = 0
            if Glibc.connect(socket, address.ai_addr, address.ai_addrlen) != 0 {
                error = errno
                if error == EINPROGRESS {
                    let ready = copenssl_wait(socket, Int16(POLLOUT), milliseconds(until: deadline))
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    error = ready > 0 ? 0 : ETIMEDOUT
                    if ready > 0 { getsockopt(socket, SOL_SOCKET, SO_ERROR, &error, &length) }
                }
            }
            if error == 0 {
                var on: Int32 = 1
                setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
                setsockopt(socket, SOL_SOCKET, SO_KEEPALIVE, &on, socklen_t(MemoryLayout<Int32>.size))
                return socket
            }
            reason = String(cString: strerror(error))
            close(socket)
        }
        throw RedisError(.connectionFailed, "cannot connect: \(reason)", endpoint: endpoint)
    }

    /// Makes the handshake check the certificate against `name`: a DNS name (also sent as SNI), or an
    /// IP address matched against the certificate's IP entries (SNI carries no addresses).
    private func verifyServerName(_ name: String) throws(RedisError) {
        var address = in6_addr()
        let isAddress = inet_pton(AF_INET, name, &address) == 1 || inet_pton(AF_INET6, name, &address) == 1
        let accepted =
            isAddress
            ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(session), name) == 1
            : SSL_set1_host(session, name) == 1 && copenssl_set_server_name_indication(session, name) == 1
        guard accepted else {
            throw RedisError(.connectionFailed, "invalid TLS server name '\(name)'", endpoint: endpoint)
        }
    }

    private func handshake(deadline: ContinuousClock.Instant, serverName: String) throws(RedisError) {
        while true {
            ERR_clear_error()
            let result = SSL_connect(session)
            if result == 1 { return }
            let error = SSL_get_error(session, result)
            guard error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE else {
                throw handshakeFailure(serverName: serverName)
            }
            let events = Int16(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT)
            guard copenssl_wait(socket, events, milliseconds(until: deadline)) > 0 else {
                throw RedisError(.connectionFailed, "TLS handshake timed out", endpoint: endpoint)
            }
        }
    }

    /// Why the handshake failed, with the setting to check: the server's certificate did not verify
    /// (chain: `ca_file`; name: `server_name`), or the server refused us (a client certificate).
    private func handshakeFailure(serverName: String) -> RedisError {
        let verification = SSL_get_verify_result(session)
        let message: String
        if verification != Int(X509_V_OK) {
            let reason = String(cString: X509_verify_cert_error_string(verification))
            if verification == Int(X509_V_ERR_HOSTNAME_MISMATCH) || verification == Int(X509_V_ERR_IP_ADDRESS_MISMATCH) {
                message = "TLS: the server certificate is not valid for '\(serverName)' (\(reason)); connect by a name "
                    + "the certificate lists, or set the TLS server_name to one"
            } else {
                message = "TLS: the server certificate did not verify (\(reason)); check that the TLS ca_file holds "
                    + "the CA that signed it"
            }
        } else {
            message = "TLS handshake failed: \(Self.openSSLReason())"
        }
        return RedisError(.connectionFailed, message, endpoint: endpoint)
    }

    func append(_ encoded: [UInt8]) {
        output.append(contentsOf: encoded)
    }

    func flush() throws(RedisError) {
        let deadline = ContinuousClock.now + commandTimeout
        while !output.isEmpty {
            ERR_clear_error()
            let written = output.withUnsafeBytes { bytes in SSL_write(session, bytes.baseAddress, Int32(bytes.count)) }
            if written > 0 {
                output.removeFirst(Int(written))
                continue
            }
            try wait(after: written, deadline: deadline)
        }
    }

    func readReply() throws(RedisError) -> RedisReply {
        if let reply = try bufferedReply() { return reply }
        try flush()
        let deadline = ContinuousClock.now + commandTimeout
        while true {
            if try read() {
                if let reply = try bufferedReply() { return reply }
            } else {
                try waitFor(Int16(POLLIN), deadline: deadline)
            }
        }
    }

    func bufferedReply() throws(RedisError) -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
            failed = true
            throw RedisError(.unexpectedReply, "cannot parse a reply: protocol error", endpoint: endpoint)
        }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return RedisReply(hiredis: raw.assumingMemoryBound(to: redisReply.self))
    }

    func receive(timeoutMilliseconds: Int32) throws(RedisError) -> Bool {
        if SSL_pending(session) == 0 {
            let ready = copenssl_wait(socket, Int16(POLLIN), timeoutMilliseconds)
            if ready == 0 || (ready < 0 && errno == EINTR) { return false }
        }
        _ = try read()
        return true
    }

    var hasInput: Bool { SSL_pending(session) > 0 || copenssl_wait(socket, Int16(POLLIN), 0) != 0 }

    var isHealthy: Bool { !failed }

    /// The socket can turn readable on an idle connection without anything for us: TLS 1.3 servers
    /// send session tickets after the handshake. One non-blocking read tells those apart from a close
    /// or an unsolicited reply.
    func isQuietWhileIdle() -> Bool {
        guard hasInput else { return true }
        guard let decrypted = try? read() else { return false }
        return !decrypted
    }

    /// One non-blocking `SSL_read` into the reply reader; false when no application data was ready.
    private func read() throws(RedisError) -> Bool {
        ERR_clear_error()
        errno = 0
        let count = input.withUnsafeMutableBytes { bytes in SSL_read(session, bytes.baseAddress, Int32(bytes.count)) }
        guard count > 0 else {
            let error = SSL_get_error(session, count)
            guard error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE else { throw failure(error) }
            return false
        }
        answered = true
        input.withUnsafeBytes { bytes in
            _ = redisReaderFeed(reader, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int(count))
        }
        return true
    }

    /// After an `SSL_write` that wrote nothing: waits for the socket as OpenSSL asks, or throws.
    private func wait(after result: Int32, deadline: ContinuousClock.Instant) throws(RedisError) {
        let error = SSL_get_error(session, result)
        switch error {
        case SSL_ERROR_WANT_WRITE: try waitFor(Int16(POLLOUT), deadline: deadline)
        case SSL_ERROR_WANT_READ: try waitFor(Int16(POLLIN), deadline: deadline)
        default: throw failure(error)
        }
    }

    private func waitFor(_ events: Int16, deadline: ContinuousClock.Instant) throws(RedisError) {
        while true {
            let ready = copenssl_wait(socket, events, milliseconds(until: deadline))
            if ready > 0 { return }
            if ready < 0 && errno == EINTR { continue }
            failed = true
            throw RedisError(.timeout, "no reply within the command timeout", endpoint: endpoint)
        }
    }

    /// The connection is lost: the server closed it, the socket failed or TLS reported an error
    /// (for instance an alert refusing our client certificate).
    private func failure(_ error: Int32) -> RedisError {
        failed = true
        let reason =
            switch error {
            case SSL_ERROR_ZERO_RETURN: "the server closed the TLS session"
            case SSL_ERROR_SYSCALL where errno != 0: String(cString: strerror(errno))
            case SSL_ERROR_SYSCALL: "the server closed the connection"
            default: "TLS: \(Self.openSSLReason())"
            }
        // With TLS 1.3 the server judges our certificate after the handshake: its refusal arrives as an
        // alert, or as a reset when our first command crossed it, before any reply.
        let hint =
            answered
            ? "" : " before its first reply; a server that requires a client certificate (tls-auth-clients) does this "
                + "when none or an untrusted one is given: check the TLS cert_file and key_file"
        return RedisError(.connectionLost, "connection lost: \(reason)\(hint)", endpoint: endpoint)
    }

    /// The reason of the oldest error on this thread's OpenSSL error queue.
    private static func openSSLReason() -> String {
        let code = ERR_get_error()
        guard code != 0, let reason = ERR_reason_error_string(code) else { return "unknown OpenSSL error" }
        return String(cString: reason)
    }
}

/// Milliseconds left until `deadline` for `poll`, rounded up, at least 0.
private func milliseconds(until deadline: ContinuousClock.Instant) -> Int32 {
    let (seconds, attoseconds) = (deadline - .now).components
    guard seconds >= 0, seconds < Int64(Int32.max / 1000) else { return seconds < 0 ? 0 : Int32.max }
    return Int32(seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
}
