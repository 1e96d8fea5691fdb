import Testing

@testable import TokenCentral

/// The JS-SDK `wx.config` signature and the SHA-1 under it: plain values in, digests out.
@Suite struct JSSDKSignatureTests {
    /// The example in WeChat's JS-SDK documentation (附录1).
    private let documented = JSSDKSignature(
        jsapiTicket: "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
        nonceStr: "Wm3WZYTPz0wzccnW",
        timestamp: 1_414_587_457,
        url: "http://mp.weixin.qq.com?params=value"
    )

    @Test func matchesWeChatsDocumentedExample() {
        #expect(self.documented.signature == "0f9de62fce790f9a083d5c99e95740ceb90c27ed")
    }

    @Test func signsTheFieldsInWeChatsOrder() {
        #expect(
            self.documented.signedString
                == "jsapi_ticket=sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
                + "&noncestr=Wm3WZYTPz0wzccnW&timestamp=1414587457&url=http://mp.weixin.qq.com?params=value"
        )
    }

    @Test func ignoresTheURLFragment() {
        var withFragment = self.documented
        withFragment.url += "#/page?x=1#again"
        #expect(withFragment.signedURL == self.documented.url)
        #expect(withFragment.signature == self.documented.signature)
    }

    @Test(arguments: [
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "a49b2446a02c645bf419f995b67091253a04a259"
        ),
    ])
    func sha1MatchesTheFIPSVectors(message: String, digest: String) {
        #expect(SHA1.hexDigest(Array(message.utf8)) == digest)
    }

    @Test func sha1HandlesMessagesSpanningManyBlocks() {
        let thousand = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        #expect(SHA1.hexDigest(thousand) == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
    }
}
