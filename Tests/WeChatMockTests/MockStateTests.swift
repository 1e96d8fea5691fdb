import Testing

@testable import WeChatMock

/// The endpoint rules on plain instants: no server, no clock.
@Suite struct MockStateTests {
    private static func state() -> MockState {
        MockState(
            configuration: WeChatMockConfiguration(
                dailyQuota: 3,
                quotaWindow: .seconds(1000),
                stableForceRefreshDailyLimit: 1,
                apps: ["wx1": "s1"]
            )
        )
    }

    @Test func stableNormalModeReturnsTheCurrentToken() throws {
        var state = Self.state()
        let first = try state.stable(at: 0)
        let again = try state.stable(at: 60)
        #expect(again == TokenLedger.Grant(token: first.token, expiresIn: 7140))
    }

    @Test func stableNormalModeIssuesAfterExpiry() throws {
        var state = Self.state()
        let first = try state.stable(at: 0)
        let next = try state.stable(at: 7200)
        #expect(next.token != first.token)
    }

    @Test func stableForceRefreshIssuesAndKeepsTheOldTokenForTheOverlap() throws {
        var state = Self.state()
        let first = try state.stable(at: 0)
        let forced = try state.stable(forceRefresh: true, at: 10)
        let duringOverlap = state.validate(first.token, at: .seconds(309))
        let afterOverlap = state.validate(first.token, at: .seconds(310))
        #expect(forced.token != first.token)
        #expect(duringOverlap == .ok)
        #expect(afterOverlap == .superseded)
    }

    @Test func stableForceRefreshIsLimitedPerWindow() throws {
        var state = Self.state()
        _ = try state.stable(forceRefresh: true, at: 0)
        let secondForce = Result { () throws(WeChatAPIError) in try state.stable(forceRefresh: true, at: 1) }
        let nextWindow = try state.stable(forceRefresh: true, at: 1000)
        #expect(secondForce.failure == .quotaExceeded)
        #expect(nextWindow.expiresIn == 7200)
    }

    @Test func tokenCallsDoNotSupersedeStableTokens() throws {
        var state = Self.state()
        let stable = try state.stable(at: 0)
        _ = try state.token(secret: "s1")
        _ = try state.token(secret: "s1")
        let result = state.validate(stable.token, at: .seconds(301))
        #expect(result == .ok)
    }

    @Test func onlySuccessfulTokenCallsUseQuota() throws {
        var state = Self.state()
        for _ in 0..<5 {
            _ = try? state.token(secret: "wrong")
        }
        for _ in 0..<3 {
            _ = try state.token(secret: "s1")
        }
        let overQuota = Result { () throws(WeChatAPIError) in try state.token(secret: "s1") }
        #expect(overQuota.failure == .quotaExceeded)
    }

    @Test func emptyParametersCountAsMissing() {
        var state = Self.state()
        let result = Result { () throws(WeChatAPIError) in
            try state.token(appid: "", secret: "s1", grantType: "client_credential", at: .zero)
        }
        #expect(result.failure == .appidMissing)
    }

    @Test func resetForgetsTokensAndCounters() throws {
        var state = Self.state()
        _ = state.beginCall(to: .token, id: "wx1")
        let grant = try state.token(secret: "s1")
        state.reset()
        let result = state.validate(grant.token, at: .zero)
        #expect(result == .unknown)
        #expect(state.stats(for: "wx1") == AppStats())
    }

    @Test func tokensStayUniqueAcrossReset() throws {
        var state = Self.state()
        let before = try state.stable(at: 0)
        state.reset()
        let after = try state.stable(at: 0)
        #expect(after.token != before.token)
    }
}

extension MockState {
    fileprivate mutating func stable(
        forceRefresh: Bool = false,
        at seconds: Int
    ) throws(WeChatAPIError) -> TokenLedger.Grant {
        try self.stableToken(
            appid: "wx1",
            secret: "s1",
            grantType: "client_credential",
            forceRefresh: forceRefresh,
            at: .seconds(seconds)
        )
    }

    fileprivate mutating func token(secret: String) throws(WeChatAPIError) -> TokenLedger.Grant {
        try self.token(appid: "wx1", secret: secret, grantType: "client_credential", at: .zero)
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }
}
