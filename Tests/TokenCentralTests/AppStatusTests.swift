import Testing

@testable import TokenCentral

/// Parsing `P:{APPID}:meta` as `HGETALL` returns it.
@Suite struct AppStatusTests {
    /// A complete meta hash as the token write script stores it.
    private let complete: [String: String] = [
        "token": "ACCESS_TOKEN",
        "expires_at": "1714528800000",
        "fetched_at": "1714521600000",
        "generation": "12",
        "worker": "host-a-4242",
        "grant": "stable_token",
        "expires_in": "7200",
        "issued_min": "1714521599900",
        "issued_max": "1714521600000",
    ]

    @Test func completeHashYieldsTheRecord() {
        let expected = TokenRecord(
            token: "ACCESS_TOKEN", expiresAt: 1_714_528_800_000, fetchedAt: 1_714_521_600_000, generation: 12,
            worker: "host-a-4242", grant: .stableToken, lifetime: 7_200_000, issuedMin: 1_714_521_599_900,
            issuedMax: 1_714_521_600_000)
        #expect(AppStatus(fields: self.complete).record == expected)
    }

    @Test func expiresInSecondsBecomesALifetimeInMilliseconds() {
        var fields = self.complete
        fields["expires_in"] = "8"
        #expect(AppStatus(fields: fields).record?.lifetime == 8_000)
    }

    @Test(arguments: ["token", "expires_at", "generation"])
    func hashWithoutARequiredFieldHasNoRecord(missing: String) {
        var fields = self.complete
        fields[missing] = nil
        #expect(AppStatus(fields: fields).record == nil)
    }

    @Test(arguments: ["expires_at", "generation"])
    func hashWithANonNumericRequiredFieldHasNoRecord(field: String) {
        var fields = self.complete
        fields[field] = "soon"
        #expect(AppStatus(fields: fields).record == nil)
    }

    @Test func optionalRecordFieldsDefaultWhenAbsent() {
        let record = AppStatus(fields: ["token": "T", "expires_at": "100", "generation": "1"]).record
        #expect(record == TokenRecord(
            token: "T", expiresAt: 100, fetchedAt: 0, generation: 1, worker: "", grant: nil, lifetime: 0, issuedMin: 0, issuedMax: 0))
    }

    @Test func unknownGrantIsNil() {
        var fields = self.complete
        fields["grant"] = "client_credential"
        #expect(AppStatus(fields: fields).record?.grant == nil)
    }

    @Test func emptyHashIsAnAppWithoutTokenOrFailures() {
        #expect(AppStatus(fields: [:]) == AppStatus())
    }

    @Test func failureFieldsAreReadWithoutAToken() {
        let status = AppStatus(fields: [
            "error": "errcode 40164: invalid ip", "errcode": "40164", "error_at": "1714521600000",
            "retry_at": "1714521900000", "failures": "3",
        ])
        #expect(status == AppStatus(
            record: nil, lastError: "errcode 40164: invalid ip", lastErrcode: 40164, lastErrorAt: 1_714_521_600_000,
            retryAt: 1_714_521_900_000, failures: 3))
    }

    @Test func emptyErrcodeIsNil() {
        // recordFailure stores "" for failures without an errcode (HTTP 500, timeouts).
        #expect(AppStatus(fields: ["error": "HTTP 500", "errcode": ""]).lastErrcode == nil)
    }

    @Test func refreshRequestedIsReadAlongsideTheRecord() {
        var fields = self.complete
        fields["refresh_requested"] = "issue-order-unknown"
        let status = AppStatus(fields: fields)
        #expect(status.refreshRequested == "issue-order-unknown" && status.record != nil)
    }
}
