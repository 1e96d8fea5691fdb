import HummingbirdTesting
import Testing
import WeChatMock

/// WeCom `GET /cgi-bin/gettoken`.
@Suite struct CorpTokenEndpointTests {
    @Test func issuesTokenWithErrcodeZero() async throws {
        let mock = try Fixture.mock()
        let body = try await withRouter(mock) { try await $0.corpToken() }
        #expect(body.errcode == 0)
        #expect(body.errmsg == "ok")
        #expect(body.accessToken != nil)
        #expect(body.expiresIn == 7200)
    }

    @Test func repeatedCallsReturnTheSameTokenUntilItExpires() async throws {
        let clock = ManualClock()
        let mock = try Fixture.mock(clock: clock)
        let bodies = try await withRouter(mock) { client in
            let first = try await client.corpToken()
            clock.advance(by: .seconds(200))
            let second = try await client.corpToken()
            clock.advance(by: .seconds(7000))
            return [first, second, try await client.corpToken()]
        }
        #expect(bodies[1].accessToken == bodies[0].accessToken)
        #expect(bodies[1].expiresIn == 7000)
        #expect(bodies[2].accessToken != bodies[0].accessToken)
    }

    @Test func unknownCorpidAnswers40013() async throws {
        let mock = try Fixture.mock()
        let body = try await withRouter(mock) { try await $0.corpToken(corpid: "ww-stranger") }
        #expect(body.errcode == 40013)
        #expect(body.errmsg == "invalid corpid")
    }

    @Test func wrongCorpsecretAnswers40001() async throws {
        let mock = try Fixture.mock()
        let body = try await withRouter(mock) { try await $0.corpToken(corpsecret: "wrong") }
        #expect(body.errcode == 40001)
        #expect(body.errmsg == "invalid credential")
    }

    @Test func answers45009OnceTheQuotaIsSpent() async throws {
        let mock = try Fixture.mock { $0.dailyQuota = 1 }
        let bodies = try await withRouter(mock) { client in
            [try await client.corpToken(), try await client.corpToken()]
        }
        #expect(bodies.map(\.errcode) == [0, 45009])
        #expect(mock.stats(appid: Fixture.corpid).getTokenCalls == 2)
    }
}
