import ArgumentParser
import Foundation
import RedisClient
import TokenCentral

struct RefreshCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refresh",
        abstract: "Ask the workers for a new token, wait until one is stored, and print its generation.",
        discussion: """
            Publishes {"appid":...,"bad_token":...} on P:refresh and waits for the matching announcement on \
            P:refreshed. With --bad-token the workers refresh only while that token is still the current one, \
            so any number of reports cause one upstream call. Without it they honour one forced refresh per \
            app per refresh.forced_cooldown (60 s by default): a second request within that time is ignored \
            and this command times out.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The app, as configured in tokend.")
    var appid: String

    @Option(help: ArgumentHelp("The token WeChat rejected (errcode 40001 or 42001).", valueName: "token"))
    var badToken: String?

    @Option(help: "Seconds to wait for the new token.")
    var timeout: Double = 30

    @Flag(help: #"Print {"appid":...,"generation":N} instead of the bare generation."#)
    var json = false

    func validate() throws {
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    func run() async throws {
        let deployment = try connection.deployment()
        if let apps = deployment.configuredApps, !apps.contains(where: { $0.appid == appid }) {
            throw TokenctlError("\(appid) is not configured; the apps are \(apps.map(\.appid).joined(separator: ", "))")
        }
        try await deployment.checkPermissions(deployment.refreshProbes(appid))  // and an unreachable Redis fails now, not after the timeout
        if let replaced = try await alreadyReplaced(deployment) {
            // Success: what the caller wanted (a token other than the rejected one) is already there.
            FileHandle.standardError.write(Data("tokenctl: the reported token of \(appid) was already replaced; no refresh needed\n".utf8))
            try report(generation: replaced, alreadyReplaced: true)
            return
        }
        let request = self
        guard let generation = try await withTimeout(.seconds(timeout), { try await request.requestAndWait(deployment) }) else {
            let hint = badToken == nil
                ? " (without --bad-token the workers apply a cooldown to forced refreshes)"
                : "; see `tokenctl status` for the last error, or a forced-refresh refusal (FORCED)"
            throw TokenctlError("no new token for \(appid) within \(Duration.seconds(timeout))\(hint)")
        }
        try report(generation: generation, alreadyReplaced: false)
    }

    private func report(generation: Int, alreadyReplaced: Bool) throws {
        if json {
            try JSONOutput.print(RefreshResult(appid: appid, generation: generation, alreadyReplaced: alreadyReplaced ? true : nil))
        } else {
            print(generation)
        }
    }

    private struct RefreshResult: Encodable {
        var appid: String
        var generation: Int
        /// Present (true) only when `--bad-token` was no longer the current token: nothing was requested.
        var alreadyReplaced: Bool?
    }

    /// The current generation when `--bad-token` names a token that is no longer the stored one: the
    /// workers would ignore the report (as they must), so waiting for a new token would only time out.
    private func alreadyReplaced(_ deployment: Deployment) async throws -> Int? {
        guard let badToken else { return nil }
        let keys = deployment.keys
        let replies = try await deployment.pipeline([
            RedisCommand("GET", keys.accessToken(appid)), RedisCommand("HGET", keys.meta(appid), "generation"),
        ])
        guard let current = replies[0].string, current != badToken else { return nil }
        return replies[1].integer ?? 0
    }

    /// Subscribes first, so the announcement cannot slip by between the request and the wait.
    private func requestAndWait(_ deployment: Deployment) async throws -> Int {
        let keys = deployment.keys
        var events = deployment.redis.subscribe(channels: [keys.refreshedChannel]).makeAsyncIterator()
        guard await events.next() == .subscribed else { throw CancellationError() }
        let before = try await deployment.redis.send("HGET", keys.meta(appid), "generation").integer ?? 0
        let body = RefreshMessage(appid: appid, badToken: badToken).payload
        guard try await deployment.redis.publish(keys.refreshChannel, body) > 0 else {
            throw TokenctlError("no tokend worker listens on \(keys.refreshChannel); is one running with this prefix?")
        }
        while let event = await events.next() {
            // A ticket's announcement carries the ticket's generation, not the token's.
            if case .message(let message) = event, let announcement = RefreshedAnnouncement(payload: message.payload),
                announcement.ticket == nil, announcement.appid == appid, announcement.generation > before
            {
                return announcement.generation
            }
        }
        throw CancellationError()
    }
}
