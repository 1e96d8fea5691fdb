import Foundation
import Logging
import Prometheus
import RedisClient
import TestSupport
import TokenCentral
import WeChatMock

/// A test deployment: an in-process wechat-mock and N tokend workers (in-process) on one Redis and
/// one key prefix. Workers run in a task group that is cancelled when the body returns.
struct WorkerFleet {
    var mock: WeChatMock
    var mockURL: URL
    var redisURL: String
    var prefix: String
    var store: TokenStore

    /// Short timings so tests exercise the real algorithm over seconds instead of hours.
    static func configuration(worker: String, apps: [AppConfiguration], redisURL: String, prefix: String, mockURL: URL)
        -> TokendConfiguration
    {
        var configuration = TokendConfiguration(workerID: worker, apps: apps)
        configuration.redis.url = redisURL
        configuration.redis.keyPrefix = prefix
        configuration.upstream.wechatBaseURL = mockURL.absoluteString
        configuration.upstream.wecomBaseURL = mockURL.absoluteString
        configuration.upstream.timeout = .seconds(2)
        configuration.refresh.checkInterval = .milliseconds(200)
        configuration.refresh.retryInitial = .milliseconds(100)
        configuration.refresh.retryMaximum = .seconds(2)
        configuration.refresh.configErrorRetry = .seconds(60)
        configuration.refresh.forcedCooldown = .seconds(2)
        // Tests report tokens just fetched, many times over; the budget's own tests set these.
        configuration.refresh.forcedMinTokenAge = .zero
        configuration.refresh.forcedHourlyBudget = 1000
        configuration.refresh.forcedDailyBudget = 1000
        configuration.http.enabled = false
        return configuration
    }

    static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .error
        return logger
    }()

    /// Runs `body` with a mock serving `mockConfiguration` and `workers` workers for `apps`, each
    /// configured by `configuration(...)` and then `configure`, calling upstream through `fetcher` when
    /// given (the mock still serves validation and admin calls).
    static func run(
        workers: Int,
        apps: [AppConfiguration],
        mock mockConfiguration: WeChatMockConfiguration,
        redisURL: String? = nil,
        fetcher: (any TokenFetcher)? = nil,
        ticketFetcher: (any TicketFetcher)? = nil,
        configure: (inout TokendConfiguration) -> Void = { _ in },
        _ body: (WorkerFleet, [TokendApplication]) async throws -> Void
    ) async throws {
        let mock = try WeChatMock(configuration: mockConfiguration)
        let redisURL = try redisURL ?? sharedRedisURL()
        let prefix = uniquePrefix("fleet")
        try await withWeChatMockServer(mock) { mockURL in
            let applications = try (0..<workers).map { index in
                var workerConfiguration = configuration(
                    worker: "worker-\(index)", apps: apps, redisURL: redisURL, prefix: prefix, mockURL: mockURL)
                configure(&workerConfiguration)
                return try TokendApplication(configuration: workerConfiguration, logger: logger, fetcher: fetcher, ticketFetcher: ticketFetcher)
            }
            // The fleet reads Redis as its workers do (TLS settings included).
            var readerConfiguration = configuration(worker: "reader", apps: apps, redisURL: redisURL, prefix: prefix, mockURL: mockURL)
            configure(&readerConfiguration)
            let fleet = WorkerFleet(
                mock: mock, mockURL: mockURL, redisURL: redisURL, prefix: prefix,
                store: TokenStore(
                    redis: RedisClient(endpoint: readerConfiguration.redis.applyingTLS(to: try RedisEndpoint(url: redisURL))),
                    keys: TokenKeys(prefix: prefix)))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for application in applications {
                    group.addTask { try await application.refresher.run() }
                    group.addTask { try await application.ticketRefresher.run() }
                }
                do {
                    try await body(fleet, applications)
                } catch {
                    group.cancelAll()
                    try? await deleteKeys(withPrefix: prefix, on: fleet.store.redis)
                    throw error
                }
                group.cancelAll()
            }
            try await deleteKeys(withPrefix: prefix, on: fleet.store.redis)
        }
    }

    func record(_ appid: String) async throws -> TokenRecord? {
        try await store.snapshot(appid).status.record
    }

    func status(_ appid: String) async throws -> AppStatus {
        try await store.snapshot(appid).status
    }

    func generation(_ appid: String) async throws -> Int {
        try await record(appid)?.generation ?? 0
    }

    func currentToken(_ appid: String) async throws -> String? {
        try await store.redis.get(store.keys.accessToken(appid)).map { String(decoding: $0, as: UTF8.self) }
    }

    func waitForGeneration(_ appid: String, atLeast generation: Int, timeout: Duration = .seconds(20)) async throws {
        try await waitUntil("\(appid) reaches generation \(generation)", timeout: timeout) {
            try await self.generation(appid) >= generation
        }
    }
}

