import HummingbirdTesting
import Testing
import WeChatMock

/// `GET /cgi-bin/ticket/getticket`.
@Suite struct TicketEndpointTests {
    @Test func answersTheSameTicketWhileItLives() async throws {
        let clock = ManualClock()
        let mock = try Fixture.mock(clock: clock)
        let (first, later) = try await withRouter(mock) { client in
            let token = try #require(try await client.token().accessToken)
            let first = try await client.ticket(token: token)
            clock.advance(by: .seconds(7199))
            return (first, try await client.ticket(token: token))
        }
        #expect(first.ticket?.isEmpty == false)
        #expect(first.errcode == 0)
        #expect(first.errmsg == "ok")
        #expect(later.ticket == first.ticket)
    }

    @Test func expiresInIsAlwaysTheFullLifetimeNotTheTimeLeft() async throws {
        let clock = ManualClock()
        let mock = try Fixture.mock(clock: clock) { $0.tokenLifetime = 600 }
        let later = try await withRouter(mock) { client in
            let token = try #require(try await client.token().accessToken)
            _ = try await client.ticket(token: token)
            clock.advance(by: .seconds(500))
            return try await client.ticket(token: token)
        }
        #expect(later.expiresIn == 600)
    }

    @Test func answersANewTicketOnceTheOldOneExpired() async throws {
        let clock = ManualClock()
        let mock = try Fixture.mock(clock: clock) { $0.tokenLifetime = 600 }
        let (first, renewed) = try await withRouter(mock) { client in
            let first = try await client.ticket(token: try #require(try await client.token().accessToken))
            clock.advance(by: .seconds(600))
            return (first, try await client.ticket(token: try #require(try await client.token().accessToken)))
        }
        #expect(renewed.ticket != nil)
        #expect(renewed.ticket != first.ticket)
        #expect(mock.stats(appid: Fixture.appid).ticketsIssued == 2)
    }

    @Test func aNewTokenLeavesTheTicketValid() async throws {
        let mock = try Fixture.mock()
        let (first, second) = try await withRouter(mock) { client in
            let first = try await client.ticket(token: try #require(try await client.token().accessToken))
            return (first, try await client.ticket(token: try #require(try await client.token().accessToken)))
        }
        #expect(second.ticket == first.ticket)
    }

    @Test func jsapiAndCardTicketsDiffer() async throws {
        let mock = try Fixture.mock()
        let (jsapi, card) = try await withRouter(mock) { client in
            let token = try #require(try await client.token().accessToken)
            return (try await client.ticket(token: token), try await client.ticket(token: token, type: "wx_card"))
        }
        #expect(card.ticket != nil)
        #expect(card.ticket != jsapi.ticket)
    }

    @Test func aRetiredTokenIsAnswered40001() async throws {
        let mock = try Fixture.mock()
        let body = try await withRouter(mock) { client in
            let token = try #require(try await client.token().accessToken)
            mock.revoke(appid: Fixture.appid)
            return try await client.ticket(token: token)
        }
        #expect(body.errcode == 40001)
        #expect(body.ticket == nil)
    }

    @Test(arguments: [
        (token: "never-issued", type: "jsapi", errcode: 40001),
        (token: "", type: "jsapi", errcode: 41001),
    ])
    func rejectsBadTokensWithWeChatErrcode(token: String, type: String, errcode: Int) async throws {
        let mock = try Fixture.mock()
        let body = try await withRouter(mock) { try await $0.ticket(token: token, type: type) }
        #expect(body.errcode == errcode)
    }

    @Test func anExpiredTokenIsAnswered42001() async throws {
        let clock = ManualClock()
        let mock = try Fixture.mock(clock: clock) { $0.tokenLifetime = 600 }
        let body = try await withRouter(mock) { client in
            let token = try #require(try await client.token().accessToken)
            clock.advance(by: .seconds(600))
            return try await client.ticket(token: token)
        }
        #expect(body.errcode == 42001)
    }

    @Test func anUnknownTypeIsAnswered40097() async throws {
        let mock = try Fixture.mock()
        let body = try await withRouter(mock) { client in
            try await client.ticket(token: try #require(try await client.token().accessToken), type: "card")
        }
        #expect(body.errcode == 40097)
    }

    @Test func aWeComTokenIsAnswered40001() async throws {
        let mock = try Fixture.mock()
        let body = try await withRouter(mock) { client in
            try await client.ticket(token: try #require(try await client.corpToken().accessToken))
        }
        #expect(body.errcode == 40001)
    }

    @Test func hasAQuotaOfItsOwnApartFromTokens() async throws {
        let mock = try Fixture.mock {
            $0.dailyQuota = 1
            $0.ticketDailyQuota = 2
        }
        let bodies = try await withRouter(mock) { client in
            let token = try #require(try await client.token().accessToken)
            return [
                try await client.ticket(token: token), try await client.ticket(token: token),
                try await client.ticket(token: token),
            ]
        }
        #expect(bodies.map(\.errcode) == [0, 0, 45009])
    }

    @Test func callsAreCountedAndSufferTheirAppsFaults() async throws {
        let mock = try Fixture.mock()
        let body = try await withRouter(mock) { client in
            let token = try #require(try await client.token().accessToken)
            mock.inject(.errcode(-1, count: 1), appid: Fixture.appid)
            return try await client.ticket(token: token)
        }
        #expect(body.errcode == -1)
        #expect(mock.stats(appid: Fixture.appid).ticketCalls == 1)
    }
}
