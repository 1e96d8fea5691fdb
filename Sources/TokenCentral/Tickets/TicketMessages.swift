import Synchronization

/// Hands what the token refresher's subscription hears about tickets to the `TicketRefresher`, so that a
/// worker keeps one subscription: a second one doubled the messages every worker parses in a storm of
/// reports on `P:refresh`, and under that load a token lease holder stalled past its lease.
final class TicketMessages: Sendable {
    enum Event: Sendable {
        /// The subscription was (re-)established: announcements may have been missed.
        case resubscribed
        /// Any `P:refreshed` announcement: a new ticket, or a new token a keeper may be waiting for.
        case announced(RefreshedAnnouncement)
        /// A `P:refresh` request naming a ticket.
        case requested(RefreshMessage)
    }

    /// The receiver, wrapped: a closure stored directly as a `Mutex`'s generic value is re-wrapped in a
    /// reabstraction thunk at every `withLock` access, so each delivered event made every later call one
    /// level deeper. After the announcements of a 100,000-app fill that chain took most of a worker's CPU
    /// and would in the end overflow the stack. A struct field keeps the closure as it was stored.
    private struct Handler: Sendable {
        let receive: @Sendable (Event) -> Void
    }

    private let handler = Mutex<Handler?>(nil)

    /// Sets who receives the events (the worker's `TicketRefresher`).
    func deliver(to handler: @escaping @Sendable (Event) -> Void) {
        self.handler.withLock { $0 = Handler(receive: handler) }
    }

    func deliver(_ event: Event) {
        handler.withLock { $0 }?.receive(event)
    }
}
