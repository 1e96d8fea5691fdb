/// What a ticket keeper needs from upstream: one `getticket` call, and how long it may take.
///
/// Apart from `TokenFetcher` so that each can be scripted (or decorated) on its own: tests drive the
/// ticket keeper's races (a token rejected by `getticket`, the same ticket handed out again) with a
/// scripted fetcher while the store stays the real Redis. `WeChatUpstream` is the production one.
public protocol TicketFetcher: Sendable {
    /// Longest a call may take.
    var timeout: Duration { get }

    /// Fetches the `type` ticket of `appid` with `accessToken`. Every failure is a classified
    /// `UpstreamError`, never a throw; a rejected token shows as `UpstreamError.rejectsToken`.
    func fetchTicket(_ type: TicketType, appid: String, accessToken: String) async -> Result<FetchedToken, UpstreamError>
}

extension UpstreamError {
    /// errcodes with which WeChat rejects the access_token a business call carried: 40001 (invalid
    /// credential, e.g. retired by a newer token), 40014 (malformed token), 42001 (expired).
    public static let rejectedTokenErrcodes: Set<Int> = [40001, 40014, 42001]

    /// The call failed because of its access_token, not the ticket: report the token, then retry with
    /// the new one.
    public var rejectsToken: Bool { errcode.map(Self.rejectedTokenErrcodes.contains) ?? false }
}
