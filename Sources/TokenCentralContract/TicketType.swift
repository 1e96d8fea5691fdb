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
    /// The ticket's meta hash, the same fields as the token's `P:{APPID}:meta`: `P:{APPID}:jsapi_ticket:meta`.
    public func ticketMeta(_ appid: String, _ type: TicketType) -> String { "\(ticket(appid, type)):meta" }
}
