/// The JS-SDK `wx.config` signature, as WeChat's JS-SDK documentation (附录1) defines it.
///
/// SHA-1 over `jsapi_ticket=…&noncestr=…&timestamp=…&url=…` — the four fields in that (ASCII) order,
/// values unescaped — where `url` is the page's full URL without its `#` fragment: the browser never
/// sends the fragment, so the page and WeChat only agree on the URL without it.
public struct JSSDKSignature: Sendable, Equatable {
    public var jsapiTicket: String
    public var nonceStr: String
    /// Unix seconds.
    public var timestamp: Int64
    public var url: String

    public init(jsapiTicket: String, nonceStr: String, timestamp: Int64, url: String) {
        self.jsapiTicket = jsapiTicket
        self.nonceStr = nonceStr
        self.timestamp = timestamp
        self.url = url
    }

    /// `url` up to its first `#`.
    public var signedURL: String {
        String(self.url.prefix { $0 != "#" })
    }

    /// The string WeChat hashes.
    var signedString: String {
        "jsapi_ticket=\(self.jsapiTicket)&noncestr=\(self.nonceStr)&timestamp=\(self.timestamp)&url=\(self.signedURL)"
    }

    /// 40 lower-case hex digits, what `wx.config` takes as `signature`.
    public var signature: String {
        SHA1.hexDigest(Array(self.signedString.utf8))
    }
}
