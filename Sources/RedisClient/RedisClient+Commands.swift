/// Typed shorthands for the commands the project uses most. Anything else goes through `send`.
extension RedisClient {
    public func get(_ key: String) async throws(RedisError) -> [UInt8]? {
        try await send("GET", key).bytes
    }

    public func set(_ key: String, _ value: some RedisArgument) async throws(RedisError) {
        try await send("SET", key, value)
    }

    public func delete(_ keys: String...) async throws(RedisError) {
        try await send(RedisCommand("DEL", keys))
    }

    /// Returns the number of subscribers that received the message.
    @discardableResult
    public func publish(_ channel: String, _ message: some RedisArgument) async throws(RedisError) -> Int {
        try await send("PUBLISH", channel, message).integer ?? 0
    }

    /// `HGETALL` as a dictionary of UTF-8 strings.
    public func hashFields(_ key: String) async throws(RedisError) -> [String: String] {
        try await send("HGETALL", key).hashFields ?? [:]
    }

    /// `PING`: succeeds when the server answers.
    public func ping() async throws(RedisError) {
        try await send("PING")
    }
}
