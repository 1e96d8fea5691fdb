/// A failed call to a token endpoint, classified by what the worker should do about it.
/// Carries the app, endpoint path and WeChat's errcode/errmsg; never the secret or the query string.
public struct UpstreamError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Busy (-1), per-minute limit (45011), timeout, 5xx, network error, unreadable body: retry with backoff.
        case transient
        /// Bad appid/secret, IP not whitelisted, secret frozen...: a person must act; retry slowly.
        case configuration
        /// Risk control (8950x): an administrator must confirm this IP; WeChat refuses calls for `blockedFor`.
        case riskControl(blockedFor: Duration)
        /// Daily quota used up (45009): no call for this app until the quota window resets.
        case quotaExhausted
    }

    public var kind: Kind
    public var appid: String
    /// The endpoint path, e.g. `/cgi-bin/token`.
    public var endpoint: String
    public var errcode: Int?
    public var errmsg: String
    /// What a person can do about it.
    public var hint: String

    public init(kind: Kind, appid: String, endpoint: String, errcode: Int?, errmsg: String, hint: String) {
        self.kind = kind
        self.appid = appid
        self.endpoint = endpoint
        self.errcode = errcode
        self.errmsg = errmsg
        self.hint = hint
    }

    public var description: String {
        let code = errcode.map { "errcode \($0): " } ?? ""
        return "\(appid) \(endpoint): \(code)\(errmsg) (\(hint))"
    }

    /// A short label for metrics and logs: transient, configuration, risk_control, quota.
    public var kindLabel: String {
        switch kind {
        case .transient: "transient"
        case .configuration: "configuration"
        case .riskControl: "risk_control"
        case .quotaExhausted: "quota"
        }
    }
}

extension UpstreamError {
    /// Classifies a WeChat or WeCom errcode returned by a token endpoint.
    static func classify(errcode: Int, errmsg: String, appid: String, endpoint: String) -> UpstreamError {
        let (kind, hint) = Self.meaning(of: errcode)
        return UpstreamError(kind: kind, appid: appid, endpoint: endpoint, errcode: errcode, errmsg: errmsg, hint: hint)
    }

    private static func meaning(of errcode: Int) -> (Kind, String) {
        switch errcode {
        case -1: (.transient, "WeChat is busy; retrying with backoff")
        case 45011: (.transient, "per-minute API limit reached; retrying in the next minute")
        case 40013: (.configuration, "the appid (or WeCom corpid) is wrong: check apps[].appid / corpid")
        case 40125: (.configuration, "the AppSecret is wrong or was reset: update the secret_env/secret_file of this app")
        case 40001: (.configuration, "the token endpoint rejected the secret: update the secret of this app")
        case 40002: (.configuration, "invalid grant_type: check the grant of this app")
        case 41002, 41004: (.configuration, "appid or secret missing from the request: check this app's configuration")
        case 40164, 61004, 60020:
            (.configuration, "this server's IP is not whitelisted: add the egress IP to the IP whitelist in the admin console")
        case 40243: (.configuration, "the AppSecret is frozen: unfreeze it in the WeChat admin console")
        case 48001: (.configuration, "the account lacks permission for this API")
        case 89506: (.riskControl(blockedFor: .seconds(24 * 3600)), "an administrator refused this IP twice: WeChat blocks it for 24 h")
        case 89507: (.riskControl(blockedFor: .seconds(3600)), "an administrator refused this IP: WeChat blocks it for 1 h")
        case 89501, 89503:
            (.riskControl(blockedFor: .seconds(3600)), "an administrator must confirm calls from this IP in the WeChat admin console; retrying in 1 h")
        case 45009: (.quotaExhausted, "daily quota of this endpoint used up; calls resume when the quota resets at 00:00 Beijing time")
        default: (.transient, "unexpected errcode; retrying with backoff")
        }
    }
}
