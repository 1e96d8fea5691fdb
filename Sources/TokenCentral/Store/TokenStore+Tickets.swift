import RedisClient

extension TokenStore {
    /// The ticket business servers read (`P:{APPID}:jsapi_ticket`, `P:{APPID}:wx_card_ticket`) and the
    /// milliseconds it has left, in one pipelined round trip (`GET` + `PTTL`); nil when there is none.
    public func readableTicket(_ appid: String, _ type: TicketType) async throws(RedisError) -> (ticket: String, millisecondsLeft: Int)? {
        let key = keys.ticket(appid, type)
        let replies = try await redis.pipeline([RedisCommand("GET", key), RedisCommand("PTTL", key)])
        guard let ticket = replies[0].string, !ticket.isEmpty, let left = replies[1].integer, left > 0 else { return nil }
        return (ticket, left)
    }
}
