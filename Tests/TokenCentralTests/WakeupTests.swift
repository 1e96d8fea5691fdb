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
        let wakeup = Wakeup()
        let started = ContinuousClock.now
        // Whether the signal lands before the task parks or during its wait, the wait ends.
        let waiting = Task { await wakeup.wait(until: started + .seconds(3600)) }
        wakeup.signal()
        await waiting.value
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test func aSignalGivenWhileNobodyWaitsEndsTheNextWaitAtOnce() async {
        let wakeup = Wakeup()
        wakeup.signal()
        let started = ContinuousClock.now
        await wakeup.wait(until: started + .seconds(3600))
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test func cancellingTheWaitingTaskEndsTheWait() async {
        let wakeup = Wakeup()
        let started = ContinuousClock.now
        let waiting = Task { await wakeup.wait(until: started + .seconds(3600)) }
        waiting.cancel()
        await waiting.value
        #expect(ContinuousClock.now - started < .seconds(60))
    }
}
