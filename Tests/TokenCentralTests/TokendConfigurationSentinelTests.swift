import Foundation
import Testing

@testable import TokenCentral

/// `redis.sentinel` and its `TOKEND_REDIS_SENTINEL_*` variables.
@Suite struct TokendConfigurationSentinelTests {
    private let apps = """
        apps:
          - appid: wx1234567890abcdef
            secret_env: WX_SECRET
        """

    private let parsing = ConfigurationParsing()

    @Test func theSectionNamesTheMasterTheSentinelsAndTheirCredentials() throws {
        let configuration = try parsing.parse(
            """
            redis:
              url: redis://:node-password@mymaster/3
              sentinel:
                master: mymaster
                addresses: [10.0.0.11:26379, "10.0.0.12", "redis://:own@10.0.0.13:26380"]
                username: sentinel-user
                password_env: SENTINEL_PASSWORD
            """ + "\n" + apps, environment: ["SENTINEL_PASSWORD": "sentinel-secret"], resolvingSecrets: false)
        let sentinel = try #require(configuration.redis.sentinel)
        #expect(sentinel.master == "mymaster")
        #expect(sentinel.addresses == ["10.0.0.11:26379", "10.0.0.12", "redis://:own@10.0.0.13:26380"])
        #expect(sentinel.username == "sentinel-user")
        // A Redis credential: read even by tools that skip the app secrets (tokenctl).
        #expect(sentinel.password?.value == "sentinel-secret")
    }

    @Test func variablesTurnSentinelOnWithoutTheFile() throws {
        let configuration = try parsing.parse(apps, environment: [
            "TOKEND_REDIS_SENTINEL_MASTER": "mymaster",
            "TOKEND_REDIS_SENTINEL_ADDRESSES": "10.0.0.11:26379, 10.0.0.12:26379",
        ])
        #expect(configuration.redis.sentinel?.master == "mymaster")
        #expect(configuration.redis.sentinel?.addresses == ["10.0.0.11:26379", "10.0.0.12:26379"])
        #expect(configuration.redis.sentinel?.password == nil)
    }

    @Test func withoutSentinelSectionTheURLIsUsedDirectly() throws {
        #expect(try parsing.parse(apps).redis.sentinel == nil)
    }

    @Test func aMasterWithoutSentinelsNamesTheAddressesField() {
        let error = parsing.failure("redis:\n  sentinel:\n    master: mymaster\n" + apps)
        #expect(error?.field == "redis.sentinel.addresses")
    }

    @Test func sentinelsWithoutAMasterNameTheMasterField() {
        let error = parsing.failure(apps, environment: ["TOKEND_REDIS_SENTINEL_ADDRESSES": "10.0.0.11:26379"])
        #expect(error?.field == "redis.sentinel.master")
    }

    @Test func aMalformedSentinelAddressNamesItsIndex() {
        let error = parsing.failure("redis:\n  sentinel:\n    master: m\n    addresses: [\"10.0.0.11:port\"]\n" + apps)
        #expect(error?.field == "redis.sentinel.addresses[0]")
    }

    @Test func aMisspelledSentinelKeyIsRejected() {
        let error = parsing.failure("redis:\n  sentinel:\n    master: m\n    adresses: [a]\n" + apps)
        #expect(error?.field == "redis.sentinel.adresses")
    }

    @Test func theExampleFilesSentinelBlockParsesOnceUncommented() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("tokend.example.yaml").path
        var inBlock = false
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map { line in
            if line == "  # sentinel:" { inBlock = true } else if !line.hasPrefix("  #   ") { inBlock = false }
            return inBlock ? "  " + line.dropFirst(4) : String(line)
        }
        let configuration = try parsing.parse(lines.joined(separator: "\n"), environment: ["TOKEND_SENTINEL_PASSWORD": "p"], resolvingSecrets: false)
        #expect(configuration.redis.sentinel?.master == "mymaster")
        #expect(configuration.redis.sentinel?.addresses.count == 3)
    }
}
