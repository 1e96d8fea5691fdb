import Foundation
import HTTPTypes
import HummingbirdTesting
import RedisClient
import Testing
import TokenCentral

/// `GET /v1/apps/{appid}/tickets/{type}` and `POST /v1/apps/{appid}/jssdk-config`, against tickets written
/// into Redis as the refresher stores them (raw value, PX).
@Suite(.timeLimit(.minutes(1))) struct HTTPTicketTests {
    static let ticket = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
    static let appid = HTTPTestWorker.appid

    /// A worker whose app keeps the jsapi ticket only; no refresher runs.
    static func run(apiKey: String? = nil, _ body: @escaping @Sendable (HTTPTestWorker) async throws -> Void) async throws {
        try await HTTPTestWorker.run(apiKey: apiKey, refresher: false, configure: { $0.apps[0].tickets = [.jsapi] }, body)
    }

    @Test func getTicketAnswersTheStoredTicketWithItsSecondsLeft() async throws {
        try await Self.run { worker in
            try await worker.seedTicket(Self.ticket, millisecondsLeft: 60_000)
            let response = try await worker.get("/v1/apps/\(Self.appid)/tickets/jsapi")
            #expect(response.status == .ok)
            let fields = try #require(try JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
            #expect(Set(fields.keys) == ["ticket", "expires_in"])
            #expect(fields["ticket"] as? String == Self.ticket)
            #expect((50...60).contains(fields["expires_in"] as? Int ?? 0))
        }
    }

    @Test func getTicketOfAnUnknownTypeIs400NamingTheValidOnes() async throws {
        try await Self.run { worker in
            let response = try await worker.get("/v1/apps/\(Self.appid)/tickets/card")
            #expect(response.status == .badRequest)
            #expect(try response.reply().error == "bad_request")
            #expect(try response.reply().message?.contains("jsapi, wx_card") == true)
        }
    }

    @Test func getTicketTheAppIsNotConfiguredWithIs404() async throws {
        try await Self.run { worker in
            let response = try await worker.get("/v1/apps/\(Self.appid)/tickets/wx_card")
            #expect(response.status == .notFound)
            #expect(try response.reply().error == "ticket_not_configured")
        }
    }

    @Test func ticketRoutesOfAnUnknownAppAre404() async throws {
        try await Self.run { worker in
            #expect(try await worker.get("/v1/apps/wxstranger/tickets/jsapi").reply().error == "unknown_app")
            let config = try await worker.post("/v1/apps/wxstranger/jssdk-config", body: #"{"url":"https://example.com/"}"#)
            #expect(config.status == .notFound)
            #expect(try config.reply().error == "unknown_app")
        }
    }

    @Test func getTicketIs503WithTheLastUpstreamErrorBeforeAnyTicket() async throws {
        try await Self.run { worker in
            let meta = worker.store.keys.meta(Self.appid, .jsapi)
            try await worker.store.redis.send("HSET", meta, "error", "errcode 40001: invalid credential", "errcode", 40001)
            let response = try await worker.get("/v1/apps/\(Self.appid)/tickets/jsapi")
            #expect(response.status == .serviceUnavailable)
            #expect(try response.reply().error == "ticket_unavailable")
            #expect(try response.reply().message?.contains("errcode 40001") == true)
        }
    }

    @Test func ticketRoutesRequireTheBearerKey() async throws {
        try await Self.run(apiKey: "k3y") { worker in
            try await worker.seedTicket(Self.ticket)
            #expect(try await worker.get("/v1/apps/\(Self.appid)/tickets/jsapi").status == .unauthorized)
            let config = try await worker.post("/v1/apps/\(Self.appid)/jssdk-config", body: #"{"url":"https://example.com/"}"#)
            #expect(config.status == .unauthorized)
            #expect(try await worker.get("/v1/apps/\(Self.appid)/tickets/jsapi", bearer: "k3y").status == .ok)
        }
    }

    @Test func jssdkConfigSignsThePageWithoutItsFragmentUsingTheStoredTicket() async throws {
        try await Self.run { worker in
            try await worker.seedTicket(Self.ticket)
            let page = "https://shop.example.com/item?id=7&from=timeline"
            let before = Int64(Date().timeIntervalSince1970)
            let config = try await worker.jssdkConfig(url: page + "#/detail")
            let after = Int64(Date().timeIntervalSince1970)
            #expect(config.appId == Self.appid)
            #expect((before...after).contains(config.timestamp))
            #expect(config.nonceStr.count == 16)
            let stored = try #require(try await worker.store.redis.send("GET", worker.store.keys.ticket(Self.appid, .jsapi)).string)
            let expected = JSSDKSignature(jsapiTicket: stored, nonceStr: config.nonceStr, timestamp: config.timestamp, url: page)
            #expect(config.signature == expected.signature)
        }
    }

    @Test func jssdkConfigUsesAFreshNonceEachTime() async throws {
        try await Self.run { worker in
            try await worker.seedTicket(Self.ticket)
            let first = try await worker.jssdkConfig(url: "https://example.com/")
            let second = try await worker.jssdkConfig(url: "https://example.com/")
            #expect(first.nonceStr != second.nonceStr)
        }
    }

    @Test(arguments: [
        "", "{}", #"{"url":""}"#, #"{"url":"/relative/page"}"#, #"{"url":"ftp://example.com/"}"#, #"{"url":"https:///path"}"#,
        #"{"url":"https://example.com/a b"}"#, #"{"url":7}"#, "not json",
    ])
    func jssdkConfigRejectsABodyWithoutAnAbsoluteHTTPURL(body: String) async throws {
        try await Self.run { worker in
            try await worker.seedTicket(Self.ticket)
            let response = try await worker.post("/v1/apps/\(Self.appid)/jssdk-config", body: body)
            #expect(response.status == .badRequest)
            #expect(try response.reply().error == "bad_request")
        }
    }

    @Test func jssdkConfigRejectsAnOverlongURL() async throws {
        try await Self.run { worker in
            try await worker.seedTicket(Self.ticket)
            let url = "https://example.com/" + String(repeating: "a", count: JSSDKPageURL.maximumLength)
            let response = try await worker.post("/v1/apps/\(Self.appid)/jssdk-config", body: #"{"url":"\#(url)"}"#)
            #expect(response.status == .badRequest)
            #expect(try response.reply().message?.contains("at most \(JSSDKPageURL.maximumLength)") == true)
        }
    }

    @Test func jssdkConfigIs503WithoutATicket() async throws {
        try await Self.run { worker in
            let response = try await worker.post("/v1/apps/\(Self.appid)/jssdk-config", body: #"{"url":"https://example.com/"}"#)
            #expect(response.status == .serviceUnavailable)
            #expect(try response.reply().error == "ticket_unavailable")
        }
    }
}

/// `{"appId":...,"timestamp":...,"nonceStr":...,"signature":...}`.
struct JSSDKConfigReply: Decodable {
    var appId: String
    var timestamp: Int64
    var nonceStr: String
    var signature: String
}

extension HTTPTestWorker {
    /// Stores `ticket` as the refresher does: the raw value under `P:{APPID}:jsapi_ticket` with a PX TTL.
    func seedTicket(_ ticket: String, _ type: TicketType = .jsapi, millisecondsLeft: Int = 60_000) async throws {
        try await store.redis.send("SET", store.keys.ticket(Self.appid, type), ticket, "PX", millisecondsLeft)
    }

    /// `POST /v1/apps/{appid}/jssdk-config` for `url`, expecting 200.
    func jssdkConfig(url: String) async throws -> JSSDKConfigReply {
        let response = try await post("/v1/apps/\(Self.appid)/jssdk-config", body: #"{"url":"\#(url)"}"#)
        #expect(response.status == .ok, "\(response.text)")
        return try JSONDecoder().decode(JSSDKConfigReply.self, from: Data(response.text.utf8))
    }
}
