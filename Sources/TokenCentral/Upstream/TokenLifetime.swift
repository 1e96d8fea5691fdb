/// The longest token lifetime `tokend` believes from upstream.
public enum TokenLifetime {
    /// 7200 s: what `/cgi-bin/token`, `/cgi-bin/stable_token` and WeCom's `/cgi-bin/gettoken` document and
    /// return. A longer `expires_in` is a bug upstream or in a proxy, and believing it keeps a token in Redis
    /// long after WeChat retired it (`99999999999` gave a PTTL of 3,170 years). Capping errs on the safe
    /// side: if WeChat ever did issue longer tokens, the cost is one refresh per two hours that was not needed.
    public static let maximum: Duration = .seconds(7200)

    /// The lifetime to store for an announced `expires_in` (seconds), and whether it had to be capped.
    static func capped(expiresInSeconds: Int) -> (lifetime: Duration, wasCapped: Bool) {
        let announced = Duration.seconds(expiresInSeconds)
        return announced > maximum ? (maximum, true) : (announced, false)
    }
}
