/// The token series an access token belongs to.
///
/// Real WeChat keeps `/cgi-bin/token` and `stable_token` tokens apart: fetching one
/// never supersedes the other. WeCom `gettoken` tokens form a third series.
struct TokenSeries: Hashable, Sendable {
    enum Kind: Hashable, Sendable {
        case token
        case stable
        case corp
    }

    var id: String
    var kind: Kind
}

/// Every access token the mock has issued, and which one is current per series.
///
/// A pure value: time comes in as an instant (an offset from the mock's start), so the
/// expiry and overlap rules are unit-tested with plain values and no sleeping.
/// Superseded tokens are remembered so validation can tell "superseded" from "unknown".
struct TokenLedger: Sendable {
    /// What a token endpoint hands out.
    struct Grant: Equatable, Sendable {
        var token: String
        /// Whole seconds the token remains valid, as WeChat reports in `expires_in`.
        var expiresIn: Int
    }

    private struct Record: Sendable {
        let owner: TokenSeries
        let expiresAt: Duration
        var supersededAt: Duration?
    }

    /// How long a new token lives.
    let lifetime: Duration
    /// How long a superseded token keeps working.
    let overlap: Duration
    private var records: [String: Record] = [:]
    private var current: [TokenSeries: String] = [:]

    init(lifetime: Duration, overlap: Duration) {
        self.lifetime = lifetime
        self.overlap = overlap
    }

    /// Records `token` as the series' new current token; the previous one starts its overlap.
    mutating func issue(_ token: String, for series: TokenSeries, at now: Duration) -> Grant {
        if let previous = self.current[series] {
            self.records[previous]?.supersededAt = now
        }
        self.records[token] = Record(owner: series, expiresAt: now + self.lifetime, supersededAt: nil)
        self.current[series] = token
        return Grant(token: token, expiresIn: Self.wholeSeconds(self.lifetime))
    }

    /// Retires the series' current token at once, without overlap, as WeChat does when an AppSecret is
    /// reset or a token is otherwise invalidated; the next call issues a new one. False when there is none.
    mutating func revokeCurrent(of series: TokenSeries, at now: Duration) -> Bool {
        guard let token = self.current.removeValue(forKey: series) else { return false }
        self.records[token]?.supersededAt = now - self.overlap
        return true
    }

    /// The series' current token with its remaining lifetime, or nil when there is none, it expired, or
    /// it expires within `window`.
    func currentGrant(for series: TokenSeries, at now: Duration, unlessExpiringWithin window: Duration = .zero) -> Grant? {
        guard let token = self.current[series], let record = self.records[token], now + window < record.expiresAt else {
            return nil
        }
        return Grant(token: token, expiresIn: Self.wholeSeconds(record.expiresAt - now))
    }

    /// Judges `token` the way WeChat's APIs do; expiry wins over supersession because it is
    /// a property of the token itself. Also returns the owning series for accounting.
    func validate(_ token: String, at now: Duration) -> (result: ValidationResult, owner: TokenSeries?) {
        guard let record = self.records[token] else {
            return (.unknown, nil)
        }
        if now >= record.expiresAt {
            return (.expired, record.owner)
        }
        if let supersededAt = record.supersededAt, now >= supersededAt + self.overlap {
            return (.superseded, record.owner)
        }
        return (.ok, record.owner)
    }

    private static func wholeSeconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds)
    }
}
