import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import WeChatMock

/// The `/mock/...` admin API used by scripts and the chaos suite.
@Suite struct AdminAPITests {
    @Test func statsListPerAppCountersAndTotals() async throws {
        let mock = try Fixture.mock()
        let stats = try await withRouter(mock) { client in
            _ = try await client.token()
            _ = try await client.token(appid: nil)
            return try await client.execute(uri: "/mock/stats", method: .get).decode(MockStats.self)
        }
        #expect(stats.apps[Fixture.appid]?.tokenCalls == 1)
        #expect(stats.totals.tokenCalls == 2)
        #expect(stats == mock.allStats())
    }

    @Test func statsForOneAppUseSnakeCaseKeys() async throws {
        let mock = try Fixture.mock()
        let text = try await withRouter(mock) { client in
            _ = try await client.stableToken()
            return try await client.execute(uri: "/mock/stats/\(Fixture.appid)", method: .get).text
        }
        #expect(text.contains(#""stable_token_calls":1"#))
        #expect(text.contains(#""tokens_issued":1"#))
    }

    @Test func postedFaultIsInflicted() async throws {
        let mock = try Fixture.mock()
        let (status, body) = try await withRouter(mock) { client in
            let posted = try await client.post(
                "/mock/faults",
                json: #"{"appid":"\#(Fixture.appid)","kind":"errcode","errcode":-1,"count":1}"#
            )
            return (posted.status, try await client.token())
        }
        #expect(status == .noContent)
        #expect(body.errcode == -1)
    }

    @Test func revokedTokenIsRejectedAtOnceAndAnUnknownAppIs404() async throws {
        let mock = try Fixture.mock()
        let (token, revoked, unknown) = try await withRouter(mock) { client in
            let token = try #require(try await client.token().accessToken)
            let revoked = try await client.post("/mock/apps/\(Fixture.appid)/revoke", json: "")
            let unknown = try await client.post("/mock/apps/wxnobody/revoke", json: "")
            return (token, revoked.status, unknown.status)
        }
        #expect(revoked == .noContent)
        #expect(unknown == .notFound)
        #expect(mock.validate(token: token) == .superseded)
    }

    @Test func postedFaultWithCountMinusOneLastsUntilDeleted() async throws {
        let mock = try Fixture.mock()
        let bodies = try await withRouter(mock) { client in
            _ = try await client.post("/mock/faults", json: #"{"kind":"latency","latency_ms":1,"count":-1}"#)
            _ = try await client.post("/mock/faults", json: #"{"kind":"http500"}"#)
            let delayed = try await client.token()
            _ = try await client.execute(uri: "/mock/faults", method: .delete)
            return [delayed, try await client.token()]
        }
        #expect(bodies.allSatisfy { $0.accessToken != nil })
        #expect(mock.stats(appid: Fixture.appid).tokensIssued == 2)
    }

    @Test(arguments: [
        #"{"kind":"meteor"}"#,
        #"{"kind":"errcode"}"#,
        #"{"kind":"latency"}"#,
        #"{"kind":"garbage","count":0}"#,
        "not json",
    ])
    func invalidFaultIsRejectedWith400(json: String) async throws {
        let mock = try Fixture.mock()
        let status = try await withRouter(mock) { try await $0.post("/mock/faults", json: json).status }
        #expect(status == .badRequest)
    }

    @Test func resetForgetsTokensAndCounters() async throws {
        let mock = try Fixture.mock()
        let (status, validation) = try await withRouter(mock) { client in
            let token = try #require(try await client.token().accessToken)
            let status = try await client.execute(uri: "/mock/reset", method: .post).status
            return (status, try await client.callbackIP(token: token))
        }
        #expect(status == .noContent)
        #expect(validation.errcode == 40001)
        #expect(mock.stats(appid: Fixture.appid).tokenCalls == 0)
    }

    @Test func putAppRegistersItsSecret() async throws {
        let mock = try Fixture.mock()
        let (status, body) = try await withRouter(mock) { client in
            let put = try await client.execute(
                uri: "/mock/apps/wx-new",
                method: .put,
                body: ByteBuffer(string: #"{"secret":"fresh"}"#)
            )
            return (put.status, try await client.token(appid: "wx-new", secret: "fresh"))
        }
        #expect(status == .noContent)
        #expect(body.accessToken != nil)
    }
}
