import RedisClient

extension TokenStore {
    /// The last upstream failure recorded in the ticket's meta hash (`error`), to say why there is no ticket.
    public func ticketLastError(_ appid: String, _ type: TicketType) async throws(RedisError) -> String? {
        try await redis.send("HGET", keys.meta(appid, type), "error").string
    }
}
