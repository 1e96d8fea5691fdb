import Foundation
import RedisClient
import TestSupport
import Testing
import TokenCentral
import WeChatMock

@Suite(.timeLimit(.minutes(2))) struct RefresherTests {
    @Test func threeWorkersMakeOneUpstreamCallPerLifetime() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 4, overlap: .seconds(2), apps: ["wxsteady": "s1"])
        try await WorkerFleet.run(workers: 3, apps: [.app("wxsteady", secret: "s1")], mock: mock) { fleet, _ in
            let reader = ReaderProbe()
            let reading = Task { await reader.run(fleet: fleet, appid: "wxsteady") }
            defer { reading.cancel() }
            try await fleet.waitForGeneration("wxsteady", atLeast: 1)
            let first = try #require(try await fleet.record("wxsteady"))
            try await fleet.waitForGeneration("wxsteady", atLeast: 3)
            let last = try #require(try await fleet.record("wxsteady"))
            #expect(fleet.mock.stats(appid: "wxsteady").tokenCalls == last.generation)
            // A duplicate fetch would also raise the generation: each token must have lived its cycle,
            // lifetime - ahead - jitter = 4 s - 1 s - at most 0.1 s, before the next was sent for (less a
            // few milliseconds of clock reading).
            let shortestCycle: Int64 = 2_850
            #expect(last.issuedMin - first.issuedMin >= Int64(last.generation - first.generation) * shortestCycle,
                    "generation \(first.generation) → \(last.generation) in \(last.issuedMin - first.issuedMin) ms")
            #expect(await reader.rejected.isEmpty)
            #expect(await reader.reads > 0)
        }
    }

    @Test func hundredAppsEachGetOneCallPerLifetime() async throws {
        let appids = (0..<100).map { String(format: "wxmany%03d", $0) }
        let apps = appids.map { AppConfiguration.app($0, secret: WeChatMockConfiguration.derivedSecret(for: $0)) }
        let mock = WeChatMockConfiguration(tokenLifetime: 6, overlap: .seconds(2), derivedSecrets: true)
        let started = ContinuousClock.now
        try await WorkerFleet.run(workers: 3, apps: apps, mock: mock) { fleet, _ in
            for appid in appids { try await fleet.waitForGeneration(appid, atLeast: 2, timeout: .seconds(30)) }
            // No app can have had more tokens than cycles of lifetime - ahead - jitter (6 s - 1.5 s - 0.15 s)
            // fit since the start: a duplicate fetch would raise its generation past that.
            let elapsed = ContinuousClock.now - started
            let mostGenerations = 1 + Int(elapsed / .milliseconds(4_350))
            for appid in appids {
                let generation = try await fleet.generation(appid)
                let calls = fleet.mock.stats(appid: appid).tokenCalls
                // A refresh may be in flight for an app right now: its call is counted before its write.
                #expect(calls == generation || calls == generation + 1, "\(appid): \(calls) calls for generation \(generation)")
                #expect(generation <= mostGenerations, "\(appid): generation \(generation) after \(elapsed)")
            }
        }
    }

    @Test func startupWithValidTokenMakesNoUpstreamCall() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxseeded": "s1"])
        try await WorkerFleet.run(workers: 3, apps: [.app("wxseeded", secret: "s1")], mock: mock) { fleet, workers in
            try await waitUntil("first worker stored a token") { try await fleet.generation("wxseeded") == 1 }
            let before = fleet.mock.stats(appid: "wxseeded").tokenCalls
            // Start three more workers on the same Redis: they find the valid token and stay quiet.
            try await WorkerFleet.runMore(3, like: workers[0], fleet: fleet) { newcomers in
                try await WorkerFleet.waitUntilEveryWorkerRemembers("wxseeded", newcomers)
            }
            #expect(fleet.mock.stats(appid: "wxseeded").tokenCalls == before)
            #expect(before == 1)
        }
    }

    @Test func flushAllIsReseededFromMemoryWithoutUpstreamCall() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxflush": "s1"])
        try await WorkerFleet.run(workers: 2, apps: [.app("wxflush", secret: "s1")], mock: mock, redisURL: server.url) { fleet, workers in
            try await fleet.waitForGeneration("wxflush", atLeast: 1)
            try await WorkerFleet.waitUntilEveryWorkerRemembers("wxflush", workers)
            let token = try await fleet.currentToken("wxflush")
            try await fleet.store.redis.send("FLUSHALL")
            try await waitUntil("token re-seeded") { try await fleet.currentToken("wxflush") == token }
            #expect(try await fleet.generation("wxflush") == 1)
            #expect(fleet.mock.stats(appid: "wxflush").tokenCalls == 1)
        }
    }

    @Test func redisRestartWithoutPersistenceIsReseededWithoutUpstreamCall() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxrestart": "s1"])
        try await WorkerFleet.run(workers: 2, apps: [.app("wxrestart", secret: "s1")], mock: mock, redisURL: server.url) { fleet, workers in
            try await fleet.waitForGeneration("wxrestart", atLeast: 1)
            try await WorkerFleet.waitUntilEveryWorkerRemembers("wxrestart", workers)
            let token = try await fleet.currentToken("wxrestart")
            try await server.restart()
            try await waitUntil("token re-seeded after restart", timeout: .seconds(15)) {
                (try? await fleet.currentToken("wxrestart")) == token
            }
            #expect(try await fleet.generation("wxrestart") == 1)
            #expect(fleet.mock.stats(appid: "wxrestart").tokenCalls == 1)
        }
    }

    @Test func upstreamFailureKeepsTheOldTokenAndBacksOff() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 8, overlap: .seconds(2), apps: ["wxflaky": "s1"])
        try await WorkerFleet.run(workers: 3, apps: [.app("wxflaky", secret: "s1")], mock: mock) { fleet, _ in
            try await fleet.waitForGeneration("wxflaky", atLeast: 1)
            let token = try await fleet.currentToken("wxflaky")
            fleet.mock.inject(.errcode(-1, count: Int.max), appid: "wxflaky")
            try await waitUntil("a failure recorded", every: .milliseconds(5)) { try await fleet.status("wxflaky").failures >= 1 }
            // The first failure comes when the token is due, about 2 s before it expires: it is still served.
            #expect(try await fleet.currentToken("wxflaky") == token)
            let watching = ContinuousClock.now
            let before = try await fleet.status("wxflaky").failures
            try await waitUntil("three more failures recorded", every: .milliseconds(5)) {
                try await fleet.status("wxflaky").failures >= before + 3
            }
            let after = try await fleet.status("wxflaky").failures
            // Between the failures seen, at least half of each backoff ceiling (jitter keeps the upper half):
            // from 100 ms doubling, capped at a quarter of the 2 s refresh margin. A tight loop makes the
            // same calls in a few milliseconds.
            let backoff = Backoff(initial: .milliseconds(100), maximum: .milliseconds(500))
            let shortest = ((before + 1)..<after).map { backoff.ceiling(attempt: $0 - 1) / 2 }.reduce(.zero, +)
            #expect(ContinuousClock.now - watching >= shortest, "failures \(before) → \(after) within \(ContinuousClock.now - watching)")
            let status = try await fleet.status("wxflaky")
            #expect(status.lastErrcode == -1)
            #expect(status.retryAt != nil)
            // Never another token while every call fails: the old one until it expires, then none.
            let readable = try await fleet.store.readableToken("wxflaky")
            #expect(readable == nil || readable?.token == token)
            // Backoff: a tight loop would have made hundreds of calls by now.
            let calls = fleet.mock.stats(appid: "wxflaky").tokenCalls
            #expect(calls <= 1 + status.failures + 1, "\(calls) calls for \(status.failures) recorded failures")
            #expect(status.failures < 20)
            fleet.mock.clearFaults()
            try await fleet.waitForGeneration("wxflaky", atLeast: 2)
            #expect(try await fleet.status("wxflaky").lastError == nil)
        }
    }

    @Test func wrongSecretOnOneAppLeavesOthersServed() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxgood1": "s1", "wxgood2": "s2", "wxbad": "right"])
        let apps: [AppConfiguration] = [.app("wxgood1", secret: "s1"), .app("wxgood2", secret: "s2"), .app("wxbad", secret: "not-the-real-secret")]
        try await WorkerFleet.run(workers: 3, apps: apps, mock: mock) { fleet, _ in
            try await fleet.waitForGeneration("wxgood1", atLeast: 1)
            try await fleet.waitForGeneration("wxgood2", atLeast: 1)
            try await waitUntil("bad secret recorded") { try await fleet.status("wxbad").lastErrcode == 40125 }
            let status = try await fleet.status("wxbad")
            #expect(status.record == nil)
            #expect(status.lastError?.contains("secret") == true)
            #expect(status.lastError?.contains("not-the-real-secret") == false)
            // Configuration errors are retried slowly, by one worker for all.
            #expect(fleet.mock.stats(appid: "wxbad").tokenCalls == 1)
        }
    }

    @Test func aWorkerHoldsNoMoreLeasesThanItsUpstreamCallLimit() async throws {
        let appids = (0..<6).map { "wxlimit\($0)" }
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, derivedSecrets: true)
        let app = try WeChatMock(configuration: mock)
        for appid in appids { app.inject(.latency(.milliseconds(300), count: 1), appid: appid) }
        try await withWeChatMockServer(app) { url in
            var configuration = WorkerFleet.configuration(
                worker: "limited", apps: appids.map { .app($0, secret: WeChatMockConfiguration.derivedSecret(for: $0)) },
                redisURL: try sharedRedisURL(), prefix: uniquePrefix("limit"), mockURL: url)
            configuration.upstream.maxConcurrentCalls = 2
            // Far above the 300 ms answers, so a loaded machine never turns one into a timeout and a second call.
            configuration.upstream.timeout = .seconds(10)
            let worker = try TokendApplication(configuration: configuration, logger: WorkerFleet.logger)
            let running = Task { try await worker.refresher.run() }
            defer { running.cancel() }
            let locks = appids.map { RedisCommand("EXISTS", worker.store.keys.lock($0)) }
            let tokens = appids.map { RedisCommand("EXISTS", worker.store.keys.accessToken($0)) }
            var mostLeases = 0
            try await waitUntil("every app has a token", timeout: .seconds(20), every: .milliseconds(10)) {
                let held = try await worker.redis.pipeline(locks).reduce(0) { $0 + ($1.integer ?? 0) }
                mostLeases = max(mostLeases, held)
                return try await worker.redis.pipeline(tokens).allSatisfy { $0.integer == 1 }
            }
            #expect(mostLeases <= 2, "\(mostLeases) leases held at once")
            #expect(mostLeases >= 1)
            #expect(appids.allSatisfy { app.stats(appid: $0).tokenCalls == 1 })
            try await deleteKeys(withPrefix: configuration.redis.keyPrefix, on: worker.redis)
        }
    }

    @Test func stoppingAWorkerReleasesTheLeaseItHolds() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxstop": "s1"])
        let app = try WeChatMock(configuration: mock)
        app.inject(.latency(.seconds(30), count: 1), appid: "wxstop")
        try await withWeChatMockServer(app) { url in
            let prefix = uniquePrefix("stop")
            let configuration = WorkerFleet.configuration(
                worker: "stopping", apps: [.app("wxstop", secret: "s1")], redisURL: try sharedRedisURL(), prefix: prefix, mockURL: url)
            let worker = try TokendApplication(configuration: configuration, logger: WorkerFleet.logger)
            let running = Task { try await worker.refresher.run() }
            let lockKey = worker.store.keys.lock("wxstop")
            try await waitUntil("lease taken") { try await worker.redis.send("EXISTS", lockKey).integer == 1 }
            running.cancel()
            try await waitUntil("lease released", timeout: .seconds(3)) {
                try await worker.redis.send("EXISTS", lockKey).integer == 0
            }
            #expect(try await worker.store.snapshot("wxstop").status.lastError == nil)
        }
    }
}
