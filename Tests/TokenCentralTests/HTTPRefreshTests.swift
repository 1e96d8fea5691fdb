import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing
import TokenCentral
import WeChatMock

/// `POST /v1/apps/{appid}/refresh`.
@Suite(.timeLimit(.minutes(1))) struct HTTPRefreshTests {
    private let uri = "/v1/apps/\(HTTPTestWorker.appid)/refresh"

    @Test func currentTokenAsBadTokenIsReplacedWithOneUpstreamCall() async throws {
        try await HTTPTestWorker.run { [uri] worker in
            let bad = try await worker.firstToken()
            let calls = worker.mock.stats(appid: HTTPTestWorker.appid).tokenCalls
            let response = try await worker.post(uri, body: #"{"bad_token":"\#(bad.token)"}"#)
            #expect(response.status == .ok)
            let reply = try response.reply()
            #expect(reply.accessToken != nil && reply.accessToken != bad.token)
            #expect(reply.generation == bad.generation + 1)
            #expect(reply.refreshed == true)
            #expect(worker.mock.stats(appid: HTTPTestWorker.appid).tokenCalls == calls + 1)
        }
    }

    @Test func staleBadTokenReturnsCurrentTokenWithoutUpstreamCall() async throws {
        try await HTTPTestWorker.run { [uri] worker in
            let current = try await worker.firstToken()
            let calls = worker.mock.stats(appid: HTTPTestWorker.appid).tokenCalls
            let response = try await worker.post(uri, body: #"{"bad_token":"an-already-replaced-token"}"#)
            #expect(response.status == .ok)
            let reply = try response.reply()
            #expect(reply.accessToken == current.token)
            #expect(reply.refreshed == false)
            // The refresher handles the request after the answer: wait until it has, then count.
            try await waitUntil("the refresher deduplicated the request") {
                try await worker.forcedRefreshCount("deduplicated") >= 1
            }
            #expect(worker.mock.stats(appid: HTTPTestWorker.appid).tokenCalls == calls)
        }
    }

    @Test func withoutBadTokenFetchesANewToken() async throws {
        try await HTTPTestWorker.run { [uri] worker in
            let old = try await worker.firstToken()
            let response = try await worker.post(uri)
            #expect(response.status == .ok)
            let reply = try response.reply()
            #expect(reply.accessToken != old.token)
            #expect(reply.refreshed == true)
        }
    }

    @Test func withoutBadTokenWithinCooldownReturnsCurrentTokenAtOnce() async throws {
        try await HTTPTestWorker.run { [uri] worker in
            _ = try await worker.firstToken()
            let first = try await worker.post(uri).reply()
            let calls = worker.mock.stats(appid: HTTPTestWorker.appid).tokenCalls
            let started = ContinuousClock.now
            let second = try await worker.post(uri)
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(second.status == .ok)
            let reply = try second.reply()
            #expect(reply.accessToken == first.accessToken)
            #expect(reply.refreshed == false)
            try await waitUntil("the refresher applied the cooldown") {
                try await worker.forcedRefreshCount("cooldown") >= 1
            }
            #expect(worker.mock.stats(appid: HTTPTestWorker.appid).tokenCalls == calls)
        }
    }

    @Test func badTokenStillCurrentAtTheDeadlineIs504() async throws {
        try await HTTPTestWorker.run { [uri] worker in
            let bad = try await worker.firstToken()
            worker.mock.inject(.hang(count: .max), appid: HTTPTestWorker.appid)
            let response = try await worker.post(uri, body: #"{"bad_token":"\#(bad.token)"}"#)
            #expect(response.status == .gatewayTimeout)
            #expect(try response.reply().error == "refresh_timeout")
            #expect(!response.text.contains(bad.token))
        }
    }

    @Test func aReportThroughATransientFailureIsAnsweredWithTheNewToken() async throws {
        try await HTTPTestWorker.run { [uri] worker in
            let bad = try await worker.firstToken()
            worker.mock.inject(.http500(count: 1), appid: HTTPTestWorker.appid)
            let response = try await worker.post(uri, body: #"{"bad_token":"\#(bad.token)"}"#)
            #expect(response.status == .ok)
            let reply = try response.reply()
            #expect(reply.refreshed == true)
            #expect(reply.accessToken != nil && reply.accessToken != bad.token)
            try await waitUntil("the request was counted as refreshed") { try await worker.forcedRefreshCount("refreshed") == 1 }
            #expect(try await worker.forcedRefreshCount("refused") == 0)
        }
    }

    @Test func aReportRefusedByUpstreamIsAnsweredAtOnceWithTheReason() async throws {
        // A 10 s upstream timeout puts the deadline (timeout + 2 s) far from "at once", even on a loaded machine.
        try await HTTPTestWorker.run(configure: { $0.upstream.timeout = .seconds(10) }) { [uri] worker in
            let bad = try await worker.firstToken()
            worker.mock.inject(.errcode(40125, count: 1), appid: HTTPTestWorker.appid)
            let started = ContinuousClock.now
            let response = try await worker.post(uri, body: #"{"bad_token":"\#(bad.token)"}"#)
            #expect(ContinuousClock.now - started < .seconds(6), "answered when refused, not at the 12 s deadline")
            #expect(response.status == .serviceUnavailable)
            let reply = try response.reply()
            #expect(reply.error == "refresh_refused")
            #expect(reply.reason?.contains("upstream refuses this app") == true)
        }
    }

    @Test func reportsBeyondTheHourlyBudgetAreAnswered429WithTheReason() async throws {
        try await HTTPTestWorker.run(configure: { $0.refresh.forcedHourlyBudget = 2 }) { [uri] worker in
            _ = try await worker.firstToken()
            let calls = worker.mock.stats(appid: HTTPTestWorker.appid).tokenCalls
            var statuses: [HTTPResponse.Status] = []
            var last: HTTPReply?
            for _ in 0..<5 {
                let current = try #require(try await worker.store.snapshot(HTTPTestWorker.appid).status.record?.token)
                let response = try await worker.post(uri, body: #"{"bad_token":"\#(current)"}"#)
                statuses.append(response.status)
                last = try response.reply()
            }
            #expect(statuses == [.ok, .ok, .tooManyRequests, .tooManyRequests, .tooManyRequests])
            #expect(last?.error == "refresh_budget")
            #expect(last?.reason?.contains("refresh.forced_hourly_budget") == true)
            #expect(worker.mock.stats(appid: HTTPTestWorker.appid).tokenCalls == calls + 2)
            #expect(try await worker.store.snapshot(HTTPTestWorker.appid).status.forcedRefusal?.reason == .hourlyBudget)
            #expect(try await worker.forcedRefreshCount("budget") == 3)
        }
    }

    @Test func aReportOfATokenYoungerThanTheMinimumAgeIsAnswered429AtOnce() async throws {
        try await HTTPTestWorker.run(configure: { $0.refresh.forcedMinTokenAge = .seconds(60) }) { [uri] worker in
            let young = try await worker.firstToken()
            let calls = worker.mock.stats(appid: HTTPTestWorker.appid).tokenCalls
            let response = try await worker.post(uri, body: #"{"bad_token":"\#(young.token)"}"#)
            #expect(response.status == .tooManyRequests)
            #expect(try response.reply().error == "refresh_budget")
            #expect(worker.mock.stats(appid: HTTPTestWorker.appid).tokenCalls == calls)
        }
    }

    @Test func malformedBodyIs400() async throws {
        try await HTTPTestWorker.run(refresher: false) { [uri] worker in
            let response = try await worker.post(uri, body: #"{"bad_token": "#)
            #expect(response.status == .badRequest)
            #expect(try response.reply().error == "bad_request")
        }
    }
}
