import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing
import TokenCentral

/// `/healthz`, `/readyz` and `/metrics`.
@Suite(.timeLimit(.minutes(1))) struct HTTPHealthTests {
    @Test func healthzAnswersOK() async throws {
        try await HTTPTestWorker.run(refresher: false) { worker in
            let response = try await worker.get("/healthz")
            #expect(response.status == .ok)
            #expect(try response.reply().status == "ok")
        }
    }

    @Test func readyzIs503BeforeAnyTokenAnd200After() async throws {
        try await HTTPTestWorker.run(refresher: false) { worker in
            let before = try await worker.get("/readyz")
            #expect(before.status == .serviceUnavailable)
            let apps = try before.reply().apps ?? []
            #expect(apps.map(\.appid) == [HTTPTestWorker.appid])
            #expect(apps.map(\.reason) == ["no_token"])

            try await worker.seedToken("seeded-token")
            let after = try await worker.get("/readyz")
            #expect(after.status == .ok)
            #expect(try after.reply().status == "ready")
        }
    }

    @Test func readyzNamesTheLastUpstreamErrorWithoutTheSecret() async throws {
        let wrongSecret = "not-the-secret-\(UInt32.random(in: 0...UInt32.max))"
        try await HTTPTestWorker.run(appSecret: wrongSecret) { worker in
            try await waitUntil("the refresher recorded the upstream refusal") {
                try await worker.store.snapshot(HTTPTestWorker.appid).status.lastError != nil
            }
            let response = try await worker.get("/readyz")
            #expect(response.status == .serviceUnavailable)
            let app = try #require(try response.reply().apps?.first)
            #expect(app.reason == "no_token")
            #expect(app.lastError?.contains("40125") == true)
            #expect(!response.text.contains(wrongSecret))
        }
    }

    @Test func metricsServesPrometheusText() async throws {
        try await HTTPTestWorker.run(refresher: false) { worker in
            let response = try await worker.get("/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4")
            for family in [
                "tokencentral_token_expires_in_seconds", "tokencentral_token_age_seconds", "tokencentral_token_generation",
                "tokencentral_upstream_calls_total", "tokencentral_upstream_errcodes_total", "tokencentral_lock_total",
                "tokencentral_forced_refresh_total", "tokencentral_redis_errors_total", "tokencentral_forced_refresh_latency_seconds",
            ] {
                #expect(response.text.contains("# TYPE \(family) "), "\(family) missing")
            }
            #expect(response.text.contains(#"tokencentral_token_generation{app="\#(HTTPTestWorker.appid)"}"#))
        }
    }

    @Test func healthEndpointsNeedNoAPIKey() async throws {
        try await HTTPTestWorker.run(apiKey: "k3y", refresher: false) { worker in
            let health = try await worker.get("/healthz")
            let metrics = try await worker.get("/metrics")
            let readiness = try await worker.get("/readyz")
            #expect(health.status == .ok)
            #expect(metrics.status == .ok)
            #expect(readiness.status == .serviceUnavailable)
        }
    }
}
