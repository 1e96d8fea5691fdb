/// Everything the mock remembers: credentials, tokens, quotas, counters and pending faults.
///
/// A value type kept behind the ``WeChatMock``'s `Mutex`. Every method is synchronous and
/// takes the current instant (an offset from the mock's start); waiting for faults happens
/// outside the lock.
struct MockState: Sendable {
    /// The token endpoints whose calls are counted and can suffer faults.
    enum Endpoint: Sendable {
        case token
        case stableToken
        case getToken
        case ticket
    }

    /// Per-id counters and quotas; an id is an appid or a WeCom corpid.
    private struct AppRecord: Sendable {
        var stats = AppStats()
        /// Shared by `/cgi-bin/token` and `gettoken`: an id is either an app or a corp.
        var quota: QuotaCounter
        var forceRefreshQuota: QuotaCounter
        /// `getticket` has a quota of its own, apart from the token endpoints'.
        var ticketQuota: QuotaCounter
    }

    private let configuration: WeChatMockConfiguration
    /// The record an id gets on first sight: zero counters, full quotas.
    private let freshRecord: AppRecord
    private var appSecrets: [String: String]
    private var ledger: TokenLedger
    private var tickets: TicketLedger
    private var records: [String: AppRecord] = [:]
    private var totals = AppStats()
    private var faults = FaultQueue()
    /// Never reset, so tokens stay unique across ``reset()``.
    private var serial = 0

    init(configuration: WeChatMockConfiguration) {
        self.configuration = configuration
        self.freshRecord = AppRecord(
            quota: QuotaCounter(limit: configuration.dailyQuota, window: configuration.quotaWindow),
            forceRefreshQuota: QuotaCounter(
                limit: configuration.stableForceRefreshDailyLimit,
                window: configuration.quotaWindow
            ),
            ticketQuota: QuotaCounter(limit: configuration.ticketDailyQuota, window: configuration.quotaWindow)
        )
        self.appSecrets = configuration.apps
        self.ledger = Self.emptyLedger(configuration)
        self.tickets = Self.emptyTickets(configuration)
    }

    // MARK: Token endpoints

    /// Counts a call to `endpoint` and takes the fault it must suffer, if any.
    mutating func beginCall(to endpoint: Endpoint, id: String?) -> FaultEffect? {
        let id = Self.present(id)
        self.count(id) { stats in
            switch endpoint {
            case .token: stats.tokenCalls += 1
            case .stableToken: stats.stableTokenCalls += 1
            case .getToken: stats.getTokenCalls += 1
            case .ticket: stats.ticketCalls += 1
            }
        }
        return self.faults.take(for: id)
    }

    /// `/cgi-bin/token`: always a new token, superseding the previous one.
    mutating func token(
        appid: String?,
        secret: String?,
        grantType: String?,
        at now: Duration
    ) throws(WeChatAPIError) -> TokenLedger.Grant {
        let appid = try self.checkApp(appid: appid, secret: secret, grantType: grantType)
        guard self.records[appid, default: self.freshRecord].quota.consume(at: now) else {
            throw .quotaExceeded
        }
        return self.issue(for: TokenSeries(id: appid, kind: .token), at: now)
    }

    /// `/cgi-bin/stable_token`: the current token while it lives, unless it is in its last
    /// `stableRenewWindow` or a (limited) forced refresh is asked for.
    mutating func stableToken(
        appid: String?,
        secret: String?,
        grantType: String?,
        forceRefresh: Bool,
        at now: Duration
    ) throws(WeChatAPIError) -> TokenLedger.Grant {
        let appid = try self.checkApp(appid: appid, secret: secret, grantType: grantType)
        let series = TokenSeries(id: appid, kind: .stable)
        if !forceRefresh,
            let grant = self.ledger.currentGrant(for: series, at: now, unlessExpiringWithin: self.configuration.stableRenewWindow)
        {
            return grant
        }
        if forceRefresh {
            guard self.records[appid, default: self.freshRecord].forceRefreshQuota.consume(at: now) else {
                throw .quotaExceeded
            }
        }
        return self.issue(for: series, at: now)
    }

    /// WeCom `gettoken`: like WeCom, repeated calls return the same token until it expires.
    mutating func corpToken(
        corpid: String?,
        corpsecret: String?,
        at now: Duration
    ) throws(WeChatAPIError) -> TokenLedger.Grant {
        guard let corpid = Self.present(corpid) else { throw .corpidMissing }
        guard let corpsecret = Self.present(corpsecret) else { throw .corpsecretMissing }
        guard let expected = self.secret(for: corpid, in: self.configuration.corps) else {
            throw .invalidCorpid
        }
        guard corpsecret == expected else { throw .invalidCorpsecret }
        guard self.records[corpid, default: self.freshRecord].quota.consume(at: now) else {
            throw .quotaExceeded
        }
        let series = TokenSeries(id: corpid, kind: .corp)
        return self.ledger.currentGrant(for: series, at: now) ?? self.issue(for: series, at: now)
    }

    // MARK: Tickets

    /// The app whose token this is, for counting a `getticket` call and taking its fault; nil for a
    /// token the mock never issued.
    func owner(of token: String?, at now: Duration) -> String? {
        Self.present(token).flatMap { self.ledger.validate($0, at: now).owner?.id }
    }

