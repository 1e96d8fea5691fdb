import RedisClient

/// A value business servers read from Redis (a token or a ticket) and the milliseconds its key has left:
/// what `readableToken` answers for the token and `readableTicket` for a ticket.
public typealias ReadableToken = (token: String, millisecondsLeft: Int)

extension TokenStore {
    /// The ticket business servers read (`P:{APPID}:jsapi_ticket`, `P:{APPID}:wx_card_ticket`) and the
    /// milliseconds it has left, in one pipelined round trip (`GET` + `PTTL`); nil when there is none.
    public func readableTicket(_ appid: String, _ type: TicketType) async throws(RedisError) -> ReadableToken? {
        let key = keys.ticket(appid, type)
        let replies = try await redis.pipeline([RedisCommand("GET", key), RedisCommand("PTTL", key)])
        guard let ticket = replies[0].string, !ticket.isEmpty, let left = replies[1].integer, left > 0 else { return nil }
        return (ticket, left)
    }

    /// The last upstream failure recorded in the ticket's meta hash (`error`), to say why there is no ticket.
    public func ticketLastError(_ appid: String, _ type: TicketType) async throws(RedisError) -> String? {
        try await redis.send("HGET", keys.ticketMeta(appid, type), "error").string
    }
}
