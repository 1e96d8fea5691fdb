import Foundation
import Glibc
import RedisClient
import TestSupport
import Testing
import TokenCentral
import WeChatMock

/// `tokend` as a process under SIGTERM, as systemd or Kubernetes stop it.
@Suite(.timeLimit(.minutes(1))) struct ShutdownTests {
    @Test func sigtermDuringAnUpstreamCallReleasesTheLeaseAndExitsZero() async throws {
        let mock = try WeChatMock(configuration: WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxterm": "s1"]))
        mock.inject(.latency(.seconds(30), count: 1), appid: "wxterm")
        try await withWeChatMockServer(mock) { url in
            let fleet = try await WorkerFailureTests.fleet(mock: mock, url: url)
            let workers = try WorkerProcesses(count: 1, appid: "wxterm", secret: "s1", redisURL: fleet.redisURL, prefix: fleet.prefix, mockURL: url)
            let lease = try await WorkerFailureTests.waitForLease(fleet: fleet, appid: "wxterm")
            let worker = try #require(workers.holder(ofLease: lease))
            try await waitUntil("the upstream call is in flight") { mock.stats(appid: "wxterm").tokenCalls == 1 }
            let status = await worker.process.stop(signal: SIGTERM, timeout: .seconds(10))
            #expect(status == 0, "exit status \(status.map(String.init) ?? "none: still running")\n\(workers.logs())")
            #expect(try await fleet.store.redis.send("EXISTS", fleet.store.keys.lock("wxterm")).integer == 0)
            #expect(try await fleet.store.snapshot("wxterm").status.lastError == nil, "a cancelled call is no upstream failure")
            try await deleteKeys(withPrefix: fleet.prefix, on: fleet.store.redis)
        }
    }
}
