import Testing

@testable import WeChatMock

@Suite struct TokenLedgerTests {
    private let app = TokenSeries(id: "wx1", kind: .token)

    /// A ledger (7200 s lifetime, 300 s overlap) in which `app` was issued each token at its instant (seconds).
    private func ledger(issuing tokens: [(String, Int)]) -> TokenLedger {
        var ledger = TokenLedger(lifetime: .seconds(7200), overlap: .seconds(300))
        for (token, instant) in tokens {
            _ = ledger.issue(token, for: self.app, at: .seconds(instant))
        }
        return ledger
    }

    @Test func newTokenReportsFullLifetime() {
        var ledger = self.ledger(issuing: [])
        let grant = ledger.issue("t1", for: self.app, at: .seconds(10))
        #expect(grant == TokenLedger.Grant(token: "t1", expiresIn: 7200))
    }

    @Test func tokenIsValidUntilItsLifetimeEnds() {
        let ledger = self.ledger(issuing: [("t1", 0)])
        #expect(ledger.validate("t1", at: .seconds(7199)).result == .ok)
        #expect(ledger.validate("t1", at: .seconds(7200)).result == .expired)
    }

    @Test func supersededTokenWorksDuringOverlap() {
        let ledger = self.ledger(issuing: [("t1", 0), ("t2", 100)])
        #expect(ledger.validate("t1", at: .seconds(399)).result == .ok)
    }

    @Test func supersededTokenIsRejectedAfterOverlap() {
        let ledger = self.ledger(issuing: [("t1", 0), ("t2", 100)])
        #expect(ledger.validate("t1", at: .seconds(400)).result == .superseded)
        #expect(ledger.validate("t2", at: .seconds(400)).result == .ok)
    }

    @Test func aRevokedTokenIsRejectedAtOnceAndIsNoLongerCurrent() {
        var ledger = self.ledger(issuing: [("t1", 0)])
        let revoked = ledger.revokeCurrent(of: self.app, at: .seconds(100))
        #expect(revoked)
        #expect(ledger.validate("t1", at: .seconds(100)).result == .superseded)
        #expect(ledger.currentGrant(for: self.app, at: .seconds(100)) == nil)
        let again = ledger.revokeCurrent(of: self.app, at: .seconds(101))
        #expect(!again)
    }

    @Test func expiryWinsOverSupersession() {
        let ledger = self.ledger(issuing: [("t1", 0), ("t2", 7000)])
        #expect(ledger.validate("t1", at: .seconds(7400)).result == .expired)
    }

    @Test func unknownTokenIsUnknownAndOwnerless() {
        let (result, owner) = self.ledger(issuing: []).validate("never-issued", at: .zero)
        #expect(result == .unknown)
        #expect(owner == nil)
    }

    @Test func validationNamesTheOwningSeries() {
        #expect(self.ledger(issuing: [("t1", 0)]).validate("t1", at: .zero).owner == self.app)
    }

    @Test func currentGrantReportsRemainingWholeSeconds() {
        let grant = self.ledger(issuing: [("t1", 0)]).currentGrant(for: self.app, at: .milliseconds(1500))
        #expect(grant == TokenLedger.Grant(token: "t1", expiresIn: 7198))
    }

    @Test func currentGrantIsNilOnceExpired() {
        #expect(self.ledger(issuing: [("t1", 0)]).currentGrant(for: self.app, at: .seconds(7200)) == nil)
    }

    @Test func issuingInOneSeriesLeavesOthersCurrent() {
        let stable = TokenSeries(id: "wx1", kind: .stable)
        var ledger = self.ledger(issuing: [])
        _ = ledger.issue("s1", for: stable, at: .zero)
        _ = ledger.issue("t1", for: self.app, at: .zero)
        _ = ledger.issue("t2", for: self.app, at: .zero)
        #expect(ledger.currentGrant(for: stable, at: .seconds(301))?.token == "s1")
        #expect(ledger.validate("s1", at: .seconds(301)).result == .ok)
    }
}
