/// An error from the Redis client: either the server answered with an error reply, or talking to it failed.
///
/// `code` is what a program switches on; `message` is what a person reads. The endpoint is always the
/// redacted form (no password), so an error can be logged as is.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The URL given to the client is not a valid `redis://`, `rediss://` or `unix://` URL.
        case invalidURL
        /// Could not connect (refused, unreachable, connect timeout, or still backing off after such a failure).
        case connectionFailed
        /// The connection broke while a command was in flight; the command may or may not have run.
        case connectionLost
        /// The server did not answer within the command timeout; the connection was discarded.
        case timeout
        /// `AUTH` was refused: wrong password or unknown ACL user.
        case authenticationFailed
        /// The server answered with an error reply (`WRONGTYPE ...`, `NOSCRIPT ...`, `ERR ...`).
        case server
        /// The reply did not have the shape the caller expected.
        case unexpectedReply
        /// The client or subscription was shut down.
        case shutdown
        /// The server runs in a mode this client refuses: a Redis Cluster node (see `RedisError.clusterMode`).
        case unsupportedServer
    }

    public var code: Code
    public var message: String
    /// Redacted address of the server, e.g. `redis://app:***@127.0.0.1:6379/0`.
    public var endpoint: String?

    public init(_ code: Code, _ message: String, endpoint: String? = nil) {
        self.code = code
        self.message = message
        self.endpoint = endpoint
    }

    /// True for failures of the connection itself (as opposed to an error reply from the server):
    /// retrying later, on a new connection, may succeed.
    public var isConnectionError: Bool {
        switch code {
        case .connectionFailed, .connectionLost, .timeout: true
        default: false
        }
    }

    /// The first word of a server error (`WRONGTYPE`, `NOSCRIPT`, `ERR`), nil for other errors.
    public var serverErrorPrefix: Substring? {
        guard code == .server else { return nil }
        return message.split(separator: " ", maxSplits: 1).first
    }

    public var description: String {
        if let endpoint { "Redis \(endpoint): \(message)" } else { "Redis: \(message)" }
    }
}
