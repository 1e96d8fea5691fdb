import HTTPTypes
import HummingbirdTesting
import Testing
import WeChatMock

/// `POST /cgi-bin/stable_token`.
@Suite struct StableTokenEndpointTests {
    @Test func normalModeReturnsTheSameTokenWithDecreasingExpiresIn() async throws {
        let clock = ManualClock()
        let mock = try Fixture.mock(clock: clock)
        let (first, later) = try await withRouter(mock) { client in
            let first = try await client.stableToken()
            clock.advance(by: .seconds(100))
            return (first, try await client.stableToken())
        }
        #expect(first.expiresIn == 7200)
        #expect(later.accessToken == first.accessToken)
        #expect(later.expiresIn == 7100)
        #expect(mock.stats(appid: Fixture.appid).tokensIssued == 1)
    }

    @Test func normalModeIssuesANewTokenOnceTheOldExpired() async throws {
        let clock = ManualClock()
        let mock = try Fixture.mock(clock: clock)
        let (first, later) = try await withRouter(mock) { client in
            let first = try await client.stableToken()
            clock.advance(by: .seconds(7200))
            return (first, try await client.stableToken())
        }
        #expect(later.accessToken != first.accessToken)
        #expect(later.expiresIn == 7200)
    }

    @Test func normalModeIssuesANewTokenInTheLastFiveMinutes() async throws {
        let clock = ManualClock()
        let mock = try Fixture.mock(clock: clock)
        let (first, outside, inside) = try await withRouter(mock) { client in
            let first = try await client.stableToken()
            clock.advance(by: .seconds(7200 - 301))
            let outside = try await client.stableToken()
            clock.advance(by: .seconds(2))
            return (first, outside, try await client.stableToken())
        }
        #expect(outside.accessToken == first.accessToken)
        #expect(inside.accessToken != first.accessToken)
        #expect(inside.expiresIn == 7200)
        #expect(mock.validate(token: try #require(first.accessToken)) == .ok, "the old token lives on for the overlap")
    }

    @Test func forceRefreshIssuesANewToken() async throws {
        let mock = try Fixture.mock()
        let (first, forced) = try await withRouter(mock) { client in
            (try await client.stableToken(), try await client.stableToken(forceRefresh: true))
        }
        #expect(forced.accessToken != first.accessToken)
        #expect(forced.expiresIn == 7200)
    }

    @Test func forceRefreshBeyondTheDailyLimitAnswers45009() async throws {
        let mock = try Fixture.mock { $0.stableForceRefreshDailyLimit = 1 }
        let (allowed, refused) = try await withRouter(mock) { client in
            (try await client.stableToken(forceRefresh: true), try await client.stableToken(forceRefresh: true))
        }
        #expect(allowed.accessToken != nil)
        #expect(refused.errcode == 45009)
    }

    @Test func wrongSecretAnswers40125() async throws {
        let mock = try Fixture.mock()
        let body = try await withRouter(mock) { try await $0.stableToken(secret: "wrong") }
        #expect(body.errcode == 40125)
    }

    @Test func missingAppidAnswers41002() async throws {
        let mock = try Fixture.mock()
        let body = try await withRouter(mock) {
            try await $0.post("/cgi-bin/stable_token", json: #"{"grant_type":"client_credential","secret":"x"}"#)
                .decode()
        }
        #expect(body.errcode == 41002)
    }

    @Test func malformedBodyAnswers47001() async throws {
        let mock = try Fixture.mock()
        let body = try await withRouter(mock) { try await $0.post("/cgi-bin/stable_token", json: "not json").decode() }
        #expect(body.errcode == 47001)
        #expect(mock.allStats().totals.stableTokenCalls == 1)
    }

    @Test func tokenEndpointDoesNotSupersedeStableTokens() async throws {
        let clock = ManualClock()
        let mock = try Fixture.mock(clock: clock)
        let stable = try await withRouter(mock) { client in
            let stable = try await client.stableToken()
            _ = try await client.token()
            _ = try await client.token()
            return stable
        }
        clock.advance(by: .seconds(301))
        #expect(mock.validate(token: try #require(stable.accessToken)) == .ok)
    }
}
