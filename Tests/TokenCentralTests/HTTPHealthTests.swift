import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing
import TokenCentral

/// `/healthz`, `/readyz`, `/metrics` and `/v1/status`.
@Suite(.timeLimit(.minutes(1))) struct HTTPHealthTests {
    @Test func healthzAnswersOK() async throws {
        try await HTTPTestWorker.run(refresher: false) { worker in
            let response = try await worker.get("/healthz")
            #expect(response.status == .ok)
            #expect(try response.reply().status == "ok")
        }
    }

    @Test func statusShowsNoTokenThenTheToken() async throws {
        try await HTTPTestWorker.run(refresher: false) { worker in
            let before = try await worker.get("/v1/status")
            #expect(before.status == .ok)
            let apps = try before.reply().apps ?? []
            #expect(apps.map(\.appid) == [HTTPTestWorker.appid])
            #expect(apps.map(\.state) == ["no_token"])

            try await worker.seedToken("seeded-token")
            let after = try await worker.get("/v1/status")
            #expect(try after.reply().apps?.map(\.state) == ["ok"])
            #expect(!after.text.contains("seeded-token"))
        }
    }

    @Test func statusNamesTheLastUpstreamErrorWithoutTheSecret() async throws {
        let wrongSecret = "not-the-secret-\(UInt32.random(in: 0...UInt32.max))"
        try await HTTPTestWorker.run(appSecret: wrongSecret) { worker in
            try await waitUntil("the refresher recorded the upstream refusal") {
                try await worker.store.snapshot(HTTPTestWorker.appid).status.lastError != nil
            }
            let response = try await worker.get("/v1/status")
            let app = try #require(try response.reply().apps?.first)
            #expect(app.state == "no_token")
            #expect(app.lastError?.contains("40125") == true)
            #expect(!response.text.contains(wrongSecret))
        }
    }

    /// One app with a wrong secret lacks a token on every worker alike: that must not take them all
    /// out of the load balancer, so readiness describes the worker only.
    @Test func readyzIsReadyWhileAnAppHasNoToken() async throws {
        let wrongSecret = "not-the-secret-\(UInt32.random(in: 0...UInt32.max))"
        try await HTTPTestWorker.run(appSecret: wrongSecret) { worker in
            try await waitUntil("the refresher recorded the upstream refusal") {
                try await worker.store.snapshot(HTTPTestWorker.appid).status.lastError != nil
            }
            try await waitUntil("the refresher subscribed") { try await worker.get("/readyz").status == .ok }
            #expect(try await worker.get("/readyz").reply().status == "ready")
        }
    }

    @Test func readyzIs503UntilTheRefresherSubscribed() async throws {
        try await HTTPTestWorker.run(refresher: false) { worker in
            let response = try await worker.get("/readyz")
            #expect(response.status == .serviceUnavailable)
            #expect(try response.reply().problems?.map(\.reason) == ["not_subscribed"])
        }
    }

    @Test func statusNeedsTheAPIKey() async throws {
        try await HTTPTestWorker.run(apiKey: "k3y", refresher: false) { worker in
            let anonymous = try await worker.get("/v1/status")
            let keyed = try await worker.get("/v1/status", bearer: "k3y")
            #expect(anonymous.status == .unauthorized)
            #expect(keyed.status == .ok)
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
