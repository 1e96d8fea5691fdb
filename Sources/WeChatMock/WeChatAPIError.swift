/// An error the way WeChat reports it: HTTP 200 with `{"errcode":N,"errmsg":"..."}`.
struct WeChatAPIError: Error, Equatable, Sendable, Encodable {
    let errcode: Int
    let errmsg: String

    static let appidMissing = Self(errcode: 41002, errmsg: "appid missing")
    static let appsecretMissing = Self(errcode: 41004, errmsg: "appsecret missing")
    static let corpidMissing = Self(errcode: 41002, errmsg: "corpid missing")
    static let corpsecretMissing = Self(errcode: 41004, errmsg: "corpsecret missing")
    static let invalidGrantType = Self(errcode: 40002, errmsg: "invalid grant_type")
    static let invalidAppid = Self(errcode: 40013, errmsg: "invalid appid")
    static let invalidCorpid = Self(errcode: 40013, errmsg: "invalid corpid")
    static let invalidAppsecret = Self(errcode: 40125, errmsg: "invalid appsecret")
    /// WeCom reports a wrong corpsecret as an invalid credential.
    static let invalidCorpsecret = Self(errcode: 40001, errmsg: "invalid credential")
    static let quotaExceeded = Self(errcode: 45009, errmsg: "reach max api daily quota limit")
    static let dataFormatError = Self(errcode: 47001, errmsg: "data format error")
    static let accessTokenMissing = Self(errcode: 41001, errmsg: "access_token missing")
    static let invalidAccessToken = Self(
        errcode: 40001,
        errmsg: "invalid credential, access_token is invalid or not latest"
    )
    /// `getticket` with a `type` other than `jsapi` or `wx_card`.
    static let invalidArguments = Self(errcode: 40097, errmsg: "invalid args")
    static let accessTokenExpired = Self(errcode: 42001, errmsg: "access_token expired")

    /// The error an injected `.errcode` fault answers, with WeChat's message where it has a well-known one.
    init(faultCode errcode: Int) {
        let errmsg =
            switch errcode {
            case -1: "system error"
            case 40164: "invalid ip 127.0.0.1, not in whitelist"
            case 45009: Self.quotaExceeded.errmsg
            case 45011: "api minute-quota reach limit  mustslower  retry next minute"
            case 89503: "the call requires admin confirmation, please wait"
            default: "mock fault"
            }
        self.init(errcode: errcode, errmsg: errmsg)
    }

    private init(errcode: Int, errmsg: String) {
        self.errcode = errcode
        self.errmsg = errmsg
    }
}
