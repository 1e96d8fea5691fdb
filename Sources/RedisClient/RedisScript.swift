import Synchronization

/// A Lua script run with `EVALSHA`, loaded on first use.
public struct RedisScript: Sendable, Hashable {
    public let source: String

    public init(_ source: String) {
        self.source = source
    }
}

extension RedisClient {
    /// Runs `script` by its SHA1 (`EVALSHA`), loading it with `SCRIPT LOAD` first if this client has not.
    ///
    /// The server's script cache is empty after a restart or `SCRIPT FLUSH`; a `NOSCRIPT` answer makes
    /// the client load the script again and retry once, so callers never see it.
    public func evaluate(
        _ script: RedisScript,
        keys: [any RedisArgument] = [],
        arguments: [any RedisArgument] = []
    ) async throws(RedisError) -> RedisReply {
        var hash = scriptHashes.withLock { $0[script.source] }
        if hash == nil { hash = try await load(script) }
        do {
            return try await send(Self.evalsha(hash!, keys: keys, arguments: arguments))
        } catch where error.serverErrorPrefix == "NOSCRIPT" {
            let reloaded = try await load(script)
            return try await send(Self.evalsha(reloaded, keys: keys, arguments: arguments))
        }
    }

    private func load(_ script: RedisScript) async throws(RedisError) -> String {
        guard let hash = try await send("SCRIPT", "LOAD", script.source).string else {
            throw RedisError(.unexpectedReply, "SCRIPT LOAD did not return a SHA1", endpoint: endpoint.description)
        }
        scriptHashes.withLock { $0[script.source] = hash }
        return hash
    }

    private static func evalsha(_ hash: String, keys: [any RedisArgument], arguments: [any RedisArgument]) -> RedisCommand {
        RedisCommand("EVALSHA", [hash, keys.count] + keys + arguments)
    }
}
