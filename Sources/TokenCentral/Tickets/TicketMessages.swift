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

    private let handler = Mutex<(@Sendable (Event) -> Void)?>(nil)

    /// Sets who receives the events (the worker's `TicketRefresher`).
    func deliver(to handler: @escaping @Sendable (Event) -> Void) {
        self.handler.withLock { $0 = handler }
    }

    func deliver(_ event: Event) {
        handler.withLock { $0 }?(event)
    }
}
