import Foundation
import Synchronization

/// A dedicated OS thread that runs blocking jobs one after another, with exclusive access to a value
/// confined to it (a `RedisConnection`).
///
/// hiredis calls block for up to the command timeout; running them on Swift's cooperative pool would
/// starve every other task (the pool has one thread per core: two on our machines). Each worker owns
/// one thread, so a slow Redis stalls only the callers of that connection.
///
/// `@unchecked Sendable`: `jobs` and `isStopping` are only touched with `condition` locked, and
/// `confined` only on the worker's own thread, so no state is shared unsynchronized.
final class BlockingWorker<Confined>: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [(inout Confined) -> Void] = []
    private var isStopping = false
    private var confined: Confined
    /// Jobs submitted and not yet taken: lets the thread notice new work without the lock while spinning.
    private let queued = Atomic(0)

    /// How long an idle worker polls for the next job before sleeping on the condition. A caller that
    /// sends commands back to back (the common case) then finds the thread awake: waking a sleeping
    /// thread costs more than the whole Redis round trip on loopback.
    private static var spinDuration: Duration { .microseconds(50) }

    init(name: String, confined: Confined) {
        self.confined = confined
        let thread = Thread { [self] in runLoop() }
        thread.name = name
        thread.start()
    }

    /// Runs `body` on the worker's thread and returns its result to the awaiting task.
    func run<Result: Sendable>(
        _ body: @escaping @Sendable (inout Confined) throws(RedisError) -> Result
    ) async throws(RedisError) -> Result {
        let outcome: Swift.Result<Result, RedisError> = await withUnsafeContinuation { continuation in
            let accepted = submit { confined in
                do throws(RedisError) {
                    continuation.resume(returning: .success(try body(&confined)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            if !accepted {
                continuation.resume(returning: .failure(RedisError(.shutdown, "the Redis client was shut down")))
            }
        }
        return try outcome.get()
    }

    /// Lets queued jobs finish, runs `cleanup` last on the thread, then ends the thread.
    func shutdown(cleanup: @escaping @Sendable (inout Confined) -> Void) {
        _ = submit(cleanup)
        condition.lock()
        isStopping = true
        condition.signal()
        condition.unlock()
    }

    private func submit(_ job: @escaping (inout Confined) -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !isStopping else { return false }
        jobs.append(job)
        queued.add(1, ordering: .releasing)
        condition.signal()
        return true
    }

    private func runLoop() {
        var batch: [(inout Confined) -> Void] = []
        while true {
            let spinUntil = ContinuousClock.now + Self.spinDuration
            while queued.load(ordering: .acquiring) == 0, ContinuousClock.now < spinUntil { sched_yield() }
            condition.lock()
            while jobs.isEmpty && !isStopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            swap(&batch, &jobs)
            queued.subtract(batch.count, ordering: .relaxed)
            condition.unlock()
            for job in batch { job(&confined) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}

/// A worker is also a task executor: a task that prefers it (`withTaskExecutorPreference`) runs on the
/// worker's thread between its Redis calls, so submitting a command and resuming after the reply need
/// no wake-up of another thread.
extension BlockingWorker: TaskExecutor {
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let accepted = submit { _ in job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        // A stopping worker runs no more jobs: hand the task to the global executor instead.
        if !accepted { globalConcurrentExecutor.enqueue(job) }
    }
}
