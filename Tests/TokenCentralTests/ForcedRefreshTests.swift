import Foundation
import RedisClient
import TestSupport
import Testing
import TokenCentral
import WeChatMock

/// Forced refresh over `P:refresh`, with three workers and the real mock.
@Suite(.timeLimit(.minutes(2))) struct ForcedRefreshTests {
    static let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxforce": "s1"])
    static let apps: [AppConfiguration] = [.app("wxforce", secret: "s1")]

    @Test func stormOfIdenticalBadTokenMessagesCausesOneUpstreamCall() async throws {
        try await WorkerFleet.run(workers: 3, apps: Self.apps, mock: Self.mock) { fleet, workers in
            try await fleet.waitForGeneration("wxforce", atLeast: 1)
            let bad = try #require(try await fleet.currentToken("wxforce"))
            let message = try Self.message(appid: "wxforce", badToken: bad)
            let channel = fleet.store.keys.refreshChannel
            // 10,000 messages from 10 connections, pipelined: well within one second.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        let publisher = try RedisClient(url: fleet.redisURL, configuration: .init(poolSize: 1))
                        _ = try await publisher.pipeline(Array(repeating: RedisCommand("PUBLISH", channel, message), count: 1000))
                    }
                }
                try await group.waitForAll()
            }
            try await fleet.waitForGeneration("wxforce", atLeast: 2)
            // Every worker heard every message: count once all of them are settled.
            try await waitUntil("every worker settled all 10,000 reports", timeout: .seconds(30)) {
                workers.allSatisfy { $0.forcedRequestsSettled("wxforce") == 10_000 }
            }
            #expect(fleet.mock.stats(appid: "wxforce").tokenCalls == 2)
            #expect(try await fleet.generation("wxforce") == 2)
            #expect(workers.map { $0.counter("tokencentral_forced_refresh_total", app: "wxforce", outcome: "refreshed") }.reduce(0, +) == 1)
        }
    }

    @Test func staleBadTokenIsIgnored() async throws {
        try await WorkerFleet.run(workers: 3, apps: Self.apps, mock: Self.mock) { fleet, _ in
            try await fleet.waitForGeneration("wxforce", atLeast: 1)
            let stale = try Self.message(appid: "wxforce", badToken: "a-token-that-was-replaced-long-ago")
            try await fleet.store.redis.publish(fleet.store.keys.refreshChannel, stale)
            // A later report of the real token still gets through: the stale one did not mask it.
            let current = try #require(try await fleet.currentToken("wxforce"))
            try await fleet.store.redis.publish(fleet.store.keys.refreshChannel, try Self.message(appid: "wxforce", badToken: current))
            try await fleet.waitForGeneration("wxforce", atLeast: 2)
            #expect(fleet.mock.stats(appid: "wxforce").tokenCalls == 2)
        }
    }

    @Test func requestsWithoutBadTokenAreLimitedByTheCooldown() async throws {
        // A cooldown far longer than settling 50 requests can take on a loaded machine: the fleet's 2 s
        // could end first, and a bare request after the cooldown is rightly a second refresh.
        try await WorkerFleet.run(workers: 3, apps: Self.apps, mock: Self.mock, configure: {
            $0.refresh.forcedCooldown = .seconds(60)
        }) { fleet, workers in
            try await fleet.waitForGeneration("wxforce", atLeast: 1)
            for _ in 0..<50 { try await fleet.store.redis.publish(fleet.store.keys.refreshChannel, "wxforce") }
            try await fleet.waitForGeneration("wxforce", atLeast: 2)
            try await waitUntil("every worker settled all 50 requests") {
                workers.allSatisfy { $0.forcedRequestsSettled("wxforce") == 50 }
            }
            #expect(fleet.mock.stats(appid: "wxforce").tokenCalls == 2, "50 bare requests within the cooldown: one refresh")
        }
    }

    @Test func aRequestThatMeetsALeaseHeldElsewhereIsServedOnceTheLeaseIsGone() async throws {
        try await WorkerFleet.run(workers: 1, apps: Self.apps, mock: Self.mock) { fleet, _ in
            try await fleet.waitForGeneration("wxforce", atLeast: 1)
            // Another worker holds the lease, as when it is just releasing it after its own write.
            try await fleet.store.redis.send("SET", fleet.store.keys.lock("wxforce"), "elsewhere:1", "PX", 1000)
            try await fleet.store.redis.publish(fleet.store.keys.refreshChannel, "wxforce")
            try await fleet.waitForGeneration("wxforce", atLeast: 2)
            #expect(fleet.mock.stats(appid: "wxforce").tokenCalls == 2)
        }
    }

    @Test func aReportWhoseUpstreamCallFailsOnceIsRetried() async throws {
        try await WorkerFleet.run(workers: 1, apps: Self.apps, mock: Self.mock) { fleet, _ in
            try await fleet.waitForGeneration("wxforce", atLeast: 1)
            let current = try #require(try await fleet.currentToken("wxforce"))
            fleet.mock.inject(.errcode(-1, count: 1), appid: "wxforce")
            try await fleet.store.redis.publish(fleet.store.keys.refreshChannel, try Self.message(appid: "wxforce", badToken: current))
            try await fleet.waitForGeneration("wxforce", atLeast: 2, timeout: .seconds(5))
            #expect(fleet.mock.stats(appid: "wxforce").tokenCalls == 3)
        }
    }

    @Test func aFloodOfDistinctStaleTokensCausesNoCall() async throws {
        try await WorkerFleet.run(workers: 2, apps: Self.apps, mock: Self.mock) { fleet, workers in
            try await fleet.waitForGeneration("wxforce", atLeast: 1)
            // Eight times the 64 distinct tokens a worker queues between two passes of its loop.
            let messages = try (0..<512).map { index in
                RedisCommand("PUBLISH", fleet.store.keys.refreshChannel, try Self.message(appid: "wxforce", badToken: "invented-\(index)"))
            }
            _ = try await fleet.store.redis.pipeline(messages)
            try await waitUntil("every worker settled every report") {
                workers.allSatisfy { $0.forcedRequestsSettled("wxforce") == messages.count }
            }
            #expect(fleet.mock.stats(appid: "wxforce").tokenCalls == 1)
            #expect(try await fleet.generation("wxforce") == 1)
        }
    }

    @Test func malformedAndUnknownMessagesLeaveTheListenerWorking() async throws {
        try await WorkerFleet.run(workers: 1, apps: Self.apps, mock: Self.mock) { fleet, workers in
            try await fleet.waitForGeneration("wxforce", atLeast: 1)
            let channel = fleet.store.keys.refreshChannel
            for payload: [UInt8] in [Array("{not json".utf8), Array(repeating: 0x41, count: 100_000), [0xff, 0xfe, 0],
                                     Array(#"{"appid":"wxnobody"}"#.utf8), Array("".utf8)] {
                try await fleet.store.redis.publish(channel, payload)
            }
            let current = try #require(try await fleet.currentToken("wxforce"))
            try await fleet.store.redis.publish(channel, try Self.message(appid: "wxforce", badToken: current))
            try await fleet.waitForGeneration("wxforce", atLeast: 2)
            let worker = try #require(workers.first)
            #expect(worker.counter("tokencentral_forced_refresh_total", app: "unknown", outcome: "malformed") == 4)
            #expect(worker.counter("tokencentral_forced_refresh_total", app: "unknown", outcome: "unknown_app") == 1)
        }
    }

    static func message(appid: String, badToken: String) throws -> String {
        String(decoding: try JSONEncoder().encode(["appid": appid, "bad_token": badToken]), as: UTF8.self)
    }
}
