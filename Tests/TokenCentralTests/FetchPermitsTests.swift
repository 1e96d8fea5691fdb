import RedisClient
import Synchronization
import TestSupport
import Testing

@testable import TokenCentral

/// The per-worker bound on upstream calls in flight, with plain tasks: no Redis, no upstream.
@Suite(.timeLimit(.minutes(1))) struct FetchPermitsTests {
    /// A body that holds its permit until `open` is called.
    private struct Gate: Sendable {
        let stream: AsyncStream<Void>
        let continuation: AsyncStream<Void>.Continuation

        init() { (stream, continuation) = AsyncStream.makeStream(of: Void.self) }

        func wait() async {
            for await _ in stream { return }
        }

        func open() { continuation.finish() }
    }

    /// The bodies that ran, in the order they started.
    private final class Entries: Sendable {
        private let entries = Mutex<[Int]>([])
        func append(_ index: Int) { entries.withLock { $0.append(index) } }
        var all: [Int] { entries.withLock { $0 } }
    }

    private func holdPermit(_ permits: FetchPermits, until gate: Gate) -> Task<Int?, any Error> {
        Task { try await permits.withPermit { () async throws(RedisError) -> Int in
            await gate.wait()
            return 1
        } }
    }

    /// A limit of one permit, held by a call until `gate` opens; returns once that call holds it.
    private func holdTheOnlyPermit() async throws -> (permits: FetchPermits, gate: Gate, holder: Task<Int?, any Error>) {
        let permits = FetchPermits(limit: 1)
        let gate = Gate()
        let holder = holdPermit(permits, until: gate)
        try await waitUntil("the first call holds the permit") { permits.counts.available == 0 }
        return (permits, gate, holder)
    }

    /// A call that, once it holds a permit, appends `index` to `entries` and returns it.
    private func call(_ permits: FetchPermits, _ index: Int, recordingIn entries: Entries) -> Task<Int?, any Error> {
        Task { try await permits.withPermit { () async throws(RedisError) -> Int in
            entries.append(index)
            return index
        } }
    }

    @Test func aCallBeyondTheLimitWaitsUntilAPermitIsReturned() async throws {
        let (permits, gate, holder) = try await holdTheOnlyPermit()
        let entered = Entries()
        let waiter = call(permits, 2, recordingIn: entered)
        try await waitUntil("the second call waits") { permits.counts.waiting == 1 }
        #expect(entered.all.isEmpty)
        gate.open()
        #expect(try await holder.value == 1)
        #expect(try await waiter.value == 2)
        #expect(permits.counts == (available: 1, waiting: 0))
    }

    @Test func waitersAreServedInArrivalOrder() async throws {
        let (permits, gate, holder) = try await holdTheOnlyPermit()
        let order = Entries()
        var waiters: [Task<Int?, any Error>] = []
        for index in 0..<5 {
            waiters.append(call(permits, index, recordingIn: order))
            try await waitUntil("waiter \(index) queued") { permits.counts.waiting == index + 1 }
        }
        gate.open()
        _ = try await holder.value
        for waiter in waiters { _ = try await waiter.value }
        #expect(order.all == [0, 1, 2, 3, 4])
    }

    @Test func aWaiterCancelledBeforeItsTurnRunsNothingAndLeavesTheQueue() async throws {
        let (permits, gate, holder) = try await holdTheOnlyPermit()
        let entered = Entries()
        let waiter = call(permits, 2, recordingIn: entered)
        try await waitUntil("the waiter is queued") { permits.counts.waiting == 1 }
        waiter.cancel()
        #expect(try await waiter.value == nil)
        #expect(permits.counts.waiting == 0)
        gate.open()
        _ = try await holder.value
        #expect(entered.all.isEmpty)
        #expect(permits.counts == (available: 1, waiting: 0))
    }

    @Test func aThrowingBodyReturnsItsPermit() async throws {
        let permits = FetchPermits(limit: 1)
        await #expect(throws: RedisError.self) {
            try await permits.withPermit { () async throws(RedisError) -> Int in throw RedisError(.timeout, "test") }
        }
        #expect(permits.counts == (available: 1, waiting: 0))
    }
}
