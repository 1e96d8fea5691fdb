import CoreMetrics
import Testing

@testable import TokenCentral

/// The per-app metrics as `/metrics` renders them, from plain `AppMetrics` values: no server.
@Suite struct MetricsExpositionTests {
    private func render(_ apps: [AppMetrics], nowMillis: Int64 = 4_000) -> [Substring] {
        let worker = TokenMetrics(factory: NOOPMetricsHandler.instance)
        let text = String(decoding: MetricsExposition.render(apps, worker: worker, nowMillis: nowMillis), as: UTF8.self)
        return text.split(separator: "\n")
    }

    private func app(_ appid: String) -> AppMetrics {
        AppMetrics(appid: appid, endpoint: "/cgi-bin/token")
    }

    @Test func everyFamilyIsDeclaredOnceAndItsSamplesFollowTogether() {
        let lines = render([app("wxa"), app("wxb")])
        var families: [Substring] = []
        for line in lines where !line.hasPrefix("#") {
            let name = line.prefix { $0 != "{" }
            if families.last != name {
                #expect(!families.contains(name), "samples of \(name) are split")
                families.append(name)
            }
        }
        let declared = lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(declared.count == Set(declared).count)
        #expect(Set(families).isSubset(of: Set(declared)))
        #expect(declared.count == 7)
    }

    @Test func gaugesShowTheRememberedTokenAtScrapeTime() {
        let metrics = app("wxa")
        let record = TokenRecord(token: "t", expiresAt: 10_000, fetchedAt: 2_500, generation: 4, worker: "w", grant: .token,
                                 lifetime: 7_500_000, issuedMin: 2_400, issuedMax: 2_500)
        metrics.observe(record)
        let lines = render([metrics], nowMillis: 4_000)
        #expect(lines.contains(#"tokencentral_token_expires_in_seconds{app="wxa"} 6.0"#))
        #expect(lines.contains(#"tokencentral_token_age_seconds{app="wxa"} 1.5"#))
        #expect(lines.contains(#"tokencentral_token_generation{app="wxa"} 4.0"#))
    }

    @Test func countersShowEveryOutcomeIncludingZero() {
        let metrics = app("wxa")
        metrics.upstreamCall(result: "ok")
        metrics.upstreamCall(result: "ok")
        metrics.lockContended.increment()
        metrics.forcedRefresh(.cooldown)
        let lines = render([metrics])
        #expect(lines.contains(#"tokencentral_upstream_calls_total{app="wxa",endpoint="/cgi-bin/token",result="ok"} 2"#))
        #expect(lines.contains(#"tokencentral_upstream_calls_total{app="wxa",endpoint="/cgi-bin/token",result="quota"} 0"#))
        #expect(lines.contains(#"tokencentral_lock_total{app="wxa",outcome="contended"} 1"#))
        #expect(lines.contains(#"tokencentral_forced_refresh_total{app="wxa",outcome="cooldown"} 1"#))
        #expect(lines.contains(#"tokencentral_forced_refresh_total{app="unknown",outcome="malformed"} 0"#))
    }

    @Test func errcodesAppearOnceSeen() {
        let metrics = app("wxa")
        #expect(!render([metrics]).contains { $0.hasPrefix("tokencentral_upstream_errcodes_total{") })
        metrics.errcode(40125)
        metrics.errcode(40125)
        metrics.errcode(-1)
        let lines = render([metrics])
        #expect(lines.contains(#"tokencentral_upstream_errcodes_total{app="wxa",errcode="-1"} 1"#))
        #expect(lines.contains(#"tokencentral_upstream_errcodes_total{app="wxa",errcode="40125"} 2"#))
    }

    @Test func labelValuesAreEscaped() {
        #expect(MetricsExposition.escaped(#"a"b\c"# + "\n") == #"a\"b\\c\n"#)
        #expect(MetricsExposition.escaped("wx1234") == "wx1234")
    }
}
