import Synchronization

/// The jobs a `PassScheduler` drives: entry `entry` runs one pass and says when it wants the next.
/// Apps' refreshers are one kind; any job shaped as "one pass → next due instant" can be another.
protocol PassJobs: Sendable {
    func runPass(_ entry: Int) async -> ContinuousClock.Instant
}

/// Runs the passes of many entries on a few runner tasks, each entry when it is due (`PassQueue`).
///
/// A task per app, each with its own timer, costs tens of kilobytes per app and wakes the executor for
/// every app: this keeps one timer (the earliest due entry, and only while a runner is idle) and a fixed
/// number of runners however many entries there are. `wake` makes an entry due at once, coalesced: an
/// entry never runs two passes at the same time, and a wake during its pass runs it again right after.
/// Cancelling `run` (graceful shutdown) ends every runner after its current pass, which sees the
/// cancellation and releases what it holds.
final class PassScheduler: Sendable {
    private struct Parked {
        var id: UInt64
        var continuation: CheckedContinuation<Int?, Never>
    }

    private struct State {
        var queue: PassQueue
        var parked: [Parked] = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>
    /// Wakes the dispatcher when an entry is due earlier than it sleeps, or a runner went idle.
    private let timer = Wakeup()

    /// - Parameter first: the entry the first passes start from (`firstEntry(worker:count:)`).
    init(count: Int, first: Int = 0) {
        state = Mutex(State(queue: PassQueue(count: count, now: .now, first: first)))
    }

    /// Where a worker's first passes start: a stable hash of its id over the entries.
    ///
    /// Workers started together and walking the apps in the same order all reach each app at once: one
    /// takes its lease, the others spend a lease attempt, a wait and a re-read on it, app after app. From
    /// different starting points each worker fetches apps the others have not reached yet, and finds the
    /// token already stored when it gets to theirs. The same id keeps its start across restarts.
    static func firstEntry(worker: String, count: Int) -> Int {
        guard count > 0 else { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in worker.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(hash % UInt64(count))
    }

    /// Makes `entry` due now (see `PassQueue.wake`).
    func wake(_ entry: Int) {
        if state.withLock({ $0.queue.wake(entry, now: .now) }) { timer.signal() }
    }

    /// Makes every entry due now: after a resubscription (announcements were lost) or a Redis clock step.
    func wakeAll() {
        state.withLock { state in
            let now = ContinuousClock.now
            for entry in 0..<state.queue.count { _ = state.queue.wake(entry, now: now) }
        }
        timer.signal()
    }

    /// Runs passes on `runners` tasks until cancelled.
    func run(runners: Int, _ jobs: some PassJobs) async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<max(runners, 1) {
                group.addTask { await self.runPasses(jobs) }
            }
            group.addTask { await self.dispatch() }
            await group.waitForAll()
        }
    }

    private func runPasses(_ jobs: some PassJobs) async {
        while let entry = await take() {
            let next = await jobs.runPass(entry)
            if state.withLock({ $0.queue.finish(entry, next: next, now: .now) }) { timer.signal() }
        }
    }

    /// The next due entry, waiting for one; nil when the task is cancelled.
    private func take() async -> Int? {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int?, Never>) in
                enum Action { case resume(Int?), park(lookAgain: Bool) }
                let action = state.withLock { state -> Action in
                    if Task.isCancelled { return .resume(nil) }
                    if let entry = state.queue.takeDue(now: .now) { return .resume(entry) }
                    state.parked.append(Parked(id: id, continuation: continuation))
                    return .park(lookAgain: state.queue.nextDue != nil)
                }
                switch action {
                case .resume(let entry): continuation.resume(returning: entry)
                case .park(let lookAgain): if lookAgain { timer.signal() }
                }
            }
        } onCancel: {
            let parked = state.withLock { state -> Parked? in
                guard let index = state.parked.firstIndex(where: { $0.id == id }) else { return nil }
                return state.parked.remove(at: index)
            }
            parked?.continuation.resume(returning: nil)
        }
    }

    /// Hands due entries to idle runners, then sleeps until the earliest entry is due (only while a
    /// runner is idle to take it: busy runners look at the queue themselves when their pass ends).
    private func dispatch() async {
        while !Task.isCancelled {
            let (handouts, deadline) = state.withLock { state -> ([(Parked, Int)], ContinuousClock.Instant?) in
                var handouts: [(Parked, Int)] = []
                let now = ContinuousClock.now
                while !state.parked.isEmpty, let entry = state.queue.takeDue(now: now) {
                    handouts.append((state.parked.removeLast(), entry))
                }
                return (handouts, state.parked.isEmpty ? nil : state.queue.nextDue)
            }
            for (runner, entry) in handouts { runner.continuation.resume(returning: entry) }
            await timer.wait(until: deadline ?? .now + .seconds(3600))
        }
    }
}
