import Foundation
import Glibc
import RedisClient
import TestSupport
import Testing
import TokenCentral
import WeChatMock

/// The failures the lease and the fenced write exist for, with real processes.
@Suite(.timeLimit(.minutes(2))) struct WorkerFailureTests {
    @Test func holderKilledMidRefreshIsReplacedBeforeExpiry() async throws {
        let mock = try WeChatMock(configuration: WeChatMockConfiguration(tokenLifetime: 8, overlap: .seconds(4), apps: ["wxkill": "s1"]))
        try await withWeChatMockServer(mock) { url in
            let fleet = try await Self.fleet(mock: mock, url: url)
            let workers = try WorkerProcesses(count: 3, appid: "wxkill", secret: "s1", redisURL: fleet.redisURL, prefix: fleet.prefix, mockURL: url)
            let reader = ReaderProbe()
            let reading = Task { await reader.run(fleet: fleet, appid: "wxkill") }
            defer { reading.cancel() }

            try await fleet.waitForGeneration("wxkill", atLeast: 1)
            let first = try #require(try await fleet.record("wxkill"))
            // Longer than the lease: the mock answers the dead holder's request after the takeover, so
            // WeChat's last-issued token is one nobody stores (a "ghost"), as a real WeChat would do.
            let latency = Duration.milliseconds(1500)
            let holder = try await Self.holderDuringCall(slowedBy: latency, appid: "wxkill", fleet: fleet, workers: workers)
            let killedAt = ContinuousClock.now
            holder.process.signal(SIGKILL)

            do {
                try await fleet.waitForGeneration("wxkill", atLeast: 2)
            } catch {
                Issue.record("\(error)\n\(workers.logs())")
                throw error
            }
            let second = try #require(try await fleet.record("wxkill"))
            #expect(second.worker != holder.name)
            #expect(second.fetchedAt < first.expiresAt, "the new token must arrive before the old one expires")
            // The taker knew of the abandoned call and fetches once more after it would have timed out.
            try await fleet.waitForGeneration("wxkill", atLeast: 3)
            // Readers keep reading past the moment the ghost would have retired the taker's token.
            try await Task.sleep(until: killedAt + latency + mock.configuration.overlap + .seconds(1), clock: .continuous)
            let rejected = await reader.rejected
            #expect(rejected.isEmpty, "readers were handed rejected tokens: \(rejected)")
            #expect(await reader.reads > 0)
            // One call per lifetime, the one the killed holder made and never wrote, and the one after it.
            #expect(mock.stats(appid: "wxkill").tokenCalls == 4)
            await workers.stopAll()
        }
    }

    @Test func pausedHolderNeverRegressesTheGenerationNorServesASupersededToken() async throws {
        let mock = try WeChatMock(configuration: WeChatMockConfiguration(tokenLifetime: 8, overlap: .seconds(4), apps: ["wxpause": "s1"]))
        try await withWeChatMockServer(mock) { url in
            let fleet = try await Self.fleet(mock: mock, url: url)
            let workers = try WorkerProcesses(count: 3, appid: "wxpause", secret: "s1", redisURL: fleet.redisURL, prefix: fleet.prefix, mockURL: url)
            let reader = ReaderProbe()
            let generations = GenerationProbe()
            let probing = Task {
                async let reading: Void = reader.run(fleet: fleet, appid: "wxpause")
                async let watching: Void = generations.run(fleet: fleet, appid: "wxpause")
                _ = await (reading, watching)
            }
            defer { probing.cancel() }

            try await fleet.waitForGeneration("wxpause", atLeast: 1)
            let holder = try await Self.holderDuringCall(slowedBy: .seconds(1), appid: "wxpause", fleet: fleet, workers: workers)
            let pausedAt = ContinuousClock.now
            holder.process.signal(SIGSTOP)
            // Another worker takes over once the paused holder's lease expires.
            try await fleet.waitForGeneration("wxpause", atLeast: 2)
            #expect(try await fleet.record("wxpause")?.worker != holder.name)
            // Keep it stopped past its lease and past the mock's answer to its request, then wake it up.
            try await Task.sleep(until: pausedAt + .seconds(2), clock: .continuous)
            holder.process.signal(SIGCONT)

            // Its late token was issued after the stored one: the write is refused as ambiguous and one
            // more fetch makes the last issued token the stored one.
            try await fleet.waitForGeneration("wxpause", atLeast: 3)
            try await waitUntil("no refresh pending") { try await fleet.status("wxpause").refreshRequested == nil }
            let current = try #require(try await fleet.currentToken("wxpause"))
            #expect(mock.validate(token: current) == .ok)
            #expect(await generations.isMonotonic)
            let rejected = await reader.rejected
            #expect(rejected.isEmpty, "readers were handed rejected tokens: \(rejected)")
            await workers.stopAll()
        }
    }

    static func fleet(mock: WeChatMock, url: URL) async throws -> WorkerFleet {
        let redisURL = try sharedRedisURL()
        let prefix = uniquePrefix("proc")
        return WorkerFleet(mock: mock, mockURL: url, redisURL: redisURL, prefix: prefix,
                           store: TokenStore(redis: try RedisClient(url: redisURL), keys: TokenKeys(prefix: prefix)))
    }

    /// Slows the app's next upstream call by `latency` and returns the worker holding the lease for it,
    /// once the call is in flight.
    static func holderDuringCall(slowedBy latency: Duration, appid: String, fleet: WorkerFleet, workers: WorkerProcesses)
        async throws -> (name: String, process: ChildProcess)
    {
        let callsBefore = fleet.mock.stats(appid: appid).tokenCalls
        fleet.mock.inject(.latency(latency, count: 1), appid: appid)
        let lease = try await waitForLease(fleet: fleet, appid: appid)
        let holder = try #require(workers.holder(ofLease: lease))
        try await waitUntil("the holder's upstream call is in flight", every: .milliseconds(5)) {
            fleet.mock.stats(appid: appid).tokenCalls > callsBefore
        }
        return holder
    }

    static func waitForLease(fleet: WorkerFleet, appid: String) async throws -> String {
        var value: String?
        try await waitUntil("a worker takes the refresh lease", timeout: .seconds(20), every: .milliseconds(5)) {
            value = try await fleet.store.redis.get(fleet.store.keys.lock(appid)).map { String(decoding: $0, as: UTF8.self) }
            return value != nil
        }
        return value!
    }
}

/// Records every generation seen in meta, to prove it never goes back.
actor GenerationProbe {
    private(set) var seen: [Int] = []

    var isMonotonic: Bool { zip(seen, seen.dropFirst()).allSatisfy { $0 <= $1 } }

    func run(fleet: WorkerFleet, appid: String) async {
        while !Task.isCancelled {
            if let generation = try? await fleet.generation(appid), generation != seen.last { seen.append(generation) }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
