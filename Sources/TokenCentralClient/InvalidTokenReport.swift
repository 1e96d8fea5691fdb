import Foundation

/// A request to replace a token WeChat rejected, as published on `P:refresh`:
/// `{"appid":"...","bad_token":"..."}`. With `bad_token` the workers refresh only while that token is
/// still current, so any number of identical reports cause one upstream call.
struct InvalidTokenReport: Encodable {
    var appid: String
    var badToken: String

    enum CodingKeys: String, CodingKey {
        case appid, badToken = "bad_token"
    }

    var json: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Two strings always encode; JSONEncoder fails only on non-finite floats and invalid top levels.
        return Array(try! encoder.encode(self))
    }
}
