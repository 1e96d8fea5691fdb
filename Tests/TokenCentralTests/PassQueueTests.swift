import Testing

@testable import TokenCentral

/// When each entry runs its next pass, as plain values at given instants: no tasks, no sleeping.
@Suite struct PassQueueTests {
    private let start = ContinuousClock.now

    private func at(_ seconds: Int) -> ContinuousClock.Instant { start + .seconds(seconds) }

    /// A queue of `count` entries, every one taken at the start and finished with the given due second.
    private func queue(dueSeconds: [Int]) -> PassQueue {
        var queue = PassQueue(count: dueSeconds.count, now: start)
        while let entry = queue.takeDue(now: start) {
            _ = queue.finish(entry, next: at(dueSeconds[entry]), now: start)
        }
        return queue
    }

    private func drain(_ queue: inout PassQueue, now: ContinuousClock.Instant) -> [Int] {
        var taken: [Int] = []
        while let entry = queue.takeDue(now: now) { taken.append(entry) }
        return taken
    }

    @Test func everyEntryIsDueAtTheStart() {
        var queue = PassQueue(count: 3, now: start)
        #expect(Set(drain(&queue, now: start)) == [0, 1, 2])
    }

    @Test func firstPassesStartFromTheFirstEntryRoundTheEnd() {
        var queue = PassQueue(count: 5, now: start, first: 3)
        #expect(drain(&queue, now: start) == [3, 4, 0, 1, 2])
    }

    @Test func workersWithDifferentIDsStartTheirFirstPassesAtDifferentEntries() {
        let firsts = ["w0", "w1", "w2"].map { PassScheduler.firstEntry(worker: $0, count: 100_000) }
        #expect(Set(firsts).count == 3)
        #expect(PassScheduler.firstEntry(worker: "w1", count: 100_000) == firsts[1], "a restarted worker starts where it did")
    }

    @Test func entriesAreHandedOutInDueOrderOnlyOnceDue() {
        var queue = queue(dueSeconds: [50, 10, 40, 20, 30, 60, 5])
        #expect(queue.nextDue == at(5))
        let early = queue.takeDue(now: at(4))
        #expect(early == nil)
        #expect(drain(&queue, now: at(35)) == [6, 1, 3, 4])
        #expect(drain(&queue, now: at(100)) == [2, 0, 5])
    }

    @Test func aWakeMakesAnEntryDueNowAndNeverLater() {
        var queue = queue(dueSeconds: [50, 10])
        let earliest = queue.wake(0, now: at(3))
        #expect(earliest, "the woken entry is now the earliest")
        #expect(queue.due(0) == at(3))
        let moved = queue.wake(1, now: at(20))
        #expect(!moved, "an entry due at 10 s stays due at 10 s")
        #expect(queue.due(1) == at(10))
    }

    @Test func wakesOfAWaitingEntryCoalesceIntoOnePass() {
        var queue = queue(dueSeconds: [50, 60])
        _ = queue.wake(0, now: at(1))
        _ = queue.wake(0, now: at(2))
        #expect(drain(&queue, now: at(2)) == [0])
    }

    @Test func aRunningEntryIsNotHandedOutAgain() {
        var queue = PassQueue(count: 1, now: start)
        let taken = queue.takeDue(now: start)
        #expect(taken == 0 && queue.isRunning(0))
        _ = queue.wake(0, now: at(1))
        let again = queue.takeDue(now: at(1))
        #expect(again == nil, "a wake during a pass waits for that pass to end")
    }

    @Test func aWakeDuringAPassRunsTheEntryAgainRightAfterIt() {
        var queue = PassQueue(count: 1, now: start)
        _ = queue.takeDue(now: start)
        _ = queue.wake(0, now: at(1))
        _ = queue.wake(0, now: at(1))
        let earliest = queue.finish(0, next: at(100), now: at(2))
        #expect(earliest && queue.due(0) == at(2))
        #expect(drain(&queue, now: at(2)) == [0])
        _ = queue.finish(0, next: at(100), now: at(3))
        #expect(queue.due(0) == at(100), "the wake was used up by the pass after it")
    }

    @Test func finishingReportsWhetherTheEntryIsNowTheEarliest() {
        var queue = PassQueue(count: 2, now: start)
        _ = drain(&queue, now: start)
        let first = queue.finish(0, next: at(30), now: start)
        let second = queue.finish(1, next: at(40), now: start)
        #expect(first && !second)
    }

    @Test func theHeapStaysOrderedThroughManyWakesAndFinishes() {
        var queue = queue(dueSeconds: (0..<200).map { ($0 * 37) % 101 + 10 })
        for entry in stride(from: 0, to: 200, by: 7) { _ = queue.wake(entry, now: at(entry % 13)) }
        var previous = start
        var seen = Set<Int>()
        while let due = queue.nextDue, let entry = queue.takeDue(now: at(1000)) {
            #expect(due >= previous)
            previous = due
            seen.insert(entry)
        }
        #expect(seen.count == 200)
    }
}
