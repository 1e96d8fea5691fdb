import Foundation
import Testing

@testable import TokenCentral

/// Forced ticket refreshes on `P:refresh`: `{"appid":...,"ticket":"jsapi","bad_ticket":...}`.
@Suite struct TicketRefreshMessageTests {
    private func parse(_ payload: String) -> Result<RefreshMessage, RefreshMessage.ParseError> {
        RefreshMessage.parse(Array(payload.utf8))
    }

    @Test func ticketFieldNamesTheTicketAndTheBadOne() {
        #expect(parse(#"{"appid":"wx1","ticket":"wx_card","bad_ticket":"OLD"}"#)
            == .success(RefreshMessage(appid: "wx1", ticket: .wxCard, badTicket: "OLD")))
    }

    @Test func unknownTicketTypeIsMalformedNotATokenRequest() {
        #expect(parse(#"{"appid":"wx1","ticket":"jsapi2"}"#) == .failure(.malformed))
    }

    @Test func ticketRequestWithBadTokenIsMalformed() {
        #expect(parse(#"{"appid":"wx1","ticket":"jsapi","bad_token":"T"}"#) == .failure(.malformed))
    }

    @Test func tokenRequestPayloadIsUnchangedByTheTicketFields() {
        let fields = try? JSONSerialization.jsonObject(with: Data(RefreshMessage(appid: "wx1", badToken: "T").payload)) as? [String: String]
        #expect(fields == ["appid": "wx1", "bad_token": "T"])
    }

    @Test func ticketRequestPayloadRoundTrips() {
        let message = RefreshMessage(appid: "wx1", ticket: .jsapi, badTicket: "OLD")
        #expect(RefreshMessage.parse(message.payload) == .success(message))
    }
}
