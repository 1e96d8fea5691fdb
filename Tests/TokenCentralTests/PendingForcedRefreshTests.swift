import Testing

@testable import TokenCentral

/// How forced refresh requests queued between two passes of an app's loop are merged. Plain values.
@Suite struct PendingForcedRefreshTests {
    private func request(_ badToken: String?) -> ForcedRefreshRequest {
        ForcedRefreshRequest(badToken: badToken)
    }

    @Test func nothingQueuedTakesNothing() {
        var pending = PendingForcedRefresh()
        #expect(pending.take(currentToken: "t1")?.request == nil)
    }

    @Test func aRepeatedReportIsMergedIntoTheFirst() {
        var pending = PendingForcedRefresh()
        let first = pending.add(request("t1"))
        #expect(first)
        let repeated = pending.add(request("t1"))
        #expect(!repeated)
        #expect(pending.take(currentToken: "t1")?.request == request("t1"))
    }

    @Test func aRepeatedRequestWithoutTokenIsMergedIntoTheFirst() {
        var pending = PendingForcedRefresh()
        let first = pending.add(request(nil))
        #expect(first)
        let repeated = pending.add(request(nil))
        #expect(!repeated)
    }

    @Test func aReportOfTheCurrentTokenWinsOverStaleOnes() {
        var pending = PendingForcedRefresh()
        pending.add(request("old"))
        pending.add(request("current"))
        pending.add(request("older"))
        let taken = pending.take(currentToken: "current")
        #expect(taken?.request == request("current"))
        #expect(taken?.others == 2, "the stale reports are counted as merged into it")
    }

    @Test func withoutAReportOfTheCurrentTokenARequestWithoutTokenIsTaken() {
        var pending = PendingForcedRefresh()
        pending.add(request("old"))
        pending.add(request(nil))
        #expect(pending.take(currentToken: "current")?.request == request(nil))
    }

    @Test func onlyStaleReportsYieldAStaleTokenToBeDeduplicated() {
        var pending = PendingForcedRefresh()
        pending.add(request("old"))
        #expect(pending.take(currentToken: "current")?.request.badToken == "old")
    }

    @Test func takingEmptiesTheQueue() {
        var pending = PendingForcedRefresh()
        pending.add(request("t1"))
        _ = pending.take(currentToken: "t1")
        #expect(pending.take(currentToken: "t1")?.request == nil)
        let afterTaking = pending.add(request("t1"))
        #expect(afterTaking)
    }

    @Test func aFloodOfStaleTokensBeyondTheLimitNeverBecomesARequestWithoutToken() {
        var pending = PendingForcedRefresh()
        for index in 0..<(PendingForcedRefresh.maximumDistinctTokens * 4) { pending.add(request("stale-\(index)")) }
        #expect(pending.take(currentToken: "current")?.request.badToken?.hasPrefix("stale-") == true)
    }

    @Test func aReportBeyondTheLimitIsDroppedUnlessItNamesTheKnownCurrentToken() {
        var pending = PendingForcedRefresh()
        for index in 0..<PendingForcedRefresh.maximumDistinctTokens { pending.add(request("stale-\(index)")) }
        let unknown = pending.add(request("unknown"), knownCurrent: "current")
        #expect(!unknown)
        let current = pending.add(request("current"), knownCurrent: "current")
        #expect(current)
        #expect(pending.take(currentToken: "current")?.request == request("current"))
    }
}