/// A business server's view: reads the token like any reader and validates it against the mock,
/// counting answers WeChat would reject. Runs until cancelled.
actor ReaderProbe {
    private(set) var reads = 0
    private(set) var rejected: [String] = []
    /// Reads that found no key after the first token had been read.
    private(set) var misses = 0

    func run(fleet: WorkerFleet, appid: String) async {
        while !Task.isCancelled {
            if let token = try? await fleet.currentToken(appid) {
                reads += 1
                let result = fleet.mock.validate(token: token)
                if result != .ok { rejected.append("\(result)") }
            } else if reads > 0 {
                misses += 1
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

extension AppConfiguration {
    static func app(_ appid: String, secret: String) -> AppConfiguration {
        AppConfiguration(appid: appid, grant: .token, secret: Secret(secret))
    }
}

extension WorkerFleet {
    /// Starts `count` more workers configured like `template` for the duration of `body`.
    static func runMore(_ count: Int, like template: TokendApplication, fleet: WorkerFleet,
                        _ body: ([TokendApplication]) async throws -> Void) async throws
    {
        let newcomers = try (0..<count).map { index in
            var configuration = template.configuration
            configuration.workerID = "newcomer-\(index)"
            return try TokendApplication(configuration: configuration, logger: logger)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for newcomer in newcomers {
                group.addTask { try await newcomer.refresher.run() }
            }
            try await body(newcomers)
            group.cancelAll()
        }
    }
}

extension WorkerFleet {
    /// Waits until every worker has read the app's token (its generation gauge is non-zero), so each
    /// holds it in memory and can re-seed it. The gauge exists, at 0, from the moment a worker starts.
    static func waitUntilEveryWorkerRemembers(_ appid: String, _ workers: [TokendApplication], generation: Int = 1) async throws {
        for worker in workers {
            try await waitUntil("\(worker.configuration.workerID) read generation \(generation) of \(appid)") {
                (worker.gauge("tokencentral_token_generation", app: appid) ?? 0) >= Double(generation)
            }
        }
    }
}

extension TokendApplication {
    func renderedMetrics() -> String {
        String(decoding: renderMetrics(), as: UTF8.self)
    }

    /// Forced refresh requests of `appid` this worker has settled, whatever their outcome.
    func forcedRequestsSettled(_ appid: String) -> Int {
        ["refreshed", "deduplicated", "cooldown", "budget", "refused"].reduce(0) { sum, outcome in
            sum + counter("tokencentral_forced_refresh_total", app: appid, outcome: outcome)
        }
    }

    /// A per-app counter with an `outcome` label as `/metrics` renders it; 0 when absent.
    func counter(_ name: String, app appid: String, outcome: String) -> Int {
        Int(sampleValue(#"\#(name){app="\#(appid)",outcome="\#(outcome)"}"#, in: renderedMetrics()) ?? 0)
    }

    /// The value of a per-app gauge as `/metrics` renders it; nil when the worker has no such gauge.
    func gauge(_ name: String, app appid: String) -> Double? {
        sampleValue("\(name){app=\"\(appid)\"}", in: renderedMetrics())
    }
}

extension TokenStore {
    /// A store on the shared test Redis under a fresh key prefix starting with `name`.
    static func onSharedRedis(_ name: String) throws -> TokenStore {
        TokenStore(redis: try RedisClient(url: try sharedRedisURL()), keys: TokenKeys(prefix: uniquePrefix(name)))
    }
}
