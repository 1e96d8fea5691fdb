import Testing

@testable import TokenCentral

/// What each WeChat/WeCom errcode from a token endpoint means for the workers.
@Suite struct UpstreamErrorTests {
    private func classify(_ errcode: Int, errmsg: String = "message from WeChat") -> UpstreamError {
        UpstreamError.classify(errcode: errcode, errmsg: errmsg, appid: "wx1234567890abcdef", endpoint: "/cgi-bin/token")
    }

    @Test(arguments: [-1, 45011])
    func busyAndPerMinuteLimitAreTransient(errcode: Int) {
        #expect(self.classify(errcode).kind == .transient)
    }

    @Test(arguments: [12_345, 40_999, 1])
    func unknownErrcodeIsTransient(errcode: Int) {
        #expect(self.classify(errcode).kind == .transient)
    }

    @Test(arguments: [40013, 40125, 40001, 40164, 61004, 40243, 41002])
    func credentialWhitelistAndFrozenSecretErrorsAreConfigurationErrors(errcode: Int) {
        #expect(self.classify(errcode).kind == .configuration)
    }

    @Test(arguments: [
        (40013, "appid"),
        (40125, "secret"),
        (40001, "secret"),
        (40164, "whitelist"),
        (61004, "whitelist"),
        (40243, "frozen"),
        (41002, "missing"),
    ])
    func configurationErrorHintSaysWhatToFix(errcode: Int, fragment: String) {
        #expect(self.classify(errcode).hint.contains(fragment))
    }

    @Test(arguments: [89501, 89503, 89507])
    func riskControlBlocksForAnHour(errcode: Int) {
        #expect(self.classify(errcode).kind == .riskControl(blockedFor: .seconds(3600)))
    }

    @Test func refusedTwiceRiskControlBlocksForADay() {
        #expect(self.classify(89506).kind == .riskControl(blockedFor: .seconds(24 * 3600)))
    }

    @Test func dailyQuotaUsedUpIsQuotaExhausted() {
        #expect(self.classify(45009).kind == .quotaExhausted)
    }

    @Test func classifiedErrorKeepsErrcodeAndErrmsg() {
        let error = self.classify(40164, errmsg: "invalid ip 203.0.113.7, not in whitelist")
        #expect(error.errcode == 40164 && error.errmsg == "invalid ip 203.0.113.7, not in whitelist")
    }

    @Test(arguments: [(-1, "transient"), (40125, "configuration"), (89506, "risk_control"), (45009, "quota")])
    func kindLabelNamesTheKind(errcode: Int, label: String) {
        #expect(self.classify(errcode).kindLabel == label)
    }

    @Test func descriptionNamesAppEndpointErrcodeErrmsgAndHint() {
        let error = self.classify(40125, errmsg: "invalid appsecret")
        #expect(error.description == "wx1234567890abcdef /cgi-bin/token: errcode 40125: invalid appsecret (\(error.hint))")
    }

    @Test func descriptionWithoutErrcodeOmitsIt() {
        let error = UpstreamError(kind: .transient, appid: "wx1", endpoint: "/cgi-bin/token", errcode: nil, errmsg: "HTTP 502", hint: "retrying")
        #expect(error.description == "wx1 /cgi-bin/token: HTTP 502 (retrying)")
    }
}
