import RedisClient

extension TokenStore {
    /// The ticket business servers read (`P:{APPID}:jsapi_ticket`, `P:{APPID}:wx_card_ticket`) and the
    /// milliseconds it has left, in one pipelined round trip (`GET` + `PTTL`); nil when there is none.
    public func readableTicket(_ appid: String, _ type: TicketType) async throws(RedisError) -> (ticket: String, millisecondsLeft: Int)? {
        try await readable(keys.ticket(appid, type)).map { (ticket: $0.value, millisecondsLeft: $0.millisecondsLeft) }
    }
}
