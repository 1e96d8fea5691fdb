import ArgumentParser
import RedisClient
import TokenCentral

struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print the current access_token of an app.",
        discussion: "Exits with 1 when Redis holds no valid token for the app.")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The app, as configured in tokend.")
    var appid: String

    @Flag(help: #"Print {"access_token":...,"expires_in":...,"generation":...} instead of the bare token."#)
    var json = false

    struct Output: Encodable {
        var accessToken: String
        /// Whole seconds left.
        var expiresIn: Int
        var generation: Int?
    }

    func run() async throws {
        let deployment = try connection.deployment()
        try await deployment.checkPermissions(deployment.getProbes(appid))
        let key = deployment.keys.accessToken(appid)
        let replies = try await deployment.pipeline([
            RedisCommand("GET", key),
            RedisCommand("PTTL", key),
            RedisCommand("HGET", deployment.keys.meta(appid), "generation"),
        ])
        guard let token = replies[0].string, !token.isEmpty else {
            throw TokenctlError("no access_token for \(appid) at \(key); see `tokenctl status` for the last error")
        }
        if json {
            try JSONOutput.print(Output(accessToken: token, expiresIn: max(0, (replies[1].integer ?? 0) / 1000), generation: replies[2].integer))
        } else {
            print(token)
        }
    }
}
