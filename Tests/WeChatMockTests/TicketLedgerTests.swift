import Testing

@testable import WeChatMock

/// The ticket of each (app, type): plain instants in, grants out.
@Suite struct TicketLedgerTests {
    private let jsapi = TicketLedger.Series(appid: "wx1", type: .jsapi)

    @Test func keepsTheFirstTicketUntilItsLifetimeEndsAndSaysTheFullLifetimeEachTime() {
        var ledger = TicketLedger(lifetime: .seconds(7200))
        let first = ledger.ticket(for: self.jsapi, at: .seconds(0), orNew: "t1")
        let last = ledger.ticket(for: self.jsapi, at: .seconds(7199), orNew: "t2")
        #expect(first == TicketLedger.Grant(ticket: "t1", expiresIn: 7200, isNew: true))
        #expect(last == TicketLedger.Grant(ticket: "t1", expiresIn: 7200, isNew: false))
    }

    @Test func takesTheNewTicketAtTheEndOfTheLifetime() {
        var ledger = TicketLedger(lifetime: .seconds(7200))
        _ = ledger.ticket(for: self.jsapi, at: .seconds(0), orNew: "t1")
        #expect(ledger.ticket(for: self.jsapi, at: .seconds(7200), orNew: "t2").ticket == "t2")
    }

    @Test func keepsEachAppAndTypeApart() {
        var ledger = TicketLedger(lifetime: .seconds(7200))
        _ = ledger.ticket(for: self.jsapi, at: .zero, orNew: "t1")
        #expect(ledger.ticket(for: .init(appid: "wx1", type: .wxCard), at: .zero, orNew: "c1").isNew)
        #expect(ledger.ticket(for: .init(appid: "wx2", type: .jsapi), at: .zero, orNew: "t2").isNew)
    }
}
