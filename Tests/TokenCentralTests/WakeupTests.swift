import Testing

@testable import TokenCentral

/// `Wakeup` ends a wait at its deadline, on a signal (also one given before the wait), or on cancellation.
@Suite struct WakeupTests {
    @Test func aWaitEndsAtItsDeadline() async {
        let wakeup = Wakeup()
        let started = ContinuousClock.now
        await wakeup.wait(until: started + .milliseconds(100))
        #expect(ContinuousClock.now - started >= .milliseconds(100))
    }

    @Test func aSignalEndsAWaitLongBeforeItsDeadline() async {
        // Whether the signal lands before the task parks or during its wait, the wait ends.
        #expect(await Self.hourLongWait(endedBy: { wakeup, _ in wakeup.signal() }) < .seconds(60))
    }

    @Test func aSignalGivenWhileNobodyWaitsEndsTheNextWaitAtOnce() async {
        let wakeup = Wakeup()
        wakeup.signal()
        let started = ContinuousClock.now
        await wakeup.wait(until: started + .seconds(3600))
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test func cancellingTheWaitingTaskEndsTheWait() async {
        #expect(await Self.hourLongWait(endedBy: { _, waiting in waiting.cancel() }) < .seconds(60))
    }

    /// Starts an hour-long wait in a task, calls `end` at once, and returns how long the wait lasted.
    private static func hourLongWait(endedBy end: (Wakeup, Task<Void, Never>) -> Void) async -> Duration {
        let wakeup = Wakeup()
        let started = ContinuousClock.now
        let waiting = Task { await wakeup.wait(until: started + .seconds(3600)) }
        end(wakeup, waiting)
        await waiting.value
        return ContinuousClock.now - started
    }
}
