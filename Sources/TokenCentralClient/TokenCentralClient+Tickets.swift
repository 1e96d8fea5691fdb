import RedisClient
import TokenCentralContract

extension TokenCentralClient {
    /// The current ticket of `type` for `appid` (`tickets: [jsapi]` in its tokend configuration), cached
    /// and kept current like tokens: from the cache while valid and listening, otherwise from Redis
    /// (one pipelined `GET` + `PTTL` of `P:{APPID}:jsapi_ticket`).
    ///
    /// ```swift
    /// let ticket = try await tokens.ticket(for: "wx1234567890", type: .jsapi)
    /// // WeChat rejected it:
    /// try await tokens.reportBadTicket(appid: "wx1234567890", type: .jsapi, ticket: ticket)
    /// ```
    public func ticket(for appid: String, type: TicketType) async throws(TokenCentralClientError) -> String {
        let key = keys.ticket(appid, type)
        return try await read(key, cachedAs: key, of: appid, missing: .noTicket)
    }

    /// Tells the tokend workers that WeChat rejected `ticket`, so one of them fetches a new one. As with
    /// tokens, any number of reports of the same ticket cause at most one upstream call.
    ///
    /// Publishes `{"appid":...,"ticket":"jsapi","bad_ticket":...}` on `P:refresh` and drops the app's
    /// cached values, so the next `ticket(for:type:)` reads Redis.
    public func reportBadTicket(appid: String, type: TicketType, ticket: String) async throws(TokenCentralClientError) {
        invalidate(appid)
        do {
            try await redis.publish(keys.refreshChannel, RefreshMessage(appid: appid, ticket: type, badTicket: ticket).payload)
        } catch {
            throw TokenCentralClientError(.redis, appid: appid, key: keys.refreshChannel, underlying: error)
        }
    }
}
