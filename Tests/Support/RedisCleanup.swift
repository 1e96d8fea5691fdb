import RedisClient

/// Deletes every key under `prefix:` (SCAN + DEL), so a test leaves the shared server as it found it.
public func deleteKeys(withPrefix prefix: String, on redis: RedisClient) async throws {
    var cursor = "0"
    repeat {
        let reply = try await redis.send("SCAN", cursor, "MATCH", "\(prefix):*", "COUNT", 500)
        guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array else { return }
        let names = keys.compactMap(\.string)
        if !names.isEmpty { try await redis.send(RedisCommand("DEL", names)) }
        cursor = next
    } while cursor != "0"
}
