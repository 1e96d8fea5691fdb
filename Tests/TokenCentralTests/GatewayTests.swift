import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
@testable import TokenCentral
import WeChatMock

/// The gateway: WeChat API calls forwarded to wechat-mock with the current token injected.
@Suite(.timeLimit(.minutes(1))) struct GatewayTests {
    static let appid = HTTPTestWorker.appid

    @Sendable static func enableGateway(_ configuration: inout TokendConfiguration) {
        configuration.gateway.enabled = true
        configuration.gateway.tokenWait = .seconds(5)
    }

    static func run(_ body: @escaping @Sendable (HTTPTestWorker) async throws -> Void) async throws {
        try await HTTPTestWorker.run(configure: enableGateway, body)
    }

    @Test func aCallWithTheStoredTokenIsForwardedWithItsOtherParameters() async throws {
        try await Self.run { worker in
            let record = try await worker.firstToken()
            let response = try await worker.get("/cgi-bin/getcallbackip?access_token=\(record.token)&lang=zh_CN")
            #expect(response.status == .ok)
            #expect(try response.reply().ipList == ["127.0.0.1"])
            #expect(worker.mock.stats(appid: Self.appid).validationsOK == 1)
        }
    }

    @Test func aRecentlyReplacedTokenIsReplacedByTheCurrentOne() async throws {
        try await Self.run { worker in
            let first = try await worker.firstToken()
            #expect(try await worker.get("/cgi-bin/getcallbackip?access_token=\(first.token)").reply().ipList != nil)
            let refreshed = try await worker.post("/v1/apps/\(Self.appid)/refresh", body: #"{"bad_token":"\#(first.token)"}"#).reply()
            #expect(refreshed.refreshed == true)
            let response = try await worker.get("/cgi-bin/getcallbackip?access_token=\(first.token)")
            #expect(try response.reply().ipList == ["127.0.0.1"])
            let stats = worker.mock.stats(appid: Self.appid)
            #expect(stats.validationsOK == 2)
            #expect(stats.validationsInvalid == 0)
        }
    }

    @Test func aTokenReplacedBeforeThisWorkerServedItIsAcceptedThroughItsOverlap() async throws {
        try await Self.run { worker in
            let first = try await worker.firstToken()
            let index = try #require(worker.application.gateway?.index)
            try await waitUntil("the gateway learned the first token from its announcement") { await index.live(first.token) != nil }
            let refreshed = try await worker.post("/v1/apps/\(Self.appid)/refresh", body: #"{"bad_token":"\#(first.token)"}"#).reply()
            #expect(refreshed.refreshed == true)
            let response = try await worker.get("/cgi-bin/getcallbackip?access_token=\(first.token)")
            #expect(try response.reply().ipList == ["127.0.0.1"])
        }
    }

    /// Well within the 5 s `refresh.check_interval` at which the index used to re-read every app's key.
    @Test func anAnnouncedTokenIsKnownToTheGatewayAtOnce() async throws {
        try await Self.run { worker in
            _ = try await worker.firstToken()
            let index = try #require(worker.application.gateway?.index)
            try await waitUntil("the worker subscribed") {
                !worker.application.refresher.health.problems.contains { $0.reason == .notSubscribed }
            }
            try await worker.seedToken("announced-token")
            try await waitUntil("the gateway learned the announced token", timeout: .seconds(2)) {
                await index.live("announced-token") != nil
            }
        }
    }

    @Test func aTokenThatIsNotOursIsRejectedWithoutCallingWeChat() async throws {
        try await Self.run { worker in
            _ = try await worker.firstToken()
            let reply = try await worker.get("/cgi-bin/getcallbackip?access_token=not-ours").reply()
            #expect(reply.errcode == 40001)
            #expect(worker.mock.allStats().totals.validationsOK + worker.mock.allStats().totals.validationsInvalid == 0)
        }
    }

    @Test func aCallWithoutATokenIs41001() async throws {
        try await Self.run { worker in
            let reply = try await worker.get("/cgi-bin/getcallbackip").reply()
            #expect(reply.errcode == 41001)
        }
    }

    @Test func aPathOutsideTheAllowListIsNotForwarded() async throws {
        try await Self.run { worker in
            let record = try await worker.firstToken()
            let response = try await worker.get("/sns/userinfo?access_token=\(record.token)")
            #expect(response.status == .notFound)
        }
    }

    @Test func aRejectedTokenIsReportedAndTheCallRetriedOnceWithTheNewToken() async throws {
        try await Self.run { worker in
            let record = try await worker.firstToken()
            worker.mock.revoke(appid: Self.appid)
            let response = try await worker.get("/cgi-bin/getcallbackip?access_token=\(record.token)")
            #expect(try response.reply().ipList == ["127.0.0.1"])
            let stats = worker.mock.stats(appid: Self.appid)
            #expect(stats.tokenCalls == 2)
            #expect(stats.validationsInvalid == 1)
            #expect(stats.validationsOK == 1)
            let metrics = try await worker.get("/metrics").text
            #expect(sampleValue("tokencentral_gateway_retries_total", in: metrics) == 1)
            #expect(sampleValue(#"tokencentral_gateway_calls_total{outcome="forwarded"}"#, in: metrics) == 1)
            #expect(sampleValue(#"tokencentral_gateway_upstream_responses_total{class="2xx"}"#, in: metrics) == 2)
        }
    }

    @Test func aMediaUploadAndDownloadStreamThroughUnchanged() async throws {
        try await Self.run { worker in
            let record = try await worker.firstToken()
            let media = ByteBuffer(bytes: (0..<(1024 * 1024)).map { _ in UInt8.random(in: 0...255) })
            let upload = try await worker.post("/cgi-bin/media/upload?access_token=\(record.token)&type=image", bytes: media).reply()
            let mediaID = try #require(upload.mediaID)
            let download = try await worker.get("/cgi-bin/media/get?access_token=\(record.token)&media_id=\(mediaID)")
            #expect(download.status == .ok)
            #expect(download.body == media)
        }
    }

    @Test func aBodyOverTheLimitIsRefusedWith413() async throws {
        try await HTTPTestWorker.run(configure: { configuration in
            Self.enableGateway(&configuration)
            configuration.gateway.maxBodySize = 1000
        }) { worker in
            let record = try await worker.firstToken()
            let response = try await worker.post("/cgi-bin/media/upload?access_token=\(record.token)", bytes: ByteBuffer(repeating: 1, count: 1001))
            #expect(response.status == .contentTooLarge)
            #expect(try response.reply().errcode == -1)
        }
    }
}
