import Foundation
import Testing

@testable import TokenCentral

/// `tokend.yaml` plus `TOKEND_*` overrides → a validated `TokendConfiguration`, or a `ConfigError` naming
/// the file and the field. Parsing takes the text and an environment dictionary: nothing global is read.
@Suite struct TokendConfigurationTests {
    private let file = "/etc/tokend/tokend.yaml"
    private let secret = "s3cr3t-AppSecret-7f9c2b"
    private let appid = "wx1234567890abcdef"
    private var environment: [String: String] { ["WX_SECRET": self.secret] }

    /// One app, its secret in `WX_SECRET`: the smallest valid file.
    private var apps: String {
        """
        apps:
          - appid: \(self.appid)
            secret_env: WX_SECRET
        """
    }

    /// Every field of the file set to a value other than its default.
    private var everyField: String {
        """
        redis:
          url: redis://10.0.0.5:6380/2
          key_prefix: tc
          pool_size: 8
          command_timeout: 3s
        upstream:
          wechat_base_url: http://127.0.0.1:9000/
          wecom_base_url: http://127.0.0.1:9001
          timeout: 4s
          max_concurrent_calls: 3
        worker:
          id: worker-7
        refresh:
          ahead: 5m
          lock_ttl: 20s
          check_interval: 2s
          retry_initial: 500ms
          retry_maximum: 30s
          config_error_retry: 10m
          forced_cooldown: 45s
          stable_force_daily_limit: 5
        http:
          enabled: false
          host: 0.0.0.0
          port: 9090
          api_key_env: TOKEND_TEST_API_KEY
        apps:
          - appid: \(self.appid)
            grant: stable_token
            secret_env: WX_SECRET
            tickets: [jsapi, wx_card]
          - appid: ww1234-1000002
            grant: wecom
            corpid: ww1234
            agentid: "1000002"
            secret_env: WX_SECRET
        """
    }

    /// The secret of the apps plus the API key `everyField` names.
    private var everyFieldEnvironment: [String: String] { ["WX_SECRET": self.secret, "TOKEND_TEST_API_KEY": "api-key"] }

    private func parse(
        _ yaml: String, file: String? = nil, environment: [String: String]? = nil, resolvingSecrets: Bool = true
    ) throws(ConfigError) -> TokendConfiguration {
        try TokendConfiguration.parse(
            yaml: yaml, file: file ?? self.file, environment: environment ?? self.environment, resolvingSecrets: resolvingSecrets)
    }

    /// The error parsing fails with, or nil when it succeeds.
    private func failure(
        _ yaml: String, file: String? = nil, environment: [String: String]? = nil, resolvingSecrets: Bool = true
    ) -> ConfigError? {
        do {
            _ = try self.parse(yaml, file: file, environment: environment, resolvingSecrets: resolvingSecrets)
            return nil
        } catch {
            return error
        }
    }

    /// `refresh.<key>: <value>` followed by the apps.
    private func refresh(_ key: String, _ value: String) -> String {
        "refresh:\n  \(key): \(value)\n" + self.apps
    }

    /// A fresh directory for secret files, removed afterwards.
    private func withDirectory(_ body: (URL) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(directory)
    }

    // MARK: defaults

