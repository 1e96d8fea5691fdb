import Foundation
import RedisClient
import Testing

@testable import TokenCentral

/// Mistakes that used to start a worker anyway (or fail with a bare error): each is refused up front,
/// naming the field or variable and what would be valid.
@Suite struct StartupValidationTests {
    private let apps = """
        apps:
          - appid: wx1234567890abcdef
            secret_env: WX_SECRET
        """
    private let parsing = ConfigurationParsing()

    @Test func misspelledVariableIsRejectedWithTheCloseMatch() throws {
        let error = try #require(parsing.failure(apps, environment: ["TOKEND_REFRESH_AHAED": "60s"]))
        #expect(error.description.contains("TOKEND_REFRESH_AHAED"))
        #expect(error.description.contains("Did you mean TOKEND_REFRESH_AHEAD?"))
    }

    @Test func unknownVariableWithoutCloseMatchIsRejectedWithoutSuggestion() throws {
        let error = try #require(parsing.failure(apps, environment: ["TOKEND_SOMETHING_ELSE_ENTIRELY": "1"]))
        #expect(error.description.contains("TOKEND_SOMETHING_ELSE_ENTIRELY overrides no option"))
        #expect(!error.description.contains("Did you mean"))
    }

    @Test func variableTheFileNamesAsASecretHolderIsAccepted() throws {
        let yaml = apps + "\nhttp:\n  api_key_env: TOKEND_API_KEY\n"
        let configuration = try parsing.parse(yaml, environment: ["TOKEND_API_KEY": "k3y", "TOKEND_REFRESH_AHEAD": "60s"])
        #expect(configuration.http.apiKey != nil)
        #expect(configuration.refresh.ahead == .seconds(60))
    }

    @Test func grantTypoListsTheValidGrants() throws {
        let yaml = "apps:\n  - appid: wx1\n    grant: stable-token\n    secret_env: WX_SECRET\n"
        let error = try #require(parsing.failure(yaml))
        #expect(error.field == "apps[0].grant")
        #expect(error.message.contains("'stable-token' is not a grant; expected one of token, stable_token, wecom"))
    }

    @Test func redisPasswordFileIsUsedForAUTHAndNeverShown() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tc-pw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("redis.password").path
        try Data("hunter2-redis\n".utf8).write(to: URL(fileURLWithPath: path))

        let yaml = apps + "\nredis:\n  url: redis://tokend@10.0.0.5:6379/0\n  password_file: \(path)\n"
        // Tools that skip app secrets (tokenctl) still need the Redis password.
        let configuration = try parsing.parse(yaml, resolvingSecrets: false)
        let endpoint = try configuration.redis.endpoint()
        #expect(endpoint.username == "tokend")
        #expect(endpoint.password == "hunter2-redis")
        #expect(!"\(endpoint)".contains("hunter2"))
        #expect(!"\(configuration)".contains("hunter2"))
    }

    @Test func redisPasswordFromTheNamedVariable() throws {
        let yaml = apps + "\nredis:\n  password_env: REDIS_PASSWORD\n"
        let configuration = try parsing.parse(yaml, environment: ["REDIS_PASSWORD": "from-env"])
        #expect(try configuration.redis.endpoint().password == "from-env")
    }

    @Test func redisPasswordInTheURLAndAFileIsRejected() throws {
        let yaml = apps + "\nredis:\n  url: redis://:inline@10.0.0.5:6379/0\n  password_env: REDIS_PASSWORD\n"
        let error = try #require(parsing.failure(yaml, environment: ["REDIS_PASSWORD": "from-env"]))
        #expect(error.field == "redis.url")
        #expect(!error.description.contains("inline"))
        #expect(!error.description.contains("from-env"))
    }

    @Test(arguments: ["0.0.0.0", "10.1.2.3", "::"])
    func nonLoopbackHostWithoutAPIKeyIsRefused(host: String) throws {
        let error = try #require(parsing.failure(apps + "\nhttp:\n  host: \"\(host)\"\n"))
        #expect(error.field == "http.host")
        #expect(error.message.contains("http.allow_unauthenticated"))
    }

    @Test func nonLoopbackHostIsAllowedWithAnAPIKeyOrExplicitly() throws {
        let keyed = try parsing.parse(apps + "\nhttp:\n  host: 0.0.0.0\n  api_key_env: API_KEY\n", environment: ["API_KEY": "k"])
        #expect(keyed.http.host == "0.0.0.0")
        let open = try parsing.parse(apps + "\nhttp:\n  host: 0.0.0.0\n", environment: ["TOKEND_HTTP_ALLOW_UNAUTHENTICATED": "true"])
        #expect(open.http.allowUnauthenticated)
        let disabled = try parsing.parse(apps + "\nhttp:\n  enabled: false\n  host: 0.0.0.0\n")
        #expect(!disabled.http.enabled)
    }

    @Test(arguments: ["127.0.0.1", "localhost", "::1"])
    func loopbackHostNeedsNoAPIKey(host: String) throws {
        #expect(try parsing.parse(apps + "\nhttp:\n  host: \"\(host)\"\n").http.host == host)
    }

    @Test func idleTimeoutIsConfigurable() throws {
        #expect(try parsing.parse(apps).http.idleTimeout == .seconds(30))
        #expect(try parsing.parse(apps + "\nhttp:\n  idle_timeout: 5s\n").http.idleTimeout == .seconds(5))
    }

    @Test func tokenCacheMaxAgeIsConfigurable() throws {
        #expect(try parsing.parse(apps).http.tokenCacheMaxAge == .seconds(1))
        #expect(try parsing.parse(apps + "\nhttp:\n  token_cache_max_age: 250ms\n").http.tokenCacheMaxAge == .milliseconds(250))
    }

    @Test func readmeStatesTheBodyLimitTheCodeEnforces() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let kibibytes = RefreshMessage.maximumSize / 1024
        for name in ["README.md", "README.zh-CN.md"] {
            let text = try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
            let row = try #require(text.split(separator: "\n").first { $0.contains("`payload_too_large`") })
            #expect(row.contains("\(kibibytes) KiB"), "\(name): \(row)")
        }
    }
}
