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

/// `/cgi-bin/token` and `stable_token` success: `{"access_token":"...","expires_in":N}`.
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

/// WeCom `gettoken` success, which (unlike WeChat) carries `errcode` 0 and `errmsg` "ok".
struct CorpTokenBody: Encodable {
    var errcode = 0
    var errmsg = "ok"
    var accessToken: String
    var expiresIn: Int

    init(_ grant: TokenLedger.Grant) {
        self.accessToken = grant.token
        self.expiresIn = grant.expiresIn
    }

    enum CodingKeys: String, CodingKey {
        case errcode
        case errmsg
        case accessToken = "access_token"
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