    @Test func defaultsApplyToEverythingTheFileLeavesOut() throws {
        let configuration = try self.parse(self.apps)
        #expect(configuration.redis.url == "redis://127.0.0.1:6379/0")
        #expect(configuration.redis.keyPrefix == "wechat")
        #expect(configuration.redis.poolSize == 8)
        #expect(configuration.redis.commandTimeout == .seconds(2))
        #expect(configuration.upstream.wechatBaseURL == "https://api.weixin.qq.com")
        #expect(configuration.upstream.wecomBaseURL == "https://qyapi.weixin.qq.com")
        #expect(configuration.upstream.timeout == .seconds(10))
        #expect(configuration.upstream.maxConcurrentCalls == 8)
        #expect(configuration.refresh.ahead == .seconds(300))
        #expect(configuration.refresh.lockTTL == .seconds(30))
        #expect(configuration.refresh.checkInterval == .seconds(5))
        #expect(configuration.refresh.retryInitial == .seconds(1))
        #expect(configuration.refresh.retryMaximum == .seconds(60))
        #expect(configuration.refresh.configErrorRetry == .seconds(300))
        #expect(configuration.refresh.forcedCooldown == .seconds(60))
        #expect(configuration.refresh.stableForceDailyLimit == 20)
        #expect(configuration.refresh.forcedMinTokenAge == .seconds(60))
        #expect(configuration.refresh.forcedHourlyBudget == 20)
        #expect(configuration.refresh.forcedDailyBudget == 200)
        #expect(configuration.http.enabled)
        #expect(configuration.http.host == "127.0.0.1")
        #expect(configuration.http.port == 8080)
        #expect(configuration.http.apiKey == nil)
    }

    /// The repository's configuration files, e.g. `tokend.example.yaml`.
    private func repositoryFile(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(name).path
    }

    @Test func theExampleFileParsesAndStatesEveryDefault() throws {
        let example = try TokendConfiguration.load(file: repositoryFile("tokend.example.yaml"), environment: [:], resolvingSecrets: false)
        let defaults = try self.parse(self.apps)
        #expect(example.redis.url == defaults.redis.url)
        #expect(example.redis.keyPrefix == defaults.redis.keyPrefix)
        #expect(example.redis.poolSize == defaults.redis.poolSize)
        #expect(example.redis.commandTimeout == defaults.redis.commandTimeout)
        #expect(example.upstream.wechatBaseURL == defaults.upstream.wechatBaseURL)
        #expect(example.upstream.wecomBaseURL == defaults.upstream.wecomBaseURL)
        #expect(example.upstream.timeout == defaults.upstream.timeout)
        #expect(example.upstream.maxConcurrentCalls == defaults.upstream.maxConcurrentCalls)
        #expect(example.upstream.rateLimit == defaults.upstream.rateLimit)
        #expect(example.metrics.perApp == defaults.metrics.perApp)
        #expect(example.refresh.ahead == defaults.refresh.ahead)
        #expect(example.refresh.lockTTL == defaults.refresh.lockTTL)
        #expect(example.refresh.checkInterval == defaults.refresh.checkInterval)
        #expect(example.refresh.retryInitial == defaults.refresh.retryInitial)
        #expect(example.refresh.retryMaximum == defaults.refresh.retryMaximum)
        #expect(example.refresh.configErrorRetry == defaults.refresh.configErrorRetry)
        #expect(example.refresh.forcedCooldown == defaults.refresh.forcedCooldown)
        #expect(example.refresh.stableForceDailyLimit == defaults.refresh.stableForceDailyLimit)
        #expect(example.refresh.forcedMinTokenAge == defaults.refresh.forcedMinTokenAge)
        #expect(example.refresh.forcedHourlyBudget == defaults.refresh.forcedHourlyBudget)
        #expect(example.refresh.forcedDailyBudget == defaults.refresh.forcedDailyBudget)
        #expect(example.http.enabled == defaults.http.enabled)
        #expect(example.http.host == defaults.http.host)
        #expect(example.http.port == defaults.http.port)
        #expect(example.http.apiKey == nil)
        #expect(example.http.allowUnauthenticated == defaults.http.allowUnauthenticated)
        #expect(example.http.idleTimeout == defaults.http.idleTimeout)
        #expect(example.http.tokenCacheMaxAge == defaults.http.tokenCacheMaxAge)
        #expect(example.redis.password == nil)
        #expect(!example.apps.isEmpty)
    }

    @Test func theComposeFileParses() throws {
        let compose = try TokendConfiguration.load(file: repositoryFile("tokend.compose.yaml"), environment: [:], resolvingSecrets: false)
        #expect(compose.apps.map(\.appid) == ["wxcompose00000001"])
    }

    @Test func workerIDDefaultsToHostnameAndPID() throws {
        let workerID = try self.parse(self.apps).workerID
        #expect(workerID.hasSuffix("-\(getpid())") && workerID.count > "-\(getpid())".count)
    }

