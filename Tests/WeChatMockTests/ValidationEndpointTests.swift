import HTTPTypes
import HummingbirdTesting
import Testing
import WeChatMock

/// `GET /cgi-bin/getcallbackip`, the endpoint business-reader simulators use to check a token.
@Suite struct ValidationEndpointTests {
    let clock = ManualClock()

    @Test func currentTokenIsAccepted() async throws {
        let mock = try Fixture.mock(clock: self.clock)
        let body = try await withRouter(mock) { client in
            try await client.callbackIP(token: try #require(try await client.token().accessToken))
        }
        #expect(body == WeChatBody(ipList: ["127.0.0.1"]))
        #expect(mock.stats(appid: Fixture.appid).validationsOK == 1)
    }

    @Test func supersededTokenIsAcceptedDuringTheOverlapThenAnswers40001() async throws {
        let clock = self.clock
        let mock = try Fixture.mock(clock: clock) { $0.overlap = .milliseconds(1500) }
        let (during, after) = try await withRouter(mock) { client in
            let old = try #require(try await client.token().accessToken)
            _ = try await client.token()
            clock.advance(by: .milliseconds(1499))
            let during = try await client.callbackIP(token: old)
            clock.advance(by: .milliseconds(1))
            return (during, try await client.callbackIP(token: old))
        }
        #expect(during.ipList != nil)
        #expect(after.errcode == 40001)
        #expect(after.errmsg == "invalid credential, access_token is invalid or not latest")
        #expect(mock.stats(appid: Fixture.appid).validationsInvalid == 1)
    }

    @Test func expiredTokenAnswers42001() async throws {
        let clock = self.clock
        let mock = try Fixture.mock(clock: clock) { $0.tokenLifetime = 60 }
        let body = try await withRouter(mock) { client in
            let token = try #require(try await client.token().accessToken)
            clock.advance(by: .seconds(60))
            return try await client.callbackIP(token: token)
        }
        #expect(body == WeChatBody(errcode: 42001, errmsg: "access_token expired"))
        #expect(mock.stats(appid: Fixture.appid).validationsExpired == 1)
    }

    @Test func unknownTokenAnswers40001() async throws {
        let mock = try Fixture.mock()
        let body = try await withRouter(mock) { try await $0.callbackIP(token: "1_forged") }
        #expect(body.errcode == 40001)
        #expect(mock.allStats().totals.validationsInvalid == 1)
    }

    @Test func missingTokenAnswers41001() async throws {
        let mock = try Fixture.mock()
        let body = try await withRouter(mock) {
            try await $0.execute(uri: "/cgi-bin/getcallbackip", method: .get).decode()
        }
        #expect(body.errcode == 41001)
    }

    @Test func inProcessValidationMatchesTheEndpoint() throws {
        let mock = try Fixture.mock()
        #expect(mock.validate(token: "1_forged") == .unknown)
        #expect(ValidationResult.unknown.errcode == 40001)
        #expect(ValidationResult.expired.errcode == 42001)
    }
}
