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

    /// Runs `script` once per argument list, all in one pipelined round trip, loading it first as
    /// `evaluate` does (and once more after a `NOSCRIPT`). Replies in order; an error reply throws.
    public func evaluateEach(
        _ script: RedisScript,
        keys: [any RedisArgument] = [],
        argumentLists: [[any RedisArgument]]
    ) async throws(RedisError) -> [RedisReply] {
        if argumentLists.isEmpty { return [] }
        var hash = scriptHashes.withLock { $0[script.source] }
        if hash == nil { hash = try await load(script) }
        var replies = try await pipeline(argumentLists.map { Self.evalsha(hash!, keys: keys, arguments: $0) })
        if replies.contains(where: { serverError($0)?.serverErrorPrefix == "NOSCRIPT" }) {
            let reloaded = try await load(script)
            replies = try await pipeline(argumentLists.map { Self.evalsha(reloaded, keys: keys, arguments: $0) })
        }
        if let error = replies.lazy.compactMap(serverError).first { throw error }
        return replies
    }

    private func serverError(_ reply: RedisReply) -> RedisError? {
        guard case .error(let message) = reply else { return nil }
        return RedisError(reply: message, endpoint: endpoint.description)
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
