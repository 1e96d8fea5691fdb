/// What every ticket keeper of one worker shares: the token refresher's context (store, schedule,
/// failure policy, forced-refresh budget, fetch permits), plus the ticket endpoint and the token refresher,
/// through which a token that `getticket` rejects is reported.
struct TicketContext: Sendable {
    var refresh: RefreshContext
    /// `WeChatUpstream` in production; a scripted fetcher in tests.
    var upstream: any TicketFetcher
    var tokens: TokenRefresher

    var store: TokenStore { refresh.store }
    var schedule: TicketSchedule { TicketSchedule(schedule: refresh.schedule) }
}
