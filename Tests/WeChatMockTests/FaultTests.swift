import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import WeChatMock

/// Injected faults on the token endpoints.
@Suite struct FaultTests {
    @Test(arguments: [-1, 45011, 40164, 89503])
    func errcodeFaultAnswersTheErrcodeThenRecovers(errcode: Int) async throws {
        let mock = try Fixture.mock()
        mock.inject(.errcode(errcode, count: 2))
        let bodies = try await withRouter(mock) { client in
            [try await client.token(), try await client.stableToken(), try await client.token()]
        }
        #expect(bodies.map(\.errcode) == [errcode, errcode, nil])
        #expect(bodies[0].errmsg?.isEmpty == false)
    }

    @Test func http500FaultAnswersAnHTMLServerError() async throws {
        let mock = try Fixture.mock()
        mock.inject(.http500(count: 1))
        let response = try await withRouter(mock) {
            try await $0.execute(uri: "/cgi-bin/gettoken?corpid=x&corpsecret=y", method: .get)
        }
        #expect(response.status == .internalServerError)
        #expect(response.text.contains("<html>"))
    }

    @Test func garbageFaultAnswers200WithANonJSONBody() async throws {
        let mock = try Fixture.mock()
        mock.inject(.garbage(count: 1))
        let response = try await withRouter(mock) {
            try await $0.execute(uri: "/cgi-bin/token?grant_type=client_credential&appid=a&secret=b", method: .get)
        }
        #expect(response.status == .ok)
        #expect(throws: (any Error).self) { try response.decode() }
    }

    @Test func latencyFaultDelaysThenAnswersNormally() async throws {
        let mock = try Fixture.mock()
        mock.inject(.latency(.milliseconds(200), count: 1))
        let started = ContinuousClock.now
        let body = try await withRouter(mock) { try await $0.token() }
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        #expect(body.accessToken != nil)
    }

    @Test func hangFaultDoesNotAnswerWithinAClientTimeout() async throws {
        let mock = try Fixture.mock()
        mock.inject(.hang(count: 1))
        let answeredFirst = try await withRouter(mock) { client in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    _ = try await client.token()
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(300))
                    return false
                }
                defer { group.cancelAll() }
                return try await group.next() ?? false
            }
        }
        #expect(!answeredFirst)
    }

    @Test func hangFaultIsCutShortWhenTheServerStops() async throws {
        let mock = try Fixture.mock()
        mock.inject(.hang(count: 1))
        let started = ContinuousClock.now
        let status = try await withThrowingTaskGroup(of: HTTPResponse.Status?.self) { group in
            try await withWeChatMockServer(mock) { url in
                let port = try #require(url.port)
                group.addTask {
                    try? await TestClient.withClient(host: "127.0.0.1", port: port) { client in
                        try await client.get("/cgi-bin/token?appid=\(Fixture.appid)").status
                    }
                }
                try await waitUntil { mock.stats(appid: Fixture.appid).tokenCalls == 1 }
            }
            return try await group.next() ?? nil
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(status != .ok)
    }

    @Test func appTargetedFaultSparesOtherApps() async throws {
        let mock = try Fixture.mock()
        mock.inject(.errcode(-1, count: .max), appid: Fixture.appid)
        let (target, other) = try await withRouter(mock) { client in
            (try await client.token(), try await client.token(appid: Fixture.otherAppid, secret: Fixture.otherSecret))
        }
        #expect(target.errcode == -1)
        #expect(other.accessToken != nil)
    }

    @Test func faultsDoNotAffectValidation() async throws {
        let mock = try Fixture.mock()
        let body = try await withRouter(mock) { client in
            let token = try #require(try await client.token().accessToken)
            mock.inject(.http500(count: .max))
            return try await client.callbackIP(token: token)
        }
        #expect(body.ipList != nil)
    }

    @Test func clearFaultsEndsUntilClearedFaults() async throws {
        let mock = try Fixture.mock()
        mock.inject(.errcode(-1, count: .max))
        let bodies = try await withRouter(mock) { client in
            let faulty = try await client.token()
            mock.clearFaults()
            return [faulty, try await client.token()]
        }
        #expect(bodies.map(\.errcode) == [-1, nil])
    }

    @Test func faultedCallsAreCounted() async throws {
        let mock = try Fixture.mock()
        mock.inject(.garbage(count: 1))
        _ = try await withRouter(mock) {
            try await $0.execute(uri: "/cgi-bin/token?appid=\(Fixture.appid)", method: .get)
        }
        #expect(mock.stats(appid: Fixture.appid).tokenCalls == 1)
    }
}
