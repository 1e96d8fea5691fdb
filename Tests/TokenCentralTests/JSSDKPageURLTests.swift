import Testing

@testable import TokenCentral

/// Which page URLs `jssdk-config` signs, and the nonces it signs them with: plain values in, verdicts out.
@Suite struct JSSDKPageURLTests {
    @Test(arguments: [
        "http://mp.weixin.qq.com?params=value", "https://shop.example.com/item?id=7#/detail", "HTTPS://Example.com:8443/",
        "https://user@example.com/",
    ])
    func acceptsAbsoluteHTTPURLs(url: String) throws {
        #expect(try JSSDKPageURL(validating: url).value == url)
    }

    @Test(arguments: [
        (nil, JSSDKPageURL.Invalid.missing), ("", .missing), ("/page", .notHTTP), ("ftp://example.com/", .notHTTP),
        ("https:///page", .noHost), ("https://user@/page", .noHost), ("https://:80/", .noHost),
        ("https://example.com/a b", .whitespaceOrControl), ("https://example.com/\n", .whitespaceOrControl),
    ] as [(String?, JSSDKPageURL.Invalid)])
    func refusesWhatCannotBeAPageAddress(url: String?, reason: JSSDKPageURL.Invalid) {
        #expect(throws: reason) { try JSSDKPageURL(validating: url) }
    }

    @Test func refusesURLsLongerThanTheBound() {
        let url = "https://example.com/" + String(repeating: "a", count: JSSDKPageURL.maximumLength)
        #expect(throws: JSSDKPageURL.Invalid.tooLong(url.count)) { try JSSDKPageURL(validating: url) }
    }

    @Test func nonceIsSixteenLettersOrDigits() {
        var generator = SystemRandomNumberGenerator()
        let nonce = JSSDKSignature.nonce(using: &generator)
        #expect(nonce.count == 16)
        #expect(nonce.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
    }
}
