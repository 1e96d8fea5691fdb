import Testing
@testable import TokenCentral

/// When a ticket is due, from plain values.
@Suite struct TicketScheduleTests {
    let schedule = TicketSchedule(schedule: RefreshSchedule(ahead: .seconds(300), lockTTL: .seconds(30)))
    /// Issued within 0...100 ms, 7200 s lifetime: expires at 7,200,000 (counted from the window's start).
    let ticket = TokenRecord(token: "t", expiresAt: 7_200_000, fetchedAt: 100, generation: 1, worker: "w", grant: .token,
                             lifetime: 7_200_000, issuedMin: 0, issuedMax: 100)

    func status(renewsAtExpiry: Bool, forced: Bool = false) -> AppStatus {
        var status = AppStatus(record: ticket)
        status.renewsAtExpiry = renewsAtExpiry
        status.forcedAt = forced ? 1 : nil
        return status
    }

    @Test func firstTicketIsRefreshedAheadOfExpiry() {
        let now: Int64 = 7_200_000 - 299_000
        #expect(schedule.decide(status(renewsAtExpiry: false), subject: "wx:jsapi", nowMillis: now) == .refresh(.due))
    }

    @Test func afterTheSameTicketCameBackAheadTheNextIsAskedForOnceUpstreamCertainlyRetiredIt() {
        let ahead: Int64 = 7_200_000 - 299_000
        #expect(schedule.decide(status(renewsAtExpiry: true), subject: "wx:jsapi", nowMillis: ahead) == .wait(untilMillis: 7_200_101))
        // Past the stored expiry (the key is gone) but within the first call's window: still wait.
        #expect(schedule.decide(status(renewsAtExpiry: true), subject: "wx:jsapi", nowMillis: 7_200_050) == .wait(untilMillis: 7_200_101))
        #expect(schedule.decide(status(renewsAtExpiry: true), subject: "wx:jsapi", nowMillis: 7_200_101) == .refresh(.expired))
    }

    @Test func forcedTicketRefreshIsNotDeferredToExpiry() {
        #expect(schedule.decide(status(renewsAtExpiry: true, forced: true), subject: "wx:jsapi", nowMillis: 1000) == .refresh(.forced))
    }
}
