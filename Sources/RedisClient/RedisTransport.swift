/// The byte stream under a `RedisConnection`: it writes RESP-encoded commands and parses replies
/// with hiredis' reader. Two kinds exist: `HiredisTransport` (plain TCP or a unix socket, hiredis' own
/// `redisContext`) and `TLSTransport` (OpenSSL on a socket of its own, hiredis' reader over it).
///
/// Why two rather than one: Debian's hiredis 0.14 has no TLS and no pluggable I/O, so TLS needs its
/// own socket code; moving the plain path onto that code too would replace hiredis' tested
/// connect/read/write for nothing, and the plain path is the one `make bench` holds to
/// `redis-benchmark`. The protocol costs one indirect call per operation, nanoseconds next to a
/// round trip of tens of microseconds: release builds with and without it, alternated against one
/// server, GET at the same rate within noise (median ratio 1.00 sequential, 1.01 in pipelines of 16).
/// Like the connection, a transport is confined to its worker's thread.
protocol RedisTransport: AnyObject {
    /// Queues already-encoded commands; the next `flush` or `readReply` writes them.
    func append(_ encoded: [UInt8])
    /// Writes everything queued without waiting for replies, within the command timeout.
    func flush() throws(RedisError)
    /// Writes pending output, then blocks (up to the command timeout) until one reply is complete.
    func readReply() throws(RedisError) -> RedisReply
    /// A reply already received and buffered, if any, without touching the socket.
    func bufferedReply() throws(RedisError) -> RedisReply?
    /// Waits up to `timeoutMilliseconds` for input and buffers what arrived; false when nothing did.
    func receive(timeoutMilliseconds: Int32) throws(RedisError) -> Bool
    /// True when input is waiting to be read (or the socket failed), without reading it.
    var hasInput: Bool { get }
    /// False once an operation failed: the stream is no longer in step with the server.
    var isHealthy: Bool { get }
    /// True when nothing arrived while the connection sat idle: the server neither closed it nor sent
    /// anything unsolicited. May read protocol-only input (a TLS session ticket) to tell.
    func isQuietWhileIdle() -> Bool
}
