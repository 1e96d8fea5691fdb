import HTTPTypes
import HummingbirdTesting
import ServiceLifecycle
import ServiceLifecycleTestKit
import TestSupport
import Testing
import TokenCentral

/// The HTTP API as one of the worker's services, on a real socket.
@Suite(.timeLimit(.minutes(1))) struct HTTPServiceTests {
    @Test func servicesServeTheAPIOnTheConfiguredPortUntilGracefulShutdown() async throws {
        let port = try freeLoopbackPort()
        try await HTTPTestWorker.withApplication(port: port) { application, _ in
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await ServiceGroup(configuration: .init(services: application.services, logger: application.logger)).run()
                    }
                    try await waitUntil("the worker answers /healthz on port \(port)") {
                        let status = try? await TestClient.withClient(host: "127.0.0.1", port: port) { try await $0.get("/healthz").status }
                        return status == .ok
                    }
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
        }
    }

    /// ServiceGroup names each service by its description, made once at startup: one listing every app
    /// took megabytes of a 10,000-app worker's memory.
    @Test func servicesDescribeThemselvesInAShortLineWhateverTheNumberOfApps() async throws {
        try await HTTPTestWorker.withApplication(configure: { configuration in
            configuration.apps += (0..<1000).map { AppConfiguration(appid: "wxmany\($0)", secret: Secret("s"), tickets: [.jsapi]) }
        }) { application, _ in
            #expect(application.services.count == 4)
            for service in application.services {
                #expect("\(service)".count < 200, "\(type(of: service))")
            }
        }
    }

    @Test func disabledHTTPLeavesTheRefresherAndTheRedisProbe() async throws {
        try await HTTPTestWorker.withApplication { application, _ in
            var configuration = application.configuration
            configuration.http.enabled = false
            let disabled = try TokendApplication(configuration: configuration, logger: application.logger)
            #expect(disabled.services.count == 2)
            #expect(application.services.count == 3)
        }
    }
}
