import Testing

@testable import WeChatMock

@Suite struct QuotaCounterTests {
    /// Consumes once at each instant (seconds) and reports which uses were allowed.
    private func uses(limit: Int = 2, at instants: [Int]) -> [Bool] {
        var quota = QuotaCounter(limit: limit, window: .seconds(100))
        return instants.map { quota.consume(at: .seconds($0)) }
    }

    @Test func allowsLimitUsesPerWindow() {
        #expect(self.uses(at: [1, 2, 3]) == [true, true, false])
    }

    @Test func refillsWhenTheNextWindowStarts() {
        #expect(self.uses(at: [1, 2, 100]) == [true, true, true])
    }

    @Test func windowsAreAlignedOnTheStartNotOnFirstUse() {
        #expect(self.uses(at: [99, 99, 101]) == [true, true, true])
    }

    @Test func zeroLimitRejectsEveryUse() {
        #expect(self.uses(limit: 0, at: [0]) == [false])
    }
}
