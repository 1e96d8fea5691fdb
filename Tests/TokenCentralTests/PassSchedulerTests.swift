import Synchronization
import TestSupport
import Testing

@testable import TokenCentral

/// The scheduler driving plain jobs on its runner tasks: no Redis, no upstream.
@Suite(.timeLimit(.minutes(1))) struct PassSchedulerTests {
    /// Jobs that count their passes, note any entry running twice at once, and ask to run again after `every`.
    private final class CountingJobs: PassJobs {
        private struct State {
            var passes: [Int]
            var running: Set<Int> = []
            var overlaps = 0
        }

        private let state: Mutex<State>
        let every: Duration
        let passTime: Duration

        init(count: Int, every: Duration, passTime: Duration = .zero) {
            state = Mutex(State(passes: Array(repeating: 0, count: count)))
            self.every = every
            self.passTime = passTime
        }

        func runPass(_ entry: Int) async -> ContinuousClock.Instant {
            state.withLock { state in
                if !state.running.insert(entry).inserted { state.overlaps += 1 }
                state.passes[entry] += 1
            }
            if passTime > .zero { try? await Task.sleep(for: passTime) }
            state.withLock { _ = $0.running.remove(entry) }
            return .now + every
        }

        func passes(_ entry: Int) -> Int { state.withLock { $0.passes[entry] } }
        var total: Int { state.withLock { $0.passes.reduce(0, +) } }
        var overlaps: Int { state.withLock { $0.overlaps } }
        var runningCount: Int { state.withLock { $0.running.count } }
    }

    /// Runs `count` counting jobs on `runners` runners for the duration of `body`, then cancels the run
    /// and waits for it to return, which it does only once no pass runs any more.
    private func withScheduler(
        count: Int, runners: Int, every: Duration, passTime: Duration = .zero,
        _ body: (PassScheduler, CountingJobs) async throws -> Void
    ) async throws {
        let jobs = CountingJobs(count: count, every: every, passTime: passTime)
        let scheduler = PassScheduler(count: count)
        let run = Task { await scheduler.run(runners: runners, jobs) }
        defer { run.cancel() }
        try await body(scheduler, jobs)
        run.cancel()
        await run.value
        #expect(jobs.runningCount == 0, "the run returned while a pass still ran")
    }

    @Test func everyEntryRunsAFirstPassOnFewerRunnersThanEntries() async throws {
        try await withScheduler(count: 500, runners: 4, every: .seconds(3600)) { _, jobs in
            try await waitUntil("every entry ran once") { (0..<500).allSatisfy { jobs.passes($0) == 1 } }
        }
    }

    @Test func aWakeRunsAWaitingEntryAtOnce() async throws {
        try await withScheduler(count: 3, runners: 2, every: .seconds(3600)) { scheduler, jobs in
            try await waitUntil("the first passes ran") { jobs.total == 3 }
            scheduler.wake(1)
            try await waitUntil("the woken entry ran again") { jobs.passes(1) == 2 }
            #expect(jobs.passes(0) == 1 && jobs.passes(2) == 1)
        }
    }

    @Test func anEntryRunsAgainWhenItsPassSaidSo() async throws {
        try await withScheduler(count: 1, runners: 2, every: .milliseconds(50)) { _, jobs in
            try await waitUntil("the entry ran three times") { jobs.passes(0) >= 3 }
        }
    }

    @Test func anEntryNeverRunsTwoPassesAtOnceHoweverOftenItIsWoken() async throws {
        try await withScheduler(count: 2, runners: 8, every: .seconds(3600), passTime: .milliseconds(5)) { scheduler, jobs in
            for _ in 0..<200 {
                scheduler.wake(0)
                scheduler.wakeAll()
                await Task.yield()
            }
            try await waitUntil("the wakes ran passes") { jobs.passes(0) >= 2 }
            #expect(jobs.overlaps == 0)
        }
    }

    @Test func cancellingTheRunStopsEveryRunnerAfterItsPass() async throws {
        try await withScheduler(count: 20, runners: 4, every: .milliseconds(1), passTime: .milliseconds(2)) { _, jobs in
            try await waitUntil("passes ran") { jobs.total >= 40 }
        }
    }
}
