import Dispatch
import Synchronization

/// Lets one waiting task sleep until a deadline or until someone signals it, whichever comes first.
///
/// Signals that arrive while nobody waits are remembered (coalesced into one), so an entry made due
/// while the scheduler's dispatcher was busy still makes its next wait return at once.
///
/// The deadline is a dispatch timer cancelled the moment the wait ends. A `Task.sleep` cancelled early
/// is not: its timer and task stay queued until the original deadline. The scheduler's dispatcher waits
/// up to an hour and is signalled at every wake, so those leftovers piled up by the thousand (2.7 MB at
/// 10,000 apps) and kept the dispatch timer thread busy when they fired.
final class Wakeup: Sendable {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Void, Never>
        /// Set once armed; nil while it is being armed.
        var timer: DeadlineTimer? = nil
    }

    /// A dispatch timer as a `Sendable` value: dispatch sources are thread-safe (`cancel` may be called
    /// from any thread), the Swift overlay just does not say so.
    private struct DeadlineTimer: @unchecked Sendable {
        let source: any DispatchSourceTimer
    }

    private struct State {
        var pending = false
        var waiter: Waiter?
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    private static let timers = DispatchQueue(label: "tokencentral.wakeup")

    func signal() {
        let waiter = state.withLock { state -> Waiter? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        if let waiter { Self.end(waiter) }
    }

    /// Returns at `deadline`, on `signal()`, or when the task is cancelled.
    func wait(until deadline: ContinuousClock.Instant) async {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = Waiter(id: id, continuation: continuation)
                    return false
                }
                if resumeNow { return continuation.resume() }
                // Armed outside the lock, then handed to the wait if it still waits: a signal or the
                // cancellation may have ended it meanwhile, and then the timer is not needed.
                let timer = DeadlineTimer(source: DispatchSource.makeTimerSource(queue: Self.timers))
                timer.source.setEventHandler { [self] in endWait(id) }
                timer.source.schedule(deadline: .now() + .nanoseconds(Int(clamping: max((deadline - .now).nanoseconds, 0))))
                timer.source.activate()
                let stillWaiting = state.withLock { state -> Bool in
                    guard state.waiter?.id == id else { return false }
                    state.waiter?.timer = timer
                    return true
                }
                if !stillWaiting { timer.source.cancel() }
            }
        } onCancel: {
            endWait(id)
        }
    }

    /// Ends wait `id` if it still waits (its deadline passed, or its task was cancelled).
    private func endWait(_ id: UInt64) {
        let waiter = state.withLock { state -> Waiter? in
            guard state.waiter?.id == id else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        if let waiter { Self.end(waiter) }
    }

    private static func end(_ waiter: Waiter) {
        waiter.timer?.source.cancel()
        waiter.continuation.resume()
    }
}
