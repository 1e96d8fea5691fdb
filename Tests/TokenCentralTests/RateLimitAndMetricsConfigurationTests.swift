import Testing

@testable import TokenCentral

/// `upstream.rate_limit` and `metrics.per_app`: defaults, file, `TOKEND_*` twins, and errors naming the field.
@Suite struct RateLimitAndMetricsConfigurationTests {
    private let parsing = ConfigurationParsing()
    private let apps = "apps:\n  - {appid: wx1234567890abcdef, secret_env: WX_SECRET}\n"

    @Test func rateLimitDefaultsToFiveHundredCallsPerSecond() throws {
        #expect(try parsing.parse(apps).upstream.rateLimit == 500)
    }

    @Test func rateLimitIsReadFromTheFileAndTheEnvironment() throws {
        let yaml = "upstream:\n  rate_limit: 2000\n" + apps
        #expect(try parsing.parse(yaml).upstream.rateLimit == 2000)
        #expect(try parsing.parse(yaml, environment: ["TOKEND_UPSTREAM_RATE_LIMIT": "40"]).upstream.rateLimit == 40)
    }

    @Test func rateLimitBelowOneNamesTheField() throws {
        let error = try #require(parsing.failure("upstream:\n  rate_limit: 0\n" + apps))
        #expect(error.field == "upstream.rate_limit")
    }

    @Test func rateLimitThatIsNoIntegerNamesTheVariable() throws {
        let error = try #require(parsing.failure(apps, environment: ["TOKEND_UPSTREAM_RATE_LIMIT": "fast"]))
        #expect(error.field == "upstream.rate_limit")
        #expect(error.message.contains("TOKEND_UPSTREAM_RATE_LIMIT"))
    }

    @Test func perAppMetricsDefaultToAll() throws {
        #expect(try parsing.parse(apps).metrics.perApp == .all)
    }

    @Test func perAppMetricsModeIsReadFromTheFileAndTheEnvironment() throws {
        let yaml = "metrics:\n  per_app: attention\n" + apps
        #expect(try parsing.parse(yaml).metrics.perApp == .attention)
        #expect(try parsing.parse(yaml, environment: ["TOKEND_METRICS_PER_APP": "off"]).metrics.perApp == .off)
    }

    @Test func unknownPerAppMetricsModeNamesTheFieldAndTheChoices() throws {
        let error = try #require(parsing.failure("metrics:\n  per_app: some\n" + apps))
        #expect(error.field == "metrics.per_app")
        #expect(error.message.contains("all, attention, off"))
    }
}
