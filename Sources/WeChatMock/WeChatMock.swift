import Synchronization

/// A fake of WeChat's access_token API: issues tokens, judges them, enforces quotas and
/// injects faults. Serve it over HTTP with ``buildApplication(mock:host:port:logger:onListening:)``
/// or ``withWeChatMockServer(_:host:port:logger:isolation:_:)``; tests can also drive and
/// inspect it in-process.
public final class WeChatMock: Sendable {
    public let configuration: WeChatMockConfiguration
    private let state: Mutex<MockState>
    /// Time since the mock was created, read from the injected clock.
    private let elapsed: @Sendable () -> Duration

    /// - Parameter clock: The source of time for expiry, overlap and quota windows; tests
    ///   inject a manual clock to cross those boundaries without sleeping.
    public init(
        configuration: WeChatMockConfiguration = WeChatMockConfiguration(),
        clock: some Clock<Duration> = ContinuousClock()
    ) throws(WeChatMockConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.state = Mutex(MockState(configuration: configuration))
        let origin = clock.now
        self.elapsed = { origin.duration(to: clock.now) }
    }

    /// Counters for one app or WeCom corp (zeros if it was never seen).
    public func stats(appid: String) -> AppStats {
        self.state.withLock { $0.stats(for: appid) }
    }

    /// Counters for every app seen, plus totals.
    public func allStats() -> MockStats {
        self.state.withLock { $0.allStats() }
    }

    /// Makes the next `fault.count` token-endpoint calls for `appid` (nil: any app) misbehave.
    public func inject(_ fault: Fault, appid: String? = nil) {
        precondition(fault.count > 0, "a fault must affect at least one call")
        self.state.withLock { $0.inject(fault, appid: appid) }
    }

    /// Drops every pending fault.
    public func clearFaults() {
        self.state.withLock { $0.clearFaults() }
    }

    /// Forgets tokens, counters, quotas and faults, as if freshly started; credentials stay.
    public func reset() {
        self.state.withLock { $0.reset() }
    }

    /// Invalidates the current tokens of `appid` at once (business APIs answer 40001), as a secret reset
    /// does; false when it has none.
    @discardableResult
    public func revoke(appid: String) -> Bool {
        let now = self.elapsed()
        return self.state.withLock { $0.revoke(appid: appid, at: now) }
    }

    /// Registers an app or changes its secret (a secret rotation in the WeChat console).
    public func setSecret(appid: String, secret: String) {
        self.state.withLock { $0.setSecret(secret, for: appid) }
    }

    /// Judges `token` as WeChat's business APIs would, counting the outcome.
    public func validate(token: String) -> ValidationResult {
        let now = self.elapsed()
        return self.state.withLock { $0.validate(token, at: now) }
    }

    // MARK: Token endpoints, for the routes

    func beginCall(to endpoint: MockState.Endpoint, id: String?) -> FaultEffect? {
        self.state.withLock { $0.beginCall(to: endpoint, id: id) }
    }

    func token(appid: String?, secret: String?, grantType: String?) throws(WeChatAPIError) -> TokenLedger.Grant {
        let now = self.elapsed()
        return try self.state.withLock { state throws(WeChatAPIError) in
            try state.token(appid: appid, secret: secret, grantType: grantType, at: now)
        }
    }

    func stableToken(
        appid: String?,
        secret: String?,
        grantType: String?,
        forceRefresh: Bool
    ) throws(WeChatAPIError) -> TokenLedger.Grant {
        let now = self.elapsed()
        return try self.state.withLock { state throws(WeChatAPIError) in
            try state.stableToken(
                appid: appid,
                secret: secret,
                grantType: grantType,
                forceRefresh: forceRefresh,
                at: now
            )
        }
    }

    func ticketOwner(token: String?) -> String? {
        let now = self.elapsed()
        return self.state.withLock { $0.owner(of: token, at: now) }
    }

    func ticket(token: String?, type: String?) throws(WeChatAPIError) -> TicketLedger.Grant {
        let now = self.elapsed()
        return try self.state.withLock { state throws(WeChatAPIError) in
            try state.ticket(token: token, type: type, at: now)
        }
    }

    func corpToken(corpid: String?, corpsecret: String?) throws(WeChatAPIError) -> TokenLedger.Grant {
        let now = self.elapsed()
        return try self.state.withLock { state throws(WeChatAPIError) in
            try state.corpToken(corpid: corpid, corpsecret: corpsecret, at: now)
        }
    }
}
