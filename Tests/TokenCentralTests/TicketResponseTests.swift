import Testing

@testable import TokenCentral

/// Parsing `getticket`'s answers: the ticket, and the errcodes that reject the token it carried.
@Suite struct TicketResponseTests {
    private func parse(_ body: String) -> Result<FetchedToken, UpstreamError> {
        TokenResponse.parse(status: 200, body: Array(body.utf8), appid: "wx1", endpoint: WeChatUpstream.ticketEndpoint, field: .ticket)
    }

    @Test func ticketAnswerWithErrcodeZeroYieldsTheTicket() throws {
        let fetched = try parse(#"{"errcode":0,"errmsg":"ok","ticket":"TICKET","expires_in":7200}"#).get()
        #expect(fetched == FetchedToken(token: "TICKET", expiresIn: .seconds(7200)))
    }

    @Test func answerWithoutATicketIsTransient() {
        guard case .failure(let error) = parse(#"{"errcode":0,"errmsg":"ok","access_token":"T","expires_in":7200}"#) else {
            Issue.record("expected a failure"); return
        }
        #expect(error.kind == .transient && error.errmsg.contains("ticket"))
    }

    @Test(arguments: [40001, 40014, 42001]) func invalidOrExpiredTokenRejectsTheToken(errcode: Int) {
        guard case .failure(let error) = parse(#"{"errcode":\#(errcode),"errmsg":"invalid credential"}"#) else {
            Issue.record("expected a failure"); return
        }
        #expect(error.rejectsToken)
    }

    @Test func quotaRefusalDoesNotRejectTheToken() {
        guard case .failure(let error) = parse(#"{"errcode":45009,"errmsg":"reach max api daily quota limit"}"#) else {
            Issue.record("expected a failure"); return
        }
        #expect(!error.rejectsToken && error.kind == .quotaExhausted)
    }
}
