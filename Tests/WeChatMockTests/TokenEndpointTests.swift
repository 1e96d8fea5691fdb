import HummingbirdTesting
import Testing
import WeChatMock

/// `GET /cgi-bin/token`.
@Suite struct TokenEndpointTests {
    @Test func issuesTokenWithConfiguredLifetime() async throws {
        let mock = try Fixture.mock { $0.tokenLifetime = 600 }
        let body = try await withRouter(mock) { try await $0.token() }
        #expect(body.accessToken?.isEmpty == false)
        #expect(body.expiresIn == 600)
        #expect(body.errcode == nil)
    }

    @Test func everyCallIssuesAFreshToken() async throws {
        let mock = try Fixture.mock()
        let (first, second) = try await withRouter(mock) { client in
            (try await client.token(), try await client.token())
        }
        #expect(first.accessToken != second.accessToken)
    }

    @Test(arguments: [
        (appid: nil, secret: Fixture.secret, grantType: "client_credential", errcode: 41002),
        (appid: Fixture.appid, secret: nil, grantType: "client_credential", errcode: 41004),
        (appid: Fixture.appid, secret: Fixture.secret, grantType: "password", errcode: 40002),
        (appid: Fixture.appid, secret: Fixture.secret, grantType: nil, errcode: 40002),
        (appid: "wx-stranger", secret: Fixture.secret, grantType: "client_credential", errcode: 40013),
        (appid: Fixture.appid, secret: "wrong", grantType: "client_credential", errcode: 40125),
    ] as [(appid: String?, secret: String?, grantType: String?, errcode: Int)])
    func rejectsBadParametersWithWeChatErrcode(
        appid: String?,
        secret: String?,
        grantType: String?,
        errcode: Int
    ) async throws {
        let mock = try Fixture.mock()
        let body = try await withRouter(mock) { try await $0.token(appid: appid, secret: secret, grantType: grantType) }
        #expect(body.errcode == errcode)
        #expect(body.errmsg?.isEmpty == false)
        #expect(body.accessToken == nil)
    }

    @Test func answers45009OnceTheQuotaIsSpent() async throws {
        let mock = try Fixture.mock { $0.dailyQuota = 2 }
        let bodies = try await withRouter(mock) { client in
            [try await client.token(), try await client.token(), try await client.token()]
        }
        #expect(bodies.map(\.errcode) == [nil, nil, 45009])
        #expect(bodies.last?.errmsg == "reach max api daily quota limit")
    }

    @Test func quotaRefillsInTheNextWindow() async throws {
        let clock = ManualClock()
        let mock = try Fixture.mock(clock: clock) {
            $0.dailyQuota = 1
            $0.quotaWindow = .seconds(60)
        }
        let (spent, refilled) = try await withRouter(mock) { client in
            _ = try await client.token()
            let spent = try await client.token()
            clock.advance(by: .seconds(60))
            return (spent, try await client.token())
        }
        #expect(spent.errcode == 45009)
        #expect(refilled.accessToken != nil)
    }

    @Test func quotaIsPerApp() async throws {
        let mock = try Fixture.mock { $0.dailyQuota = 1 }
        let other = try await withRouter(mock) { client in
            _ = try await client.token()
            return try await client.token(appid: Fixture.otherAppid, secret: Fixture.otherSecret)
        }
        #expect(other.accessToken != nil)
    }

    @Test func everyCallIsCountedWhateverItsOutcome() async throws {
        let mock = try Fixture.mock()
        try await withRouter(mock) { client in
            _ = try await client.token()
            _ = try await client.token(secret: "wrong")
            _ = try await client.token(appid: nil)
        }
        #expect(mock.stats(appid: Fixture.appid).tokenCalls == 2)
        #expect(mock.stats(appid: Fixture.appid).tokensIssued == 1)
        #expect(mock.allStats().totals.tokenCalls == 3)
    }

    @Test func rotatedSecretReplacesTheOldOne() async throws {
        let mock = try Fixture.mock()
        mock.setSecret(appid: Fixture.appid, secret: "rotated")
        let (old, new) = try await withRouter(mock) { client in
            (try await client.token(), try await client.token(secret: "rotated"))
        }
        #expect(old.errcode == 40125)
        #expect(new.accessToken != nil)
    }
}
