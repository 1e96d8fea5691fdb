import Foundation
import RedisClient
import TestSupport
import Testing

@testable import TokenCentral

/// The forced-refresh budget as the accept script applies it, on the real test Redis: plain requests
/// against a seeded token, no worker, no upstream.
@Suite struct ForcedRefreshBudgetTests {
    let store: TokenStore
    private var appid: String { "wxbudget" }

    /// Each test gets its own key prefix on the shared Redis.
    init() throws { store = try .onSharedRedis("budget") }

    /// Stores `token` as a worker would, issued `age` ago.
    private func seed(_ token: String, age: Duration = .seconds(3600)) async throws {
        let issued = try await store.time().redisNow() - age.milliseconds
        _ = try await store.write(appid: appid, token: token, issued: issued...issued, lifetimeMillis: 7_200_000 + age.milliseconds,
                                  worker: "test", grant: .token)
    }

    private func accept(_ badToken: String?, _ budget: ForcedRefreshBudget) async throws -> ForcedRefreshVerdict {
        try await store.acceptForcedRefresh(appid, badToken: badToken, budget: budget, worker: "test")
    }

    private func cleanUp() async throws {
        try await deleteKeys(withPrefix: store.keys.prefix, on: store.redis)
    }

    private static let generous = ForcedRefreshBudget(minimumTokenAge: .zero, hourly: 100, daily: 100, cooldown: .seconds(60))

    @Test func aReportOfTheCurrentTokenStandsUntilANewerTokenIsWritten() async throws {
        try await seed("t1")
        guard case .accepted(let since) = try await accept("t1", Self.generous) else { Issue.record("not accepted"); return }
        #expect(try await accept("t1", Self.generous) == .standing(since: since))
        #expect(try await store.snapshot(appid).status.forcedAt == since)
        try await seed("t2", age: .zero)
        #expect(try await store.snapshot(appid).status.forcedAt == nil)
        #expect(try await accept("t1", Self.generous) == .stale)
        try await cleanUp()
    }

    @Test func aReportOfATokenYoungerThanTheMinimumAgeIsRefused() async throws {
        try await seed("young", age: .seconds(5))
        let budget = ForcedRefreshBudget(minimumTokenAge: .seconds(60), hourly: 100, daily: 100, cooldown: .seconds(60))
        guard case .refused(let refusal) = try await accept("young", budget) else { Issue.record("not refused"); return }
        #expect(refusal.reason == .minimumTokenAge)
        #expect(refusal.firstInPeriod)
        let status = try await store.snapshot(appid).status
        #expect(status.forcedAt == nil)
        #expect(status.forcedRefusal?.reason == .minimumTokenAge)
        #expect(status.forcedRefusal?.until == status.record.map { $0.issuedMax + 60_000 })
        try await cleanUp()
    }

    @Test func theHourlyBudgetRefusesAndWarnsOncePerHour() async throws {
        let budget = ForcedRefreshBudget(minimumTokenAge: .zero, hourly: 2, daily: 100, cooldown: .seconds(60))
        var verdicts: [ForcedRefreshVerdict] = []
        for index in 0..<5 {
            try await seed("t\(index)", age: .seconds(3600 - index))
            verdicts.append(try await accept("t\(index)", budget))
        }
        #expect(verdicts.prefix(2).allSatisfy { $0.standingSince != nil })
        let refusals = verdicts.dropFirst(2).compactMap { verdict -> ForcedRefreshRefusal? in
            if case .refused(let refusal) = verdict { refusal } else { nil }
        }
        #expect(refusals.map(\.reason) == [.hourlyBudget, .hourlyBudget, .hourlyBudget])
        #expect(refusals.map(\.firstInPeriod) == [true, false, false])
        try await cleanUp()
    }

    @Test func theDailyBudgetRefusesBeforeTheHourlyOne() async throws {
        let budget = ForcedRefreshBudget(minimumTokenAge: .zero, hourly: 1, daily: 1, cooldown: .seconds(60))
        try await seed("t1")
        _ = try await accept("t1", budget)
        try await seed("t2", age: .seconds(3599))
        guard case .refused(let refusal) = try await accept("t2", budget) else { Issue.record("not refused"); return }
        #expect(refusal.reason == .dailyBudget)
        // Until the next midnight, Beijing time, when WeChat's own daily count starts again.
        let now = try await store.time().redisNow()
        #expect(refusal.until > now && refusal.until <= now + 86_400_000)
        #expect((refusal.until + 8 * 3_600_000) % 86_400_000 == 0)
        try await cleanUp()
    }

    @Test func requestsWithoutTokenWithinTheCooldownCostNoBudget() async throws {
        let budget = ForcedRefreshBudget(minimumTokenAge: .zero, hourly: 2, daily: 2, cooldown: .seconds(60))
        try await seed("t1")
        #expect(try await accept(nil, budget).standingSince != nil)
        try await seed("t2", age: .seconds(3599))
        for _ in 0..<5 { #expect(try await accept(nil, budget) == .cooldown) }
        #expect(try await accept("t2", budget).standingSince != nil, "the cooldown spent no budget")
        try await cleanUp()
    }

    @Test func staleReportsNeverReachTheBudget() async throws {
        let budget = ForcedRefreshBudget(minimumTokenAge: .zero, hourly: 1, daily: 1, cooldown: .seconds(60))
        try await seed("current")
        for index in 0..<200 { #expect(try await accept("stale-\(index)", budget) == .stale) }
        #expect(try await accept("current", budget).standingSince != nil)
        try await cleanUp()
    }
}
