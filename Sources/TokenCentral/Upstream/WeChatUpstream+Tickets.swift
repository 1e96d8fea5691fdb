import AsyncHTTPClient

extension WeChatUpstream: TicketFetcher {
    /// `/cgi-bin/ticket/getticket`.
    static let ticketEndpoint = "/cgi-bin/ticket/getticket"

    /// Calls `GET /cgi-bin/ticket/getticket?access_token=&type=`. A token WeChat rejects is reported as
    /// transient with its own hint (the keeper reports the token and retries), not as the token
    /// endpoint's "bad secret": the same errcode 40001 means something else here.
    public func fetchTicket(_ type: TicketType, appid: String, accessToken: String) async -> Result<FetchedToken, UpstreamError> {
        let url = settings.wechatBaseURL + Self.ticketEndpoint + "?" + Self.query([("access_token", accessToken), ("type", type.rawValue)])
        let result = await execute(HTTPClientRequest(url: url), appid: appid, endpoint: Self.ticketEndpoint, secret: accessToken, field: .ticket)
        return result.mapError { error in
            guard error.rejectsToken else { return error }
            var rejected = error
            rejected.kind = .transient
            rejected.hint = "getticket rejected the access_token: reporting it and retrying with the new one"
            return rejected
        }
    }
}
