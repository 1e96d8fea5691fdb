/// A token as a token endpoint returned it.
public struct FetchedToken: Sendable, Hashable {
    public var token: String
    /// Validity announced by WeChat (`expires_in`); never assumed to be 7200.
    public var expiresIn: Duration

    public init(token: String, expiresIn: Duration) {
        self.token = token
        self.expiresIn = expiresIn
    }
}
