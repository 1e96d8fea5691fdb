/// The tickets WeChat's `GET /cgi-bin/ticket/getticket?type=` hands out, by that `type`.
public enum TicketType: String, Sendable, Hashable, Codable, CaseIterable {
    /// `jsapi_ticket`, which signs the JS-SDK's `wx.config`.
    case jsapi
    /// The card (卡券) `api_ticket`.
    case wxCard = "wx_card"
}

extension TokenKeys {
    /// The raw ticket with a PX TTL equal to its remaining validity: `P:{APPID}:jsapi_ticket`,
    /// `P:{APPID}:wx_card_ticket`.
    public func ticket(_ appid: String, _ type: TicketType) -> String { "\(prefix):{\(appid)}:\(type.rawValue)_ticket" }
}

extension TokenKeys {
    /// The key a subject's value lives in: the app's `access_token` (`ticket` nil) or one of its tickets.
    public func value(_ appid: String, _ ticket: TicketType?) -> String {
        ticket.map { self.ticket(appid, $0) } ?? accessToken(appid)
    }

    /// The meta hash of the token (`P:{APPID}:meta`) or of a ticket (`P:{APPID}:jsapi_ticket:meta`), with
    /// the same fields: a ticket is kept by the token's machinery.
    public func meta(_ appid: String, _ ticket: TicketType?) -> String {
        ticket.map { "\(self.ticket(appid, $0)):meta" } ?? meta(appid)
    }

    /// The refresh lease of the token (`P:{APPID}:lock`) or of a ticket (`P:{APPID}:jsapi_ticket:lock`).
    public func lock(_ appid: String, _ ticket: TicketType?) -> String {
        ticket.map { "\(self.ticket(appid, $0)):lock" } ?? lock(appid)
    }

    /// The cooldown of forced refreshes without a reported value, of the token or of a ticket.
    public func forcedCooldown(_ appid: String, _ ticket: TicketType?) -> String {
        ticket.map { "\(self.ticket(appid, $0)):forced" } ?? forcedCooldown(appid)
    }
}
