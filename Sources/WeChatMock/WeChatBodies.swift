/// `stable_token`'s JSON request body; every field is optional so missing ones get WeChat's errcodes.
struct StableTokenRequest: Decodable {
    var grantType: String?
    var appid: String?
    var secret: String?
    var forceRefresh: Bool?

    enum CodingKeys: String, CodingKey {
        case grantType = "grant_type"
        case appid
        case secret
        case forceRefresh = "force_refresh"
    }
}

/// `/cgi-bin/token` and `stable_token` success: `{"access_token":"...","expires_in":N}`; WeCom `gettoken`
/// answers the same fields inside an `OKBody`.
struct TokenBody: Encodable {
    var accessToken: String
    var expiresIn: Int

    init(_ grant: TokenLedger.Grant) {
        self.accessToken = grant.token
        self.expiresIn = grant.expiresIn
    }

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case expiresIn = "expires_in"
    }
}

/// A success that, unlike `/cgi-bin/token`'s, carries `"errcode":0,"errmsg":"ok"` beside its fields:
/// WeCom `gettoken` (a `TokenBody`) and `getticket` (a `TicketBody`).
struct OKBody<Fields: Encodable>: Encodable {
    var fields: Fields

    init(_ fields: Fields) {
        self.fields = fields
    }

    private enum CodingKeys: String, CodingKey {
        case errcode, errmsg
    }

    func encode(to encoder: any Encoder) throws {
        try self.fields.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(0, forKey: .errcode)
        try container.encode("ok", forKey: .errmsg)
    }
}

/// `getticket`'s fields: `{"ticket":"...","expires_in":7200}`.
struct TicketBody: Encodable {
    var ticket: String
    var expiresIn: Int

    init(_ grant: TicketLedger.Grant) {
        self.ticket = grant.ticket
        self.expiresIn = grant.expiresIn
    }

    enum CodingKeys: String, CodingKey {
        case ticket
        case expiresIn = "expires_in"
    }
}

/// `getcallbackip` success.
struct CallbackIPBody: Encodable {
    var ipList: [String]

    enum CodingKeys: String, CodingKey {
        case ipList = "ip_list"
    }
}