    /// `/cgi-bin/ticket/getticket`: judges the token as any business API does (counting the outcome),
    /// then answers the app's current ticket of `type` while it lives, a new one otherwise.
    /// WeCom tokens are refused as invalid: WeCom has endpoints of its own for tickets.
    mutating func ticket(token: String?, type: String?, at now: Duration) throws(WeChatAPIError) -> TicketLedger.Grant {
        guard let token = Self.present(token) else { throw .accessTokenMissing }
        switch self.validate(token, at: now) {
        case .ok: break
        case .superseded, .unknown: throw .invalidAccessToken
        case .expired: throw .accessTokenExpired
        }
        guard let owner = self.ledger.validate(token, at: now).owner, owner.kind != .corp else {
            throw .invalidAccessToken
        }
        guard let type = type.flatMap(TicketType.init(rawValue:)) else { throw .invalidArguments }
        guard self.records[owner.id, default: self.freshRecord].ticketQuota.consume(at: now) else {
            throw .quotaExceeded
        }
        self.serial += 1
        let grant = self.tickets.ticket(
            for: .init(appid: owner.id, type: type),
            at: now,
            orNew: Self.makeTicket(serial: self.serial)
        )
        if grant.isNew {
            self.count(owner.id) { $0.ticketsIssued += 1 }
        }
        return grant
    }

    // MARK: Validation

    mutating func validate(_ token: String, at now: Duration) -> ValidationResult {
        let (result, owner) = self.ledger.validate(token, at: now)
        self.count(owner?.id) { stats in
            switch result {
            case .ok: stats.validationsOK += 1
            case .superseded, .unknown: stats.validationsInvalid += 1
            case .expired: stats.validationsExpired += 1
            }
        }
        return result
    }

    // MARK: Administration

    func stats(for id: String) -> AppStats {
        self.records[id]?.stats ?? AppStats()
    }

    func allStats() -> MockStats {
        MockStats(apps: self.records.mapValues(\.stats), totals: self.totals)
    }

    mutating func inject(_ fault: Fault, appid: String?) {
        self.faults.add(fault, appid: appid)
    }

    mutating func clearFaults() {
        self.faults.removeAll()
    }

    /// Revokes the current `/cgi-bin/token` and stable_token tokens of `appid` (see `TokenLedger.revokeCurrent`).
    mutating func revoke(appid: String, at now: Duration) -> Bool {
        let token = self.ledger.revokeCurrent(of: TokenSeries(id: appid, kind: .token), at: now)
        let stable = self.ledger.revokeCurrent(of: TokenSeries(id: appid, kind: .stable), at: now)
        return token || stable
    }

    mutating func setSecret(_ secret: String, for appid: String) {
        self.appSecrets[appid] = secret
    }

    /// Forgets tokens, counters, quotas and faults; credentials stay.
    mutating func reset() {
        self.ledger = Self.emptyLedger(self.configuration)
        self.tickets = Self.emptyTickets(self.configuration)
        self.records = [:]
        self.totals = AppStats()
        self.faults.removeAll()
    }

    // MARK: Helpers

    /// Checks the parameters WeChat checks, in its order, and returns the appid.
    private func checkApp(appid: String?, secret: String?, grantType: String?) throws(WeChatAPIError) -> String {
        guard let appid = Self.present(appid) else { throw .appidMissing }
        guard let secret = Self.present(secret) else { throw .appsecretMissing }
        guard grantType == "client_credential" else { throw .invalidGrantType }
        guard let expected = self.secret(for: appid, in: self.appSecrets) else { throw .invalidAppid }
        guard secret == expected else { throw .invalidAppsecret }
        return appid
    }

    /// WeChat treats an empty parameter as a missing one.
    private static func present(_ value: String?) -> String? {
        value.flatMap { $0.isEmpty ? nil : $0 }
    }

    private func secret(for id: String, in known: [String: String]) -> String? {
        known[id] ?? (self.configuration.derivedSecrets ? WeChatMockConfiguration.derivedSecret(for: id) : nil)
    }

    private mutating func issue(for series: TokenSeries, at now: Duration) -> TokenLedger.Grant {
        self.serial += 1
        self.count(series.id) { $0.tokensIssued += 1 }
        return self.ledger.issue(Self.makeToken(serial: self.serial), for: series, at: now)
    }

    /// Applies `update` to the totals and, when the call names an id, to that id's counters.
    private mutating func count(_ id: String?, _ update: (inout AppStats) -> Void) {
        update(&self.totals)
        if let id {
            update(&self.records[id, default: self.freshRecord].stats)
        }
    }

    private static func emptyLedger(_ configuration: WeChatMockConfiguration) -> TokenLedger {
        TokenLedger(lifetime: .seconds(configuration.tokenLifetime), overlap: configuration.overlap)
    }

    /// Tickets live as long as tokens do: WeChat gives both 7200 seconds.
    private static func emptyTickets(_ configuration: WeChatMockConfiguration) -> TicketLedger {
        TicketLedger(lifetime: .seconds(configuration.tokenLifetime))
    }

    /// Unique by its serial (shared with tokens), unguessable by its random tail; about as long as
    /// WeChat's 86-character tickets.
    private static func makeTicket(serial: Int) -> String {
        "T\(serial)_" + self.randomTail(count: 80)
    }

    /// Looks like a real token (`"86_..."` followed by opaque characters): unique by its serial,
    /// unguessable by its random tail.
    private static func makeToken(serial: Int) -> String {
        "\(serial)_" + self.randomTail(count: 64)
    }

    private static func randomTail(count: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<count).map { _ in alphabet[Int.random(in: alphabet.indices)] })
    }
}
