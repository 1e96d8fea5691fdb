import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/apps/{appid}/access_token`'s body (`AccessTokenBody`'s shape), encoded once per read of
/// Redis rather than once per request: between two reads only `expires_in` changes, so a request
/// appends its digits to the bytes kept here instead of running a JSON encoder.
struct EncodedAccessToken: Sendable {
    /// `{"access_token":"...","expires_in":`
    private let head: [UInt8]

    init(token: String) {
        var head = Array(#"{"access_token":""#.utf8)
        head.reserveCapacity(head.count + token.utf8.count + 16)
        Self.appendEscaped(token, to: &head)
        head += Array(#"","expires_in":"#.utf8)
        self.head = head
    }

    /// The response: the kept bytes, `expiresIn` and the closing brace, in one buffer.
    func response(expiresIn: Int) -> Response {
        let parts = parts(expiresIn: expiresIn)
        return Response(status: parts.head.status, headers: parts.head.headerFields, body: ResponseBody(byteBuffer: parts.body))
    }

    /// The response's head and body as the event loop writes them.
    func parts(expiresIn: Int) -> (head: HTTPResponse, body: ByteBuffer) {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(head.count + 21)
        buffer.writeBytes(head)
        buffer.writeString(String(expiresIn))
        buffer.writeInteger(UInt8(ascii: "}"))
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.contentLength] = String(buffer.readableBytes)
        return (HTTPResponse(status: .ok, headerFields: headers), buffer)
    }

    /// JSON string escaping (RFC 8259 section 7). WeChat's tokens need none, but a token is upstream
    /// data, so it cannot break the body whatever it holds.
    private static func appendEscaped(_ text: String, to bytes: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes += [UInt8(ascii: "\\"), byte]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += Array(#"\u00"#.utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default:
                bytes.append(byte)
            }
        }
    }
}
