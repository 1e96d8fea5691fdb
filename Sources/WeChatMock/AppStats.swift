/// Call and validation counters for one app (or WeCom corp), so tests can assert how
/// often a client really went upstream.
public struct AppStats: Sendable, Equatable, Codable {
    /// Calls to `/cgi-bin/token`, whatever their outcome.
    public var tokenCalls = 0
    /// Calls to `/cgi-bin/stable_token`, whatever their outcome.
    public var stableTokenCalls = 0
    /// Calls to WeCom `/cgi-bin/gettoken`, whatever their outcome.
    public var getTokenCalls = 0
    /// Calls to `/cgi-bin/ticket/getticket`, whatever their outcome.
    public var ticketCalls = 0
    /// New tickets issued (a ticket handed out again is not counted).
    public var ticketsIssued = 0
    /// New tokens issued by any of the three endpoints.
    public var tokensIssued = 0
    /// Validations of a working token.
    public var validationsOK = 0
    /// Validations answered 40001 (superseded or unknown token).
    public var validationsInvalid = 0
    /// Validations answered 42001 (expired token).
    public var validationsExpired = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case tokenCalls = "token_calls"
        case stableTokenCalls = "stable_token_calls"
        case getTokenCalls = "gettoken_calls"
        case ticketCalls = "ticket_calls"
        case ticketsIssued = "tickets_issued"
        case tokensIssued = "tokens_issued"
        case validationsOK = "validations_ok"
        case validationsInvalid = "validations_40001"
        case validationsExpired = "validations_42001"
    }
}

/// Counters for every app seen, plus totals that also include calls no app can be
/// blamed for (missing appid, unknown token).
public struct MockStats: Sendable, Equatable, Codable {
    public var apps: [String: AppStats]
    public var totals: AppStats

    public init(apps: [String: AppStats], totals: AppStats) {
        self.apps = apps
        self.totals = totals
    }
}
