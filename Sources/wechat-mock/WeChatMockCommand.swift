import ArgumentParser
import Foundation
import Hummingbird
import Logging
import WeChatMock

/// Runs the fake WeChat access_token API until SIGTERM/SIGINT.
@main
struct WeChatMockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wechat-mock",
        abstract: "A fake WeChat access_token API for tests and demos."
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 8090

    @Option(help: "Token and ticket lifetime in seconds (the expires_in returned).")
    var lifetime = 7200

    @Option(help: "Seconds a superseded token keeps working; fractions allowed.")
    var overlap = 300.0

    @Option(help: "Successful /cgi-bin/token (and gettoken) calls allowed per app per quota window.")
    var quota = 2000

    @Option(help: "getticket calls allowed per app per quota window, counted apart from the token endpoints.")
    var ticketQuota = 2000

    @Option(help: "Length of a quota window in seconds; fractions allowed.")
    var quotaWindow = 86_400.0

    @Option(help: "Seconds before expiry from which stable_token (normal mode) issues a new token; fractions allowed.")
    var stableRenewWindow = 300.0

    @Option(name: .customLong("app"), help: "A known app as APPID:SECRET; repeatable.")
    var apps: [Credential] = []

    @Option(name: .customLong("corp"), help: "A known WeCom corp as CORPID:SECRET; repeatable.")
    var corps: [Credential] = []

    @Flag(help: "Accept any appid/corpid whose secret is \"secret-\" + id.")
    var derivedSecrets = false

    func validate() throws {
        do {
            try self.mockConfiguration().validate()
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        let mock = try WeChatMock(configuration: self.mockConfiguration())
        let host = self.host
        let application = buildApplication(
            mock: mock,
            host: host,
            port: self.port,
            logger: Logger(label: "wechat-mock")
        ) { port in
            // Scripts parse this exact line to learn the port.
            FileHandle.standardOutput.write(Data("wechat-mock listening on http://\(host):\(port)\n".utf8))
        }
        try await application.runService()
    }

    private func mockConfiguration() -> WeChatMockConfiguration {
        WeChatMockConfiguration(
            tokenLifetime: self.lifetime,
            overlap: .seconds(self.overlap),
            dailyQuota: self.quota,
            quotaWindow: .seconds(self.quotaWindow),
            ticketDailyQuota: self.ticketQuota,
            stableRenewWindow: .seconds(self.stableRenewWindow),
            apps: Dictionary(self.apps.map { ($0.id, $0.secret) }, uniquingKeysWith: { _, last in last }),
            corps: Dictionary(self.corps.map { ($0.id, $0.secret) }, uniquingKeysWith: { _, last in last }),
            derivedSecrets: self.derivedSecrets
        )
    }
}
