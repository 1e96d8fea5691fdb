/// A forced-refresh request as published on `P:refresh`: `{"appid":"...","bad_token":"..."}`,
/// encoded with `JSONOutput` (snake_case keys).
struct ForcedRefreshRequestBody: Encodable, Sendable {
    var appid: String
    /// Omitted when nil: the workers then apply their cooldown instead of comparing tokens.
    var badToken: String?
}
