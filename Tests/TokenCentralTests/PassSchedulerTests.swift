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

    @Test func everyEntryRunsAFirstPassOnFewerRunnersThanEntries() async throws {
        let jobs = CountingJobs(count: 500, every: .seconds(3600))
        let scheduler = PassScheduler(count: 500)
        let run = Task { await scheduler.run(runners: 4, jobs) }
        try await waitUntil("every entry ran once") { (0..<500).allSatisfy { jobs.passes($0) == 1 } }
        run.cancel()
        await run.value
    }

    @Test func aWakeRunsAWaitingEntryAtOnce() async throws {
        let jobs = CountingJobs(count: 3, every: .seconds(3600))
        let scheduler = PassScheduler(count: 3)
        let run = Task { await scheduler.run(runners: 2, jobs) }
        try await waitUntil("the first passes ran") { jobs.total == 3 }
        scheduler.wake(1)
        try await waitUntil("the woken entry ran again") { jobs.passes(1) == 2 }
        #expect(jobs.passes(0) == 1 && jobs.passes(2) == 1)
        run.cancel()
        await run.value
    }

    @Test func anEntryRunsAgainWhenItsPassSaidSo() async throws {
        let jobs = CountingJobs(count: 1, every: .milliseconds(50))
        let scheduler = PassScheduler(count: 1)
        let run = Task { await scheduler.run(runners: 2, jobs) }
        try await waitUntil("the entry ran three times") { jobs.passes(0) >= 3 }
        run.cancel()
        await run.value
    }

    @Test func anEntryNeverRunsTwoPassesAtOnceHoweverOftenItIsWoken() async throws {
        let jobs = CountingJobs(count: 2, every: .seconds(3600), passTime: .milliseconds(5))
        let scheduler = PassScheduler(count: 2)
        let run = Task { await scheduler.run(runners: 8, jobs) }
        for _ in 0..<200 {
            scheduler.wake(0)
            scheduler.wakeAll()
            await Task.yield()
        }
        try await waitUntil("the wakes ran passes") { jobs.passes(0) >= 2 }
        #expect(jobs.overlaps == 0)
        run.cancel()
        await run.value
    }

    @Test func cancellingTheRunStopsEveryRunnerAfterItsPass() async throws {
        let jobs = CountingJobs(count: 20, every: .milliseconds(1), passTime: .milliseconds(2))
        let scheduler = PassScheduler(count: 20)
        let run = Task { await scheduler.run(runners: 4, jobs) }
        try await waitUntil("passes ran") { jobs.total >= 40 }
        run.cancel()
        await run.value
        #expect(jobs.runningCount == 0, "the run returns only after every runner's pass ended")
    }
}
