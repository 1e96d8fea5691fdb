import CoreMetrics
import Testing

@testable import TokenCentral

/// `metrics.per_app`: which apps' series `/metrics` renders in each mode, from plain values: no server.
@Suite struct PerAppMetricsTests {
    /// 7,200 s tokens with `refresh.ahead` 300 s: due 300 s before expiry, overdue within 150 s of it.
    private let schedule = RefreshSchedule(ahead: .seconds(300), lockTTL: .seconds(30))
    /// The Redis time the apps' tokens are observed and the metrics rendered at.
    private let now: Int64 = 1_000_000_000

    private func render(_ apps: [AppMetrics], _ mode: PerAppMetrics) -> String {
        let worker = TokenMetrics(factory: NOOPMetricsHandler.instance, perApp: PerAppMetricsFilter(mode: mode, schedule: schedule))
        return String(decoding: MetricsExposition.render(apps, worker: worker, nowMillis: now), as: UTF8.self)
    }

    /// An app whose token was fetched `age` seconds ago and expires in `left` seconds.
    private func app(_ appid: String, age: Int64 = 600, left: Int64 = 6600) -> AppMetrics {
        let metrics = AppMetrics(appid: appid, endpoint: "/cgi-bin/token")
        metrics.observe(
            TokenRecord(token: "t", expiresAt: now + left * 1000, fetchedAt: now - age * 1000, generation: 1, worker: "w", grant: .token,
                        lifetime: (age + left) * 1000, issuedMin: now - age * 1000, issuedMax: now - age * 1000))
        return metrics
    }

    private func attention(left: Int64 = 6600, age: Int64 = 600, failed: Bool = false, refused: Bool = false) -> Bool {
        AppAttention(expiresInMillis: left * 1000, ageMillis: age * 1000, lastCallFailed: failed, forcedRefused: refused)
            .needsAttention(schedule: schedule)
    }

    @Test func allModeRendersEveryApp() {
        let text = render([app("wxfine"), app("wxother")], .all)
        #expect(sampleValue(#"tokencentral_token_generation{app="wxfine"}"#, in: text) == 1)
        #expect(sampleValue(#"tokencentral_token_generation{app="wxother"}"#, in: text) == 1)
    }

    @Test func attentionModeRendersOnlyAppsNeedingAttention() {
        let failing = app("wxfailing")
        failing.upstreamCall(result: "configuration")
        let text = render([app("wxfine"), failing], .attention)
        #expect(sampleValue(#"tokencentral_upstream_calls_total{app="wxfailing",endpoint="/cgi-bin/token",result="configuration"}"#, in: text) == 1)
        #expect(!text.contains(#"app="wxfine""#))
    }

    @Test func offModeRendersNoAppButKeepsEveryFamilyAndTheWorkerWideSamples() {
        let text = render([app("wxfine")], .off)
        #expect(!text.contains(#"app="wxfine""#))
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.count == 7)
        #expect(sampleValue(#"tokencentral_forced_refresh_total{app="unknown",outcome="malformed"}"#, in: text) == 0)
    }

    @Test func healthyTokenNeedsNoAttention() {
        #expect(!attention())
    }

    @Test func missingOrExpiredTokenNeedsAttention() {
        #expect(attention(left: 0, age: 0))
    }

    @Test func failedLastUpstreamCallNeedsAttention() {
        #expect(attention(failed: true))
    }

    @Test func refusedForcedRefreshNeedsAttention() {
        #expect(attention(refused: true))
    }

    @Test func tokenPastHalfItsRefreshMarginNeedsAttention() {
        #expect(!attention(left: 151, age: 7049))
        #expect(attention(left: 149, age: 7051))
    }

    @Test func refreshMarginOfShortTokensIsAQuarterOfTheirLifetime() {
        // 60 s tokens: due 15 s before expiry, overdue within 7.5 s of it.
        #expect(!attention(left: 8, age: 52))
        #expect(attention(left: 7, age: 53))
    }

    @Test func successfulCallClearsARefusedForcedRefresh() {
        let metrics = app("wxa")
        metrics.forcedRefresh(.budget)
        #expect(metrics.attention(nowMillis: now).forcedRefused)
        metrics.upstreamCall(result: "ok")
        #expect(!metrics.attention(nowMillis: now).forcedRefused)
        #expect(!metrics.attention(nowMillis: now).lastCallFailed)
    }
}
