import Foundation
import NIOCore
import Testing

@testable import TokenCentral

/// The `gateway` section of `tokend.yaml`, and the gateway's pure request rewriting.
@Suite struct GatewayConfigurationTests {
    private let apps = "apps:\n  - appid: wx1\n    secret_env: WX_SECRET\n"
    private let environment = ["WX_SECRET": "s"]

    private func parse(_ yaml: String, environment extra: [String: String] = [:]) throws(ConfigError) -> TokendConfiguration {
        try TokendConfiguration.parse(yaml: yaml + apps, file: "tokend.yaml", environment: environment.merging(extra) { $1 })
    }

    @Test func theGatewayIsOffByDefaultWithWeChatsAPIPaths() throws {
        let gateway = try parse("").gateway
        #expect(!gateway.enabled)
        #expect(gateway.pathPrefixes == ["/cgi-bin/", "/wxa/", "/datacube/", "/card/", "/merchant/"])
        #expect(gateway.timeout == .seconds(30))
        #expect(gateway.maxConnections == 64)
        #expect(gateway.maxBodySize == 20 * 1024 * 1024)
        #expect(gateway.tokenWait == .seconds(5))
    }

    @Test func theExampleFileStatesTheGatewayDefaults() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("tokend.example.yaml").path
        let example = try TokendConfiguration.load(file: path, environment: [:], resolvingSecrets: false).gateway
        let defaults = TokendConfiguration.Gateway()
        #expect(example.enabled == defaults.enabled)
        #expect(example.pathPrefixes == defaults.pathPrefixes)
        #expect(example.timeout == defaults.timeout)
        #expect(example.maxConnections == defaults.maxConnections)
        #expect(example.maxBodySize == defaults.maxBodySize)
        #expect(example.tokenWait == defaults.tokenWait)
    }

    @Test func theGatewaySectionIsReadFromTheFile() throws {
        let gateway = try parse("""
            gateway:
              enabled: true
              path_prefixes: ["/cgi-bin/", "/wxaapi/"]
              timeout: 5s
              max_connections: 4
              max_body_size: 1000
              token_wait: 2s

            """).gateway
        #expect(gateway.enabled)
        #expect(gateway.pathPrefixes == ["/cgi-bin/", "/wxaapi/"])
        #expect(gateway.timeout == .seconds(5))
        #expect(gateway.maxConnections == 4)
        #expect(gateway.maxBodySize == 1000)
        #expect(gateway.tokenWait == .seconds(2))
    }

    @Test func pathPrefixesAreOverriddenFromTheEnvironmentCommaSeparated() throws {
        let gateway = try parse("", environment: ["TOKEND_GATEWAY_PATH_PREFIXES": "/cgi-bin/,/wxa/"]).gateway
        #expect(gateway.pathPrefixes == ["/cgi-bin/", "/wxa/"])
    }

    @Test(arguments: ["cgi-bin/", "/cgi-bin", "//"])
    func aPathPrefixNotBetweenSlashesIsRejected(prefix: String) {
        #expect(throws: ConfigError.self) { try parse("gateway:\n  path_prefixes: [\"\(prefix)\"]\n") }
    }

    @Test func theCallersAccessTokenIsReplacedAndOtherParametersKeptAsSent() {
        #expect(TokenGateway.query("lang=zh_CN&access_token=old&next_openid=a%2Bb", injecting: "new") == "lang=zh_CN&next_openid=a%2Bb&access_token=new")
        #expect(TokenGateway.query(nil, injecting: "t") == "access_token=t")
    }

    @Test func theCallersAccessTokenIsReadPercentDecoded() {
        #expect(TokenGateway.accessToken(in: "a=1&access_token=x%2By") == "x+y")
        #expect(TokenGateway.accessToken(in: "access_token=&b=2") == nil)
        #expect(TokenGateway.accessToken(in: nil) == nil)
    }

    @Test(arguments: [(#"{"errcode":40001,"errmsg":"invalid credential"}"#, true), (#"{"errcode":42001}"#, true),
                      (#"{"errcode":40014}"#, true), (#"{"errcode":0,"errmsg":"ok"}"#, false), (#"{"ip_list":[]}"#, false), ("<html>", false)])
    func onlyTheRejectedTokenErrcodesCauseARetry(body: String, rejects: Bool) {
        #expect(TokenGateway.rejectsToken(.init(string: body)) == rejects)
    }
}
