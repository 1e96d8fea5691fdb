/// How an app's token is obtained from WeChat.
public enum Grant: String, Sendable, Hashable, Codable, CaseIterable {
    /// `GET /cgi-bin/token`: every call issues a new token and supersedes the previous one.
    case token
    /// `POST /cgi-bin/stable_token`: returns the current token while it is valid; `force_refresh`
    /// issues a new one (limited per day).
    case stableToken = "stable_token"
    /// WeCom `GET /cgi-bin/gettoken?corpid=&corpsecret=`.
    case wecom
}

/// One app whose token the workers keep valid.
public struct AppConfiguration: Sendable {
    /// The key under which the token lives in Redis (`P:{appid}:access_token`); for WeCom apps a name
    /// of your choosing, e.g. `ww1234-1000002`.
    public var appid: String
    public var grant: Grant
    public var secret: Secret
    /// WeCom only: the corp ID passed to `gettoken`.
    public var corpid: String?
    /// WeCom only: the agent the secret belongs to (informational, shown in status).
    public var agentid: String?
    /// The tickets kept for this app besides its token (official accounts only).
    public var tickets: [TicketType]

    public init(
        appid: String,
        grant: Grant = .token,
        secret: Secret,
        corpid: String? = nil,
        agentid: String? = nil,
        tickets: [TicketType] = []
    ) {
        self.appid = appid
        self.grant = grant
        self.secret = secret
        self.corpid = corpid
        self.agentid = agentid
        self.tickets = tickets
    }
}
