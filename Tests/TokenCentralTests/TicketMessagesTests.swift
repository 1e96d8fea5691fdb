import Synchronization
import Testing

@testable import TokenCentral

@Suite struct TicketMessagesTests {
    /// A closure kept directly in a `Mutex` gained a reabstraction thunk at every delivery, so the
    /// announcements of a large fill made each call deeper until the stack overflowed.
    @Test func twoHundredThousandDeliveriesEachReachTheReceiverOnce() {
        let messages = TicketMessages()
        let received = ReceivedCount()
        messages.deliver { _ in received.add() }
        for _ in 0..<200_000 { messages.deliver(.resubscribed) }
        #expect(received.value == 200_000)
    }
}

private final class ReceivedCount: Sendable {
    private let count = Mutex(0)

    func add() { count.withLock { $0 += 1 } }

    var value: Int { count.withLock { $0 } }
}
