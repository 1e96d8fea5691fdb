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

extension JSSDKSignature {
    /// The alphabet of `nonceStr`: letters and digits, as WeChat's examples use, so no escaping question arises.
    static let nonceAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    /// A `nonceStr` of 16 characters (95 bits) from `generator`; `SystemRandomNumberGenerator` (the
    /// default for signing) is cryptographically secure, so a page cannot predict the next nonce.
    static func nonce(using generator: inout some RandomNumberGenerator) -> String {
        String((0..<16).map { _ in nonceAlphabet[Int.random(in: nonceAlphabet.indices, using: &generator)] })
    }
}
