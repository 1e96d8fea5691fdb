import Testing

@testable import TokenCentral

/// Parsing forced-refresh requests published on `P:refresh`.
@Suite struct RefreshMessageTests {
    private func parse(_ payload: String) -> Result<RefreshMessage, RefreshMessage.ParseError> {
        RefreshMessage.parse(Array(payload.utf8))
    }

    @Test func jsonWithBadTokenNamesAppAndToken() {
        #expect(self.parse(#"{"appid":"wx1234567890abcdef","bad_token":"OLD_TOKEN"}"#)
            == .success(RefreshMessage(appid: "wx1234567890abcdef", badToken: "OLD_TOKEN")))
    }

    @Test func jsonWithoutBadTokenNamesTheAppOnly() {
        #expect(self.parse(#"{"appid":"wx1234567890abcdef"}"#) == .success(RefreshMessage(appid: "wx1234567890abcdef")))
    }

    @Test(arguments: [#"{"appid":"wx1","bad_token":""}"#, #"{"appid":"wx1","bad_token":null}"#])
    func emptyOrNullBadTokenIsTreatedAsAbsent(payload: String) {
        #expect(self.parse(payload) == .success(RefreshMessage(appid: "wx1", badToken: nil)))
    }

    @Test func unknownJSONKeysAreIgnored() {
        #expect(self.parse(#"{"appid":"wx1","reason":"40001 from order service"}"#) == .success(RefreshMessage(appid: "wx1")))
    }

    @Test func bareAppIDIsARequestWithoutBadToken() {
        #expect(self.parse("wx1234567890abcdef") == .success(RefreshMessage(appid: "wx1234567890abcdef")))
    }

    @Test func bareAppIDIsTrimmedOfWhitespaceAndNewlines() {
        #expect(self.parse("  wx1234567890abcdef\r\n") == .success(RefreshMessage(appid: "wx1234567890abcdef")))
    }

    @Test func weComAppNameWithDashUnderscoreAndDotIsAccepted() {
        #expect(self.parse("ww1234-1000002_a.b") == .success(RefreshMessage(appid: "ww1234-1000002_a.b")))
    }

    @Test func payloadOfExactlyTheMaximumSizeIsRead() {
        let prefix = #"{"appid":"wx1","bad_token":""#
        let token = String(repeating: "T", count: RefreshMessage.maximumSize - prefix.utf8.count - 2)
        let payload = prefix + token + #""}"#
        #expect(payload.utf8.count == RefreshMessage.maximumSize)
        #expect(self.parse(payload) == .success(RefreshMessage(appid: "wx1", badToken: token)))
    }

    @Test func payloadLargerThanTheMaximumIsRejectedWithItsSize() {
        let payload = String(repeating: "w", count: RefreshMessage.maximumSize + 1)
        #expect(self.parse(payload) == .failure(.tooLarge(4097)))
    }

    @Test(arguments: [
        #"{"appid":"wx1""#,
        #"{"bad_token":"OLD"}"#,
        #"{"appid":42}"#,
        #"{"appid":"wx1","bad_token":42}"#,
        #"{}"#,
    ])
    func malformedJSONIsRejected(payload: String) {
        #expect(self.parse(payload) == .failure(.malformed))
    }

    @Test(arguments: ["", "   \n", "wx1 wx2", "wx1;DEL", "wx/../1", "应用", "wx1\u{0}"])
    func bareTextThatIsNotAnAppIDIsRejected(payload: String) {
        #expect(self.parse(payload) == .failure(.malformed))
    }

    @Test(arguments: [#"{"appid":""}"#, #"{"appid":" wx1"}"#, #"{"appid":"wx1*"}"#, #"{"appid":"微信"}"#])
    func jsonAppIDWithInvalidCharactersIsRejected(payload: String) {
        #expect(self.parse(payload) == .failure(.malformed))
    }

    @Test func appIDLongerThan128CharactersIsRejected() {
        #expect(self.parse(String(repeating: "a", count: 129)) == .failure(.malformed))
    }

    @Test func appIDOf128CharactersIsAccepted() {
        let appid = String(repeating: "a", count: 128)
        #expect(self.parse(appid) == .success(RefreshMessage(appid: appid)))
    }

    @Test func invalidUTF8IsRejected() {
        #expect(RefreshMessage.parse([0x77, 0x78, 0xFF, 0xFE]) == .failure(.malformed))
    }
}
