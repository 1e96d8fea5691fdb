import ArgumentParser
import RedisClient
import TokenCentral

struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print the current access_token of an app, or one of its tickets.",
        discussion: "Exits with 1 when Redis holds no valid token (or ticket) for the app.")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The app, as configured in tokend.")
    var appid: String

    @Option(help: "Print this ticket of the app instead of its token: jsapi or wx_card.")
    var ticket: String?

    @Flag(help: #"Print {"access_token":...,"expires_in":...,"generation":...} (with --ticket, "ticket" instead of "access_token") instead of the bare value."#)
    var json = false

    struct Output: Encodable {
        var accessToken: String?
        var ticket: String?
        /// Whole seconds left.
        var expiresIn: Int
        var generation: Int?
    }

    func validate() throws {
        if let ticket, TicketType(rawValue: ticket) == nil {
            throw ValidationError("'\(ticket)' is not a ticket type; expected one of \(TicketType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let deployment = try connection.deployment()
        let type = ticket.flatMap(TicketType.init(rawValue:))
        let key = type.map { deployment.keys.ticket(appid, $0) } ?? deployment.keys.accessToken(appid)
        let meta = type.map { deployment.keys.meta(appid, $0) } ?? deployment.keys.meta(appid)
        try await deployment.checkPermissions(deployment.getProbes(key: key, meta: meta))
        let replies = try await deployment.pipeline([
            RedisCommand("GET", key),
            RedisCommand("PTTL", key),
            RedisCommand("HGET", meta, "generation"),
        ])
        guard let value = replies[0].string, !value.isEmpty else {
            let what = type.map { "\($0.rawValue) ticket" } ?? "access_token"
            throw TokenctlError("no \(what) for \(appid) at \(key); see `tokenctl status` for the last error")
        }
        if json {
            let expiresIn = max(0, (replies[1].integer ?? 0) / 1000)
            let generation = replies[2].integer
            try JSONOutput.print(Output(
                accessToken: type == nil ? value : nil, ticket: type.map { _ in value }, expiresIn: expiresIn, generation: generation))
        } else {
            print(value)
        }
    }
}