    @Test func appDefaultsToTheTokenGrant() throws {
        #expect(try self.parse(self.apps).apps == [AppConfiguration(appid: self.appid, grant: .token, secret: Secret(self.secret))])
    }

    // MARK: every field from the file

    @Test func redisSectionIsReadFromTheFile() throws {
        let redis = try self.parse(self.everyField, environment: self.everyFieldEnvironment).redis
        #expect(redis.url == "redis://10.0.0.5:6380/2")
        #expect(redis.keyPrefix == "tc")
        #expect(redis.poolSize == 8)
        #expect(redis.commandTimeout == .seconds(3))
    }

    @Test func upstreamSectionIsReadFromTheFileWithoutTrailingSlash() throws {
        let upstream = try self.parse(self.everyField, environment: self.everyFieldEnvironment).upstream
        #expect(upstream.wechatBaseURL == "http://127.0.0.1:9000")
        #expect(upstream.wecomBaseURL == "http://127.0.0.1:9001")
        #expect(upstream.timeout == .seconds(4))
        #expect(upstream.maxConcurrentCalls == 3)
    }

    @Test func workerIDIsReadFromTheFile() throws {
        let configuration = try self.parse(self.everyField, environment: self.everyFieldEnvironment)
        #expect(configuration.workerID == "worker-7")
    }

    @Test func refreshSectionIsReadFromTheFile() throws {
        let refresh = try self.parse(self.everyField, environment: self.everyFieldEnvironment).refresh
        #expect(refresh.ahead == .seconds(300))
        #expect(refresh.lockTTL == .seconds(20))
        #expect(refresh.checkInterval == .seconds(2))
        #expect(refresh.retryInitial == .milliseconds(500))
        #expect(refresh.retryMaximum == .seconds(30))
        #expect(refresh.configErrorRetry == .seconds(600))
        #expect(refresh.forcedCooldown == .seconds(45))
        #expect(refresh.stableForceDailyLimit == 5)
    }

    @Test func httpSectionIsReadFromTheFile() throws {
        let http = try self.parse(self.everyField, environment: self.everyFieldEnvironment).http
        #expect(!http.enabled)
        #expect(http.host == "0.0.0.0")
        #expect(http.port == 9090)
        #expect(http.apiKey == Secret("api-key"))
    }

