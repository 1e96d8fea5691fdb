import Foundation
import RedisClient
import TestSupport
import Testing
import TokenCentral
import TokenCentralClient

@Suite struct ClientReportTests {
    @Test func reportInvalidPublishesTheBadTokenAsJSON() async throws {
        let fixture = try ClientFixture(url: try sharedRedisURL())
        let client = TokenCentralClient(redis: fixture.redis, keyPrefix: fixture.prefix)
        var requests = fixture.redis.subscribe(channels: ["\(fixture.prefix):refresh"]).makeAsyncIterator()
        #expect(await requests.next() == .subscribed)

        let badToken = #"ACCESS/token"with"quotes\"#
        try await client.reportInvalid(appid: fixture.appid, token: badToken)

        guard case .message(let message) = await requests.next() else {
            Issue.record("no message on \(fixture.prefix):refresh")
            return
        }
        let object = try JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: String]
        #expect(object == ["appid": fixture.appid, "bad_token": badToken])
        // What the workers make of it.
        #expect(RefreshMessage.parse(message.payload) == .success(RefreshMessage(appid: fixture.appid, badToken: badToken)))
    }

    @Test func reportInvalidDropsTheCachedToken() async throws {
        let fixture = try ClientFixture(url: try sharedRedisURL())
        try await fixture.writeToken("rejected")
        try await fixture.withListeningClient { client in
            _ = try await client.accessToken(for: fixture.appid)
            try await fixture.writeToken("replacement")
            try await client.reportInvalid(appid: fixture.appid, token: "rejected")
            #expect(try await client.accessToken(for: fixture.appid) == "replacement")
        }
        try await fixture.cleanUp()
    }

    @Test func missingTokenIsNoToken() async throws {
        let fixture = try ClientFixture(url: try sharedRedisURL())
        let client = TokenCentralClient(redis: fixture.redis, keyPrefix: fixture.prefix)
        let error = await #expect(throws: TokenCentralClientError.self) {
            try await client.accessToken(for: fixture.appid)
        }
        #expect(error?.code == .noToken)
        #expect(error?.key == fixture.tokenKey)
    }

    @Test func unreachableRedisIsARedisError() async throws {
        let client = TokenCentralClient(redis: try RedisClient(url: "redis://127.0.0.1:\(try freeLoopbackPort())/0"))
        let error = await #expect(throws: TokenCentralClientError.self) {
            try await client.accessToken(for: "wxany")
        }
        #expect(error?.code == .redis)
        #expect(error?.underlying?.code == .connectionFailed)
    }
}
