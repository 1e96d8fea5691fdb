import Logging
import RedisClient
import Synchronization
import TestSupport
import Testing

@testable import TokenCentral

/// The lines a logger received, for tests that assert what a person would read.
final class CapturedLog: Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
    }

    private let lines = Mutex<[Line]>([])

    var logger: Logger {
        Logger(label: "captured") { _ in Handler(log: self) }
    }

    var all: [Line] { lines.withLock { $0 } }

    func count(_ level: Logger.Level, containing text: String) -> Int {
        all.filter { $0.level == level && $0.message.contains(text) }.count
    }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.lines.withLock { $0.append(Line(level: event.level, message: "\(event.message)")) }
        }
    }
}

/// `WorkerHealth`: what `/readyz` answers and what a Redis outage writes to the log, with plain values.
@Suite struct WorkerHealthTests {
    private let refused = RedisError(.authenticationFailed, "authentication as 'default' refused: WRONGPASS invalid username-password pair")
    private let down = RedisError(.connectionFailed, "cannot connect: Connection refused", endpoint: "redis://127.0.0.1:1/0")

    @Test func notReadyUntilSubscribed() {
        let health = WorkerHealth()
        #expect(health.problems.map(\.reason) == [.notSubscribed])
        health.subscribed()
        #expect(health.problems.isEmpty)
    }

    @Test func anOutageIsOneWarningAtItsStartAndOneAtItsEnd() {
        let log = CapturedLog()
        let health = WorkerHealth()
        health.subscribed()
        for _ in 0..<5 { health.redisFailed(down, logger: log.logger) }
        #expect(health.problems.map(\.reason) == [.redisUnreachable])
        health.redisAnswered(logger: log.logger)
        health.redisAnswered(logger: log.logger)
        #expect(health.problems.isEmpty)
        #expect(log.all.map(\.level) == [.warning, .warning])
        #expect(log.count(.warning, containing: "Redis unavailable") == 1)
        #expect(log.count(.warning, containing: "Redis reachable again") == 1)
    }

    @Test(arguments: [
        (RedisError(.authenticationFailed, "authentication as 'default' refused: WRONGPASS"), NotReadyReason.redisAuthentication),
        (RedisError(.server, "NOAUTH Authentication required."), .redisAuthentication),
        (RedisError(.server, "SELECT 99 failed: ERR DB index is out of range"), .redisDatabase),
        (RedisError(.server, "NOPERM User tokend has no permissions to run the 'time' command"), .redisPermission),
        (RedisError(.timeout, "no reply within 2 seconds"), .redisUnreachable),
    ])
    func redisFailuresAreClassified(error: RedisError, reason: NotReadyReason) {
        #expect(NotReadyReason(error) == reason)
    }

    @Test func aRefusedPasswordIsAnErrorAtMostOnceAMinute() {
        let log = CapturedLog()
        let health = WorkerHealth()
        for _ in 0..<20 { health.redisFailed(refused, logger: log.logger) }
        #expect(log.count(.error, containing: "Redis refuses this worker's configuration") == 1)
        #expect(health.problems.first?.reason == .redisAuthentication)
        #expect(health.problems.first?.message.contains("WRONGPASS") == true)
    }

    @Test func shutdownIsReported() {
        let health = WorkerHealth()
        health.subscribed()
        health.beginShutdown()
        #expect(health.problems.map(\.reason) == [.shuttingDown])
    }
}

/// `RefreshWaiters`: refresh requests woken by announcements, bounded in number.
@Suite(.timeLimit(.minutes(1))) struct RefreshWaitersTests {
    @Test func anAnnouncementWakesTheWaitersOfItsApp() async {
        let waiters = RefreshWaiters()
        let seen = waiters.announcements(of: "wxa")
        async let woken = waiters.waitForAnnouncement(of: "wxa", after: seen, until: .now + .seconds(30))
        // Parked already or not, the announcement counts: it came after `seen`.
        waiters.announce("wxa")
        #expect(await woken)
    }

    @Test func anotherAppsAnnouncementDoesNotEndTheWait() async {
        let waiters = RefreshWaiters()
        let seen = waiters.announcements(of: "wxa")
        waiters.announce("wxb")
        #expect(!(await waiters.waitForAnnouncement(of: "wxa", after: seen, until: .now + .milliseconds(100))))
    }

    @Test func anAnnouncementHeardBeforeTheWaitIsNotMissed() async {
        let waiters = RefreshWaiters()
        let seen = waiters.announcements(of: "wxa")
        waiters.announce("wxa")
        #expect(await waiters.waitForAnnouncement(of: "wxa", after: seen, until: .now + .seconds(30)))
    }

    @Test func theDeadlineEndsAWaitWithoutAnnouncement() async {
        let waiters = RefreshWaiters()
        let started = ContinuousClock.now
        #expect(!(await waiters.waitForAnnouncement(of: "wxa", after: 0, until: started + .milliseconds(100))))
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func waitersPastTheLimitAreRefusedUntilOneLeaves() {
        let waiters = RefreshWaiters(limit: 2)
        #expect(waiters.admit())
        #expect(waiters.admit())
        #expect(!waiters.admit())
        waiters.release()
        #expect(waiters.admit())
    }
}

/// `RedisProbe` against a real server that goes away mid-run and comes back.
@Suite(.timeLimit(.minutes(1))) struct RedisProbeTests {
    @Test func anOutageMidRunLogsOneWarningAtEachEnd() async throws {
        let log = CapturedLog()
        let health = WorkerHealth()
        try await RedisServerProcess.with { server in
            let probe = RedisProbe(
                redis: try RedisClient(url: server.url, configuration: .init(poolSize: 1, connectTimeout: .milliseconds(500))),
                health: health, interval: .seconds(1), logger: log.logger)
            await probe.check()
            #expect(log.all.isEmpty)

            await server.stop()
            for _ in 0..<3 { await probe.check() }
            #expect(health.problems.map(\.reason) == [.redisUnreachable])
            try await server.start()
            try await waitUntil("the probe sees Redis again") {
                await probe.check()
                return log.count(.warning, containing: "Redis reachable again") == 1
            }
        }
        #expect(log.count(.warning, containing: "Redis unavailable") == 1)
        #expect(log.all.count == 2)
    }
}
