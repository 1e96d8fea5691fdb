/// What `TokenStore.write` did with a fetched token.
public enum WriteOutcome: Sendable, Hashable {
    /// Stored as the new current token.
    case written(generation: Int, expiresAt: Int64)
    /// It was the token already stored: TTL refreshed, generation unchanged.
    case same(generation: Int, expiresAt: Int64)
    /// Refused: the stored token was certainly issued later.
    case older(storedGeneration: Int)
    /// Refused: issue order unknown; the app is marked for one more fetch.
    case ambiguous(storedGeneration: Int)
    /// Refused: the token had already expired when it reached Redis.
    case expired
}

extension WriteOutcome {
    /// True when the fetched token became the stored one.
    public var isWritten: Bool {
        if case .written = self { true } else { false }
    }
}

extension WriteOutcome {
    /// True when the fence refused the value (`older`, `ambiguous`, `expired`): Redis kept what it had.
    public var isRefused: Bool {
        switch self {
        case .written, .same: false
        case .older, .ambiguous, .expired: true
        }
    }
}
