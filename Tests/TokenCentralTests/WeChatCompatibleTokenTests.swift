import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing
import TokenCentral
import WeChatMock

/// WeChat's own token endpoints on the worker: answered from Redis, authenticated by the app secret.
@Suite(.timeLimit(.minutes(1))) struct WeChatCompatibleTokenTests {
    static let tokenQuery = "/cgi-bin/token?grant_type=client_credential&appid=\(HTTPTestWorker.appid)&secret=\(HTTPTestWorker.secret)"

    @Test func tokenEndpointAnswersTheStoredTokenInWeChatShapeWithoutCallingWeChat() async throws {
        try await HTTPTestWorker.run { worker in
            let record = try await worker.firstToken()
            let response = try await worker.get(Self.tokenQuery)
            #expect(response.status == .ok)
            let fields = try #require(try JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
            #expect(Set(fields.keys) == ["access_token", "expires_in"])
            let reply = try response.reply()
            #expect(reply.accessToken == record.token)
            #expect((1...HTTPTestWorker.tokenLifetime).contains(try #require(reply.expiresIn)))
            #expect(worker.mock.stats(appid: HTTPTestWorker.appid).tokenCalls == 1)
        }
    }

    @Test func stableTokenEndpointAnswersTheStoredToken() async throws {
        try await HTTPTestWorker.run(refresher: false) { worker in
            try await worker.seedToken("seeded-token")
            let body = #"{"grant_type":"client_credential","appid":"\#(HTTPTestWorker.appid)","secret":"\#(HTTPTestWorker.secret)"}"#
            let reply = try await worker.post("/cgi-bin/stable_token", body: body).reply()
            #expect(reply.accessToken == "seeded-token")
            #expect(reply.errcode == nil)
        }
    }

    @Test(arguments: [
        ("grant_type=client_credential&secret=s", 41002),
        ("grant_type=client_credential&appid=\(HTTPTestWorker.appid)", 41004),
        ("grant_type=password&appid=\(HTTPTestWorker.appid)&secret=\(HTTPTestWorker.secret)", 40002),
        ("grant_type=client_credential&appid=wxstranger&secret=\(HTTPTestWorker.secret)", 40013),
        ("grant_type=client_credential&appid=\(HTTPTestWorker.appid)&secret=wrong", 40125),
    ])
    func tokenEndpointAnswersWeChatsErrcodeForABadRequest(query: String, errcode: Int) async throws {
        try await HTTPTestWorker.run(refresher: false) { worker in
            try await worker.seedToken("seeded-token")
            let response = try await worker.get("/cgi-bin/token?\(query)")
            #expect(response.status == .ok)
            let reply = try response.reply()
            #expect(reply.errcode == errcode)
            #expect(reply.accessToken == nil)
            #expect(!response.text.contains(HTTPTestWorker.secret))
        }
    }

    @Test func stableTokenWithAMalformedBodyIs47001() async throws {
        try await HTTPTestWorker.run(refresher: false) { worker in
            let reply = try await worker.post("/cgi-bin/stable_token", body: "not json").reply()
            #expect(reply.errcode == 47001)
        }
    }

    @Test func stableTokenForceRefreshReportsTheCurrentTokenAndAnswersItsReplacement() async throws {
        try await HTTPTestWorker.run { worker in
            let first = try await worker.firstToken()
            let body = #"{"grant_type":"client_credential","appid":"\#(HTTPTestWorker.appid)","secret":"\#(HTTPTestWorker.secret)","force_refresh":true}"#
            let reply = try await worker.post("/cgi-bin/stable_token", body: body).reply()
            let replacement = try #require(reply.accessToken)
            #expect(replacement != first.token)
            #expect(try await worker.store.readableToken(HTTPTestWorker.appid)?.token == replacement)
            #expect(worker.mock.stats(appid: HTTPTestWorker.appid).tokenCalls == 2)
            // The refresher settles the request it got accepted once it reads the new token, which may
            // be just after the answer went out.
            try await waitUntil("the forced refresh is counted as refreshed") { try await worker.forcedRefreshCount("refreshed") == 1 }
        }
    }

    @Test func gettokenAnswersTheWeComAppWhoseSecretMatches() async throws {
        try await HTTPTestWorker.run(refresher: false, configure: Self.addWeComApp) { worker in
            try await worker.seedToken("corp-token", appid: "wwcorp1-1000002")
            let response = try await worker.get("/cgi-bin/gettoken?corpid=\(HTTPTestWorker.corpid)&corpsecret=\(HTTPTestWorker.corpsecret)")
            let reply = try response.reply()
            #expect(reply.errcode == 0)
            #expect(reply.errmsg == "ok")
            #expect(reply.accessToken == "corp-token")
            #expect((1...HTTPTestWorker.tokenLifetime).contains(try #require(reply.expiresIn)))
        }
    }

    @Test(arguments: [("corpid=\(HTTPTestWorker.corpid)&corpsecret=wrong", 40001), ("corpid=wwstranger&corpsecret=x", 40013),
                      ("corpsecret=x", 41002), ("corpid=\(HTTPTestWorker.corpid)", 41004)])
    func gettokenAnswersWeComsErrcodeForABadRequest(query: String, errcode: Int) async throws {
        try await HTTPTestWorker.run(refresher: false, configure: Self.addWeComApp) { worker in
            try await worker.seedToken("corp-token", appid: "wwcorp1-1000002")
            let reply = try await worker.get("/cgi-bin/gettoken?\(query)").reply()
            #expect(reply.errcode == errcode)
            #expect(reply.accessToken == nil)
        }
    }

    @Sendable static func addWeComApp(_ configuration: inout TokendConfiguration) {
        configuration.apps.append(AppConfiguration(
            appid: "wwcorp1-1000002", grant: .wecom, secret: Secret(HTTPTestWorker.corpsecret), corpid: HTTPTestWorker.corpid))
    }
}
