import Testing

@testable import TokenCentral

/// How forced refresh requests queued between two passes of an app's loop are merged. Plain values.
@Suite struct PendingForcedRefreshTests {
    private let start = ContinuousClock.now

    private func request(_ badToken: String?, after milliseconds: Int = 0) -> ForcedRefreshRequest {
        ForcedRefreshRequest(badToken: badToken, receivedAt: start + .milliseconds(milliseconds))
    }

    @Test func nothingQueuedTakesNothing() {
        var pending = PendingForcedRefresh()
        #expect(pending.take(currentToken: "t1") == nil)
    }

    @Test func aRepeatedReportIsMergedIntoTheFirst() {
        var pending = PendingForcedRefresh()
        let first = pending.add(request("t1"))
        #expect(first)
        let repeated = pending.add(request("t1", after: 5))
        #expect(!repeated)
        #expect(pending.take(currentToken: "t1") == request("t1"))
    }

    @Test func aRepeatedRequestWithoutTokenIsMergedIntoTheFirst() {
        var pending = PendingForcedRefresh()
        let first = pending.add(request(nil))
        #expect(first)
        let repeated = pending.add(request(nil, after: 5))
        #expect(!repeated)
    }

    @Test func aReportOfTheCurrentTokenWinsOverStaleOnes() {
        var pending = PendingForcedRefresh()
        pending.add(request("old"))
        pending.add(request("current", after: 10))
        pending.add(request("older", after: 20))
        #expect(pending.take(currentToken: "current") == request("current"))
    }

    @Test func withoutAReportOfTheCurrentTokenARequestWithoutTokenIsTaken() {
        var pending = PendingForcedRefresh()
        pending.add(request("old"))
        pending.add(request(nil, after: 10))
        #expect(pending.take(currentToken: "current") == request(nil))
    }

    @Test func onlyStaleReportsYieldAStaleTokenToBeDeduplicated() {
        var pending = PendingForcedRefresh()
        pending.add(request("old"))
        #expect(pending.take(currentToken: "current")?.badToken == "old")
    }

    @Test func takingEmptiesTheQueue() {
        var pending = PendingForcedRefresh()
        pending.add(request("t1"))
        _ = pending.take(currentToken: "t1")
        #expect(pending.take(currentToken: "t1") == nil)
        let afterTaking = pending.add(request("t1"))
        #expect(afterTaking)
    }

    @Test func aRequestThatClaimedTheCooldownKeepsThatThroughTheQueue() {
        var pending = PendingForcedRefresh()
        var claimed = request("current")
        claimed.claimedCooldown = true
        pending.add(request("current"))
        pending.add(claimed)
        #expect(pending.take(currentToken: "current")?.claimedCooldown == true)
        pending.add(request("current"))
        #expect(pending.take(currentToken: "current")?.claimedCooldown == false)
    }

    @Test func reportsBeyondTheDistinctTokenLimitBecomeARequestWithoutToken() {
        var pending = PendingForcedRefresh()
        for index in 0..<PendingForcedRefresh.maximumDistinctTokens { pending.add(request("stale-\(index)")) }
        let current = pending.add(request("current"))
        #expect(current)
        #expect(pending.take(currentToken: "current")?.badToken == nil)
    }
}