    @Test func appsAreReadFromTheFile() throws {
        let apps = try self.parse(self.everyField, environment: self.everyFieldEnvironment).apps
        #expect(apps == [
            AppConfiguration(appid: self.appid, grant: .stableToken, secret: Secret(self.secret), tickets: [.jsapi, .wxCard]),
            AppConfiguration(appid: "ww1234-1000002", grant: .wecom, secret: Secret(self.secret), corpid: "ww1234", agentid: "1000002"),
        ])
    }

    // MARK: environment overrides

    @Test func redisURLFromTheEnvironmentOverridesTheFile() throws {
        let configuration = try self.parse(
            "redis:\n  url: redis://10.0.0.5:6380/2\n" + self.apps,
            environment: self.environment.merging(["TOKEND_REDIS_URL": "redis://10.0.0.9:6379/3"]) { $1 })
        #expect(configuration.redis.url == "redis://10.0.0.9:6379/3")
    }

    @Test func refreshAheadFromTheEnvironmentOverridesTheFile() throws {
        let configuration = try self.parse(
            self.refresh("ahead", "5m"), environment: self.environment.merging(["TOKEND_REFRESH_AHEAD": "90s"]) { $1 })
        #expect(configuration.refresh.ahead == .seconds(90))
    }

    @Test func multiWordKeyFromTheEnvironmentOverridesTheDefault() throws {
        let configuration = try self.parse(self.apps, environment: self.environment.merging(["TOKEND_REFRESH_LOCK_TTL": "12s"]) { $1 })
        #expect(configuration.refresh.lockTTL == .seconds(12))
    }

    @Test func workerIDFromTheEnvironmentOverridesTheDefault() throws {
        let configuration = try self.parse(self.apps, environment: self.environment.merging(["TOKEND_WORKER_ID": "pod-3"]) { $1 })
        #expect(configuration.workerID == "pod-3")
    }

    @Test func integerFromTheEnvironmentOverridesTheFile() throws {
        let configuration = try self.parse(
            "http:\n  port: 9090\n" + self.apps, environment: self.environment.merging(["TOKEND_HTTP_PORT": "9191"]) { $1 })
        #expect(configuration.http.port == 9191)
    }

    @Test func booleanFromTheEnvironmentOverridesTheFile() throws {
        let configuration = try self.parse(
            "http:\n  enabled: true\n" + self.apps, environment: self.environment.merging(["TOKEND_HTTP_ENABLED": "false"]) { $1 })
        #expect(!configuration.http.enabled)
    }

    @Test func apiKeyEnvFromTheEnvironmentOverridesTheFile() throws {
        let environment = self.environment.merging([
            "TOKEND_HTTP_API_KEY_ENV": "OTHER_KEY", "OTHER_KEY": "other-key", "TOKEND_TEST_API_KEY": "file-key",
        ]) { $1 }
        let configuration = try self.parse("http:\n  api_key_env: TOKEND_TEST_API_KEY\n" + self.apps, environment: environment)
        #expect(configuration.http.apiKey == Secret("other-key"))
    }

    @Test func nonIntegerFromTheEnvironmentNamesTheVariable() throws {
        let error = try #require(self.failure(self.apps, environment: self.environment.merging(["TOKEND_HTTP_PORT": "eighty"]) { $1 }))
        #expect(error.field == "http.port")
        #expect(error.message.contains("TOKEND_HTTP_PORT"))
    }

    @Test func badDurationFromTheEnvironmentNamesTheVariable() throws {
        let error = try #require(self.failure(self.apps, environment: self.environment.merging(["TOKEND_REFRESH_AHEAD": "soon"]) { $1 }))
        #expect(error.field == "refresh.ahead")
        #expect(error.message.contains("TOKEND_REFRESH_AHEAD"))
    }

    @Test func nonBooleanFromTheEnvironmentNamesTheVariable() throws {
        let error = try #require(self.failure(self.apps, environment: self.environment.merging(["TOKEND_HTTP_ENABLED": "maybe"]) { $1 }))
        #expect(error.field == "http.enabled")
        #expect(error.message.contains("TOKEND_HTTP_ENABLED"))
    }

    // MARK: durations

    @Test(arguments: [
        ("300", Duration.seconds(300)),
        ("1.5", .milliseconds(1500)),
        ("300s", .seconds(300)),
        ("5m", .seconds(300)),
        ("1500ms", .milliseconds(1500)),
        ("2h", .seconds(7200)),
        ("\"300\"", .seconds(300)),
    ])
    func durationIsReadFromTheFileAsSecondsOrWithAUnit(text: String, expected: Duration) throws {
        #expect(try self.parse(self.refresh("ahead", text)).refresh.ahead == expected)
    }

    @Test(arguments: [
        ("300", Duration.seconds(300)),
        ("1.5", .milliseconds(1500)),
        ("300s", .seconds(300)),
        ("5m", .seconds(300)),
        ("1500ms", .milliseconds(1500)),
    ])
    func durationIsReadFromTheEnvironmentAsSecondsOrWithAUnit(text: String, expected: Duration) throws {
        let configuration = try self.parse(self.apps, environment: self.environment.merging(["TOKEND_REFRESH_AHEAD": text]) { $1 })
        #expect(configuration.refresh.ahead == expected)
    }

    @Test(arguments: ["soon", "0", "-5", "0s", "5 minutes", "5d", "\"\""])
    func badDurationInTheFileNamesTheField(text: String) throws {
        let error = try #require(self.failure(self.refresh("lock_ttl", text)))
        #expect(error.file == self.file)
        #expect(error.field == "refresh.lock_ttl")
    }

    @Test func durationThatRoundsToZeroMillisecondsIsRejected() {
        // A zero retry_initial would trip Backoff's precondition at the first failure: reject it at startup.
        #expect(DurationValue.parse("0.4ms") == nil)
        #expect(self.failure(self.refresh("retry_initial", "0.4ms"))?.field == "refresh.retry_initial")
    }

    @Test func hugeDurationIsAConfigErrorNotACrash() {
        #expect(throws: ConfigError.self) {
            try TokendConfiguration.parse(
                yaml: "refresh:\n  ahead: 1e20\napps:\n  - appid: wx1\n    secret_env: WX_SECRET\n",
                file: "/etc/tokend/tokend.yaml", environment: ["WX_SECRET": "s"])
        }
    }

    // MARK: errors name the file and the field

    @Test func unknownKeyIsRejectedByName() throws {
        let error = try #require(self.failure(self.refresh("ahed", "300s")))
        #expect(error.file == self.file)
        #expect(error.field == "refresh.ahed")
        #expect(error.description.hasPrefix("\(self.file): refresh.ahed: "))
    }

    @Test func unknownTopLevelKeyIsRejectedByName() throws {
        let error = try #require(self.failure("refersh:\n  ahead: 300s\n" + self.apps))
        #expect(error.field == "refersh")
    }

    @Test func unknownAppKeyIsRejectedWithItsIndex() throws {
        let error = try #require(self.failure("apps:\n  - appid: wx1\n    secret: plain-text\n"))
        #expect(error.field == "apps[0].secret")
    }

    @Test func invalidYAMLNamesTheFile() throws {
        let error = try #require(self.failure("redis: [unclosed\n" + self.apps))
        #expect(error.file == self.file)
        #expect(error.field == nil)
    }

    @Test func wrongTypeNamesTheField() throws {
        let error = try #require(self.failure("redis:\n  pool_size: many\n" + self.apps))
        #expect(error.field == "redis.pool_size")
    }

    @Test func unknownGrantNamesTheAppField() throws {
        let error = try #require(self.failure("apps:\n  - appid: wx1\n    grant: client_credential\n    secret_env: WX_SECRET\n"))
        #expect(error.field == "apps[0].grant")
    }

    @Test(arguments: ["http://127.0.0.1:6379", "redis://", "redis://host:port", "redis://host:6379/db"])
    func invalidRedisURLNamesTheField(url: String) throws {
        let error = try #require(self.failure("redis:\n  url: \"\(url)\"\n" + self.apps))
        #expect(error.field == "redis.url")
    }

    @Test func invalidRedisURLFromTheEnvironmentNamesTheField() throws {
        let error = try #require(self.failure(self.apps, environment: self.environment.merging(["TOKEND_REDIS_URL": "localhost"]) { $1 }))
        #expect(error.field == "redis.url")
    }

    @Test func poolSizeOutOfRangeNamesTheField() throws {
        let error = try #require(self.failure("redis:\n  pool_size: 0\n" + self.apps))
        #expect(error.field == "redis.pool_size")
    }

    @Test func maxConcurrentCallsOutOfRangeNamesTheField() throws {
        let error = try #require(self.failure("upstream:\n  max_concurrent_calls: 0\n" + self.apps))
        #expect(error.field == "upstream.max_concurrent_calls")
    }

    @Test func nonHTTPBaseURLNamesTheField() throws {
        let error = try #require(self.failure("upstream:\n  wechat_base_url: ftp://api.weixin.qq.com\n" + self.apps))
        #expect(error.field == "upstream.wechat_base_url")
    }

    @Test func forcedRefreshBudgetIsReadFromTheFileAndTheEnvironment() throws {
        let yaml = "refresh:\n  forced_min_token_age: 2m\n  forced_hourly_budget: 5\n  forced_daily_budget: 50\n" + self.apps
        let fromFile = try self.parse(yaml).refresh
        #expect(fromFile.forcedMinTokenAge == .seconds(120))
        #expect(fromFile.forcedHourlyBudget == 5)
        #expect(fromFile.forcedDailyBudget == 50)
        var environment = self.environment
        environment["TOKEND_REFRESH_FORCED_MIN_TOKEN_AGE"] = "1500ms"
        environment["TOKEND_REFRESH_FORCED_HOURLY_BUDGET"] = "7"
        environment["TOKEND_REFRESH_FORCED_DAILY_BUDGET"] = "70"
        let fromEnvironment = try self.parse(yaml, environment: environment).refresh
        #expect(fromEnvironment.forcedMinTokenAge == .milliseconds(1500))
        #expect(fromEnvironment.forcedHourlyBudget == 7)
        #expect(fromEnvironment.forcedDailyBudget == 70)
    }

    @Test func hourlyForcedBudgetAboveTheDailyOneNamesTheHourlyField() throws {
        let error = try #require(self.failure("refresh:\n  forced_hourly_budget: 30\n  forced_daily_budget: 20\n" + self.apps))
        #expect(error.field == "refresh.forced_hourly_budget")
    }

    @Test(arguments: [("forced_daily_budget", "1001"), ("forced_hourly_budget", "-1"), ("forced_min_token_age", "2h")])
    func forcedBudgetOutOfRangeNamesTheField(key: String, value: String) throws {
        let error = try #require(self.failure(self.refresh(key, value)))
        #expect(error.field == "refresh.\(key)")
    }

    @Test func retryMaximumShorterThanRetryInitialNamesTheMaximum() throws {
        let error = try #require(self.failure("refresh:\n  retry_initial: 10s\n  retry_maximum: 5s\n" + self.apps))
        #expect(error.field == "refresh.retry_maximum")
    }

    @Test(arguments: ["", "apps: []\n"])
    func noAppsIsAnError(yaml: String) throws {
        let error = try #require(self.failure(yaml))
        #expect(error.file == self.file)
        #expect(error.field == "apps")
    }

    @Test func duplicateAppIDNamesTheSecondEntry() throws {
        let error = try #require(self.failure(self.apps + "\n  - appid: \(self.appid)\n    secret_env: WX_SECRET\n"))
        #expect(error.field == "apps[1].appid")
        #expect(error.message.contains(self.appid))
    }

    @Test(arguments: ["\"\"", "\"wx 1\"", "wx1/../x", "\"wx1;\""])
    func invalidAppIDNamesTheField(appid: String) throws {
        let error = try #require(self.failure("apps:\n  - appid: \(appid)\n    secret_env: WX_SECRET\n"))
        #expect(error.field == "apps[0].appid")
    }

    @Test func weComAppWithoutCorpIDNamesTheField() throws {
        let error = try #require(self.failure("apps:\n  - appid: ww1-1000002\n    grant: wecom\n    secret_env: WX_SECRET\n"))
        #expect(error.field == "apps[0].corpid")
    }

    // MARK: tickets

    @Test func ticketsAreKeptInTheOrderListed() throws {
        let configuration = try self.parse(self.apps + "\n    tickets: [wx_card, jsapi]\n")
        #expect(configuration.apps.first?.tickets == [.wxCard, .jsapi])
    }

    @Test func anAppWithoutTicketsKeepsNone() throws {
        #expect(try self.parse(self.apps).apps.first?.tickets == [])
    }

    @Test func anUnknownTicketTypeNamesTheEntryAndTheValidTypes() throws {
        let error = try #require(self.failure(self.apps + "\n    tickets: [jsapi, card]\n"))
        #expect(error.field == "apps[0].tickets[1]")
        #expect(error.message.contains("jsapi, wx_card"))
    }

    @Test func aTicketListedTwiceNamesTheSecond() throws {
        let error = try #require(self.failure(self.apps + "\n    tickets: [jsapi, jsapi]\n"))
        #expect(error.field == "apps[0].tickets[1]")
    }

    @Test func ticketsAreRefusedForWeComApps() throws {
        let yaml = "apps:\n  - appid: ww1-1000002\n    grant: wecom\n    corpid: ww1\n    secret_env: WX_SECRET\n    tickets: [jsapi]\n"
        let error = try #require(self.failure(yaml))
        #expect(error.field == "apps[0].tickets")
    }

    @Test func stableTokenAppsMayKeepTickets() throws {
        let yaml = "apps:\n  - appid: wx1\n    grant: stable_token\n    secret_env: WX_SECRET\n    tickets: [jsapi]\n"
        #expect(try self.parse(yaml).apps.first?.tickets == [.jsapi])
    }

    // MARK: secrets

    @Test func unsetSecretEnvNamesTheFieldAndTheVariable() throws {
        let error = try #require(self.failure(self.apps, environment: [:]))
        #expect(error.field == "apps[0].secret_env")
        #expect(error.message.contains("WX_SECRET"))
    }

    @Test func emptySecretEnvIsAnError() throws {
        let error = try #require(self.failure(self.apps, environment: ["WX_SECRET": ""]))
        #expect(error.field == "apps[0].secret_env")
    }

    @Test func appWithoutASecretNamesBothSettings() throws {
        let error = try #require(self.failure("apps:\n  - appid: wx1\n"))
        #expect(error.field == "apps[0].secret_env")
        #expect(error.message.contains("apps[0].secret_file"))
    }

    @Test func bothSecretEnvAndSecretFileIsAnError() throws {
        let error = try #require(self.failure("apps:\n  - appid: wx1\n    secret_env: WX_SECRET\n    secret_file: /run/secrets/wx1\n"))
        #expect(error.field == "apps[0].secret_env")
        #expect(error.message.contains("apps[0].secret_file"))
    }

    @Test func secretFileIsReadAndTrimmed() throws {
        try self.withDirectory { directory in
            let path = directory.appendingPathComponent("wx1.secret").path
            try Data("  file-secret\n".utf8).write(to: URL(fileURLWithPath: path))
            let apps = try self.parse("apps:\n  - appid: wx1\n    secret_file: \(path)\n").apps
            #expect(apps.first?.secret == Secret("file-secret"))
        }
    }

    @Test func relativeSecretFileIsResolvedAgainstTheConfigurationFile() throws {
        try self.withDirectory { directory in
            try Data("relative-secret".utf8).write(to: directory.appendingPathComponent("wx1.secret"))
            let apps = try self.parse(
                "apps:\n  - appid: wx1\n    secret_file: wx1.secret\n", file: directory.appendingPathComponent("tokend.yaml").path
            ).apps
            #expect(apps.first?.secret == Secret("relative-secret"))
        }
    }

    @Test func missingSecretFileNamesTheField() throws {
        try self.withDirectory { directory in
            let path = directory.appendingPathComponent("absent.secret").path
            let error = try #require(self.failure("apps:\n  - appid: wx1\n    secret_file: \(path)\n"))
            #expect(error.field == "apps[0].secret_file")
            #expect(error.message.contains(path))
        }
    }

    @Test func blankSecretFileNamesTheField() throws {
        try self.withDirectory { directory in
            let path = directory.appendingPathComponent("blank.secret").path
            try Data(" \n\n".utf8).write(to: URL(fileURLWithPath: path))
            let error = try #require(self.failure("apps:\n  - appid: wx1\n    secret_file: \(path)\n"))
            #expect(error.field == "apps[0].secret_file")
        }
    }

    @Test func apiKeyIsReadFromTheNamedVariable() throws {
        let configuration = try self.parse(
            "http:\n  api_key_env: TOKEND_TEST_API_KEY\n" + self.apps,
            environment: self.environment.merging(["TOKEND_TEST_API_KEY": "api-key"]) { $1 })
        #expect(configuration.http.apiKey == Secret("api-key"))
    }

    @Test func unsetAPIKeyEnvNamesTheField() throws {
        let error = try #require(self.failure("http:\n  api_key_env: TOKEND_TEST_API_KEY\n" + self.apps))
        #expect(error.field == "http.api_key_env")
        #expect(error.message.contains("TOKEND_TEST_API_KEY"))
    }

    @Test func notResolvingSecretsSkipsUnsetVariablesAndMissingFiles() throws {
        let yaml = """
            http:
              api_key_env: TOKEND_TEST_API_KEY
            apps:
              - appid: wx1
                secret_env: WX_SECRET
              - appid: wx2
                secret_file: /nonexistent/tokend/wx2.secret
            """
        let configuration = try self.parse(yaml, environment: [:], resolvingSecrets: false)
        #expect(configuration.apps.map(\.secret) == [Secret(""), Secret("")])
        #expect(configuration.http.apiKey == Secret(""))
    }

    @Test func notResolvingSecretsNeverReadsTheSecretValue() throws {
        let configuration = try self.parse(self.apps, resolvingSecrets: false)
        #expect(configuration.apps.first?.secret == Secret(""))
    }

    @Test func notResolvingSecretsStillValidatesTheRest() throws {
        let error = try #require(self.failure(self.apps + "\n  - appid: \(self.appid)\n    secret_env: WX_SECRET\n", resolvingSecrets: false))
        #expect(error.field == "apps[1].appid")
    }

    // MARK: secrets never shown

    @Test func secretPrintsRedacted() {
        let secret = Secret(self.secret)
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
    }

    @Test func appConfigurationPrintsItsSecretRedacted() {
        let app = AppConfiguration(appid: "wx1", secret: Secret(self.secret))
        #expect(!"\(app)".contains(self.secret))
        #expect(!String(reflecting: app).contains(self.secret))
    }

    @Test(arguments: [
        "apps:\n  - appid: wx1\n    secret_env: WX_SECRET\n  - appid: wx1\n    secret_env: WX_SECRET\n",
        "apps:\n  - appid: ww1\n    grant: wecom\n    secret_env: WX_SECRET\n",
        "refresh:\n  ahead: soon\napps:\n  - appid: wx1\n    secret_env: WX_SECRET\n",
        "refresh:\n  ahed: 1s\napps:\n  - appid: wx1\n    secret_env: WX_SECRET\n",
        "apps:\n  - appid: wx1\n    secret_env: WX_SECRET\n    secret_file: /run/secrets/wx1\n",
        "apps:\n  - appid: wx1\n    secret_env: WX_SECRET\n  - appid: wx2\n    secret_env: UNSET_SECRET\n",
        "http:\n  api_key_env: UNSET_KEY\napps:\n  - appid: wx1\n    secret_env: WX_SECRET\n",
    ])
    func errorNeverContainsTheSecretValue(yaml: String) throws {
        let error = try #require(self.failure(yaml))
        #expect(!error.description.contains(self.secret))
    }

    @Test func errorAfterReadingASecretFileNeverContainsItsContent() throws {
        try self.withDirectory { directory in
            let path = directory.appendingPathComponent("wx1.secret").path
            try Data(self.secret.utf8).write(to: URL(fileURLWithPath: path))
            let error = try #require(self.failure("apps:\n  - appid: wx1\n    secret_file: \(path)\n  - appid: wx1\n    secret_file: \(path)\n"))
            #expect(!error.description.contains(self.secret))
        }
    }

    @Test(arguments: ["rediss://:hunter2@cache.internal:port", "redis://:hunter2@cache.internal:port", "redis://hunter2@:6379"])
    func invalidRedisURLErrorHidesItsPassword(url: String) throws {
        let error = try #require(self.failure(self.apps, environment: self.environment.merging(["TOKEND_REDIS_URL": url]) { $1 }))
        #expect(error.field == "redis.url")
        #expect(!error.description.contains("hunter2"))
    }

    @Test(arguments: ["redis:/:hunter2@cache.internal:6379", "redis//:hunter2@cache.internal:6379"])
    func invalidRedisURLWithoutSchemeSeparatorHidesItsPassword(url: String) throws {
        let error = try #require(self.failure(self.apps, environment: self.environment.merging(["TOKEND_REDIS_URL": url]) { $1 }))
        #expect(!error.description.contains("hunter2"))
    }
}
