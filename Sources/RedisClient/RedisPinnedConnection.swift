/// One pooled connection reserved by `RedisClient.withPinnedConnection`; valid only inside its closure.
public struct RedisPinnedConnection: Sendable {
    let client: RedisClient
    let index: Int

    /// Sends one command; an error reply is thrown as a `RedisError` with code `.server`.
    @discardableResult
    public func send(_ command: RedisCommand) async throws(RedisError) -> RedisReply {
        let reply = try await client.execute(on: index) { connection throws(RedisError) in try connection.roundTrip([command])[0] }
        if case .error(let message) = reply { throw RedisError(reply: message, endpoint: client.endpoint.description) }
        return reply
    }

    /// Sends all commands in one write and reads all replies; error replies stay in the result.
    public func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        try await client.execute(on: index) { connection throws(RedisError) in try connection.roundTrip(commands) }
    }
}
