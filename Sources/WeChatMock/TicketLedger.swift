/// The kinds of ticket `getticket` hands out, by their `type` parameter.
enum TicketType: String, Sendable, Hashable, CaseIterable {
    /// For the JS-SDK's `wx.config` signature.
    case jsapi
    /// The card (卡券) `api_ticket`.
    case wxCard = "wx_card"
}

/// The current ticket of every (app, type), the way WeChat keeps them.
///
/// WeChat answers `getticket` with the **same** ticket for as long as it lives and always says
/// `expires_in: 7200`, never the time left: a caller cannot learn a ticket's age from the answer,
/// which is why TokenCentral tracks a ticket's lifetime from when it first saw it. A ticket does not
/// depend on the access_token that fetched it: a new token leaves it valid. A pure value: time comes in
/// as an instant (an offset from the mock's start), so expiry is unit-tested without sleeping.
struct TicketLedger: Sendable {
    struct Series: Hashable, Sendable {
        var appid: String
        var type: TicketType
    }

    /// What `getticket` answers.
    struct Grant: Equatable, Sendable {
        var ticket: String
        /// Always the full lifetime, as WeChat reports it.
        var expiresIn: Int
        /// True when this call created the ticket.
        var isNew: Bool
    }

    private struct Record: Sendable {
        let ticket: String
        let expiresAt: Duration
    }

    /// How long a new ticket lives.
    let lifetime: Duration
    private var current: [Series: Record] = [:]

    init(lifetime: Duration) {
        self.lifetime = lifetime
    }

    /// The series' ticket while it lives; otherwise `newTicket` becomes the current one.
    mutating func ticket(for series: Series, at now: Duration, orNew newTicket: String) -> Grant {
        let expiresIn = Int(self.lifetime.components.seconds)
        if let record = self.current[series], now < record.expiresAt {
            return Grant(ticket: record.ticket, expiresIn: expiresIn, isNew: false)
        }
        self.current[series] = Record(ticket: newTicket, expiresAt: now + self.lifetime)
        return Grant(ticket: newTicket, expiresIn: expiresIn, isNew: true)
    }
}
