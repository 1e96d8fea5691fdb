import Testing

@testable import TokenCentral

/// Parsing the answers of `/cgi-bin/token`, `/cgi-bin/stable_token` and WeCom `/cgi-bin/gettoken`.
@Suite struct TokenResponseTests {
    private let appid = "wx1234567890abcdef"
    private let endpoint = "/cgi-bin/token"

    private func parse(_ body: String, status: Int = 200) -> Result<FetchedToken, UpstreamError> {
        TokenResponse.parse(status: status, body: Array(body.utf8), appid: self.appid, endpoint: self.endpoint)
    }

    private func failure(_ body: String, status: Int = 200) -> UpstreamError? {
        guard case .failure(let error) = self.parse(body, status: status) else { return nil }
        return error
    }

    // MARK: success

    @Test func successBodyYieldsTheTokenAndItsLifetime() throws {
        let fetched = try self.parse(#"{"access_token":"ACCESS_TOKEN","expires_in":7200}"#).get()
        #expect(fetched == FetchedToken(token: "ACCESS_TOKEN", expiresIn: .seconds(7200)))
    }

    @Test func lifetimeIsTheAnnouncedOneNotAssumed() throws {
        #expect(try self.parse(#"{"access_token":"A","expires_in":8}"#).get().expiresIn == .seconds(8))
    }

    @Test func anImplausibleLifetimeIsCappedAndTheAnnouncedOneKept() throws {
        let fetched = try self.parse(#"{"access_token":"A","expires_in":99999999999}"#).get()
        #expect(fetched.expiresIn == TokenLifetime.maximum)
        #expect(fetched.announcedExpiresIn == .seconds(99_999_999_999))
    }

    @Test func aDocumentedLifetimeIsNotMarkedCapped() throws {
        #expect(try self.parse(#"{"access_token":"A","expires_in":7200}"#).get().announcedExpiresIn == nil)
    }

    @Test func weComSuccessBodyWithErrcodeZeroYieldsTheToken() throws {
        let fetched = try self.parse(#"{"errcode":0,"errmsg":"ok","access_token":"CORP_TOKEN","expires_in":7200}"#).get()
        #expect(fetched == FetchedToken(token: "CORP_TOKEN", expiresIn: .seconds(7200)))
    }

    // MARK: errcode bodies

    @Test func errcodeBodyIsClassified() {
        let error = self.failure(#"{"errcode":40125,"errmsg":"invalid appsecret rid: 1"}"#)
        #expect(error?.kind == .configuration)
        #expect(error?.errcode == 40125)
        #expect(error?.errmsg == "invalid appsecret rid: 1")
    }

    @Test func errcodeBodyWithoutErrmsgHasAnEmptyErrmsg() {
        #expect(self.failure(#"{"errcode":-1}"#)?.errmsg == "")
    }

    @Test func errcodeWinsOverATokenInTheSameBody() {
        #expect(self.failure(#"{"errcode":45009,"errmsg":"reach max api daily quota limit","access_token":"A","expires_in":7200}"#)?.kind
            == .quotaExhausted)
    }

    @Test func failureNamesTheAppAndTheEndpoint() {
        let error = self.failure(#"{"errcode":40013,"errmsg":"invalid appid"}"#)
        #expect(error?.appid == self.appid && error?.endpoint == self.endpoint)
    }

    // MARK: transient failures

    @Test func http500IsTransientWhateverTheBody() {
        let error = self.failure(#"{"access_token":"A","expires_in":7200}"#, status: 500)
        #expect(error?.kind == .transient)
        #expect(error?.errcode == nil)
        #expect(error?.errmsg == "HTTP 500")
    }

    @Test(arguments: ["<html><body>502 Bad Gateway</body></html>", "", "{", "[]", "null"])
    func unreadableBodyIsTransient(body: String) {
        let error = self.failure(body)
        #expect(error?.kind == .transient)
        #expect(error?.errcode == nil)
    }

    @Test(arguments: [
        #"{"expires_in":7200}"#,
        #"{"access_token":"A"}"#,
        #"{"access_token":"","expires_in":7200}"#,
        #"{"access_token":"A","expires_in":0}"#,
        #"{"access_token":"A","expires_in":-5}"#,
        #"{"errcode":0,"errmsg":"ok"}"#,
        #"{}"#,
    ])
    func bodyWithoutAUsableTokenIsTransient(body: String) {
        let error = self.failure(body)
        #expect(error?.kind == .transient)
        #expect(error?.errcode == nil)
    }
}
