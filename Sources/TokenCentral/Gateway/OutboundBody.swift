import AsyncHTTPClient
import Hummingbird
import NIOCore

/// A forwarded call's request body: kept in memory when small (so the call can be retried with a new
/// token), else streamed through with its size bounded, so a media upload never sits in memory whole.
enum OutboundBody: Sendable {
    case none
    case kept(ByteBuffer)
    case streamed(LimitedBody, length: Int?)

    /// Why a body is not forwarded.
    struct Refusal: Error {
        var status: HTTPResponse.Status
        var detail: String
    }

    static func from(_ request: Request, limit: Int) async -> Result<OutboundBody, Refusal> {
        let length = request.headers[.contentLength].flatMap { Int($0) }
        let chunked = request.headers[.transferEncoding] != nil
        if let length, length > limit {
            return .failure(Refusal(status: .contentTooLarge, detail: "the request body is larger than \(limit) bytes"))
        }
        guard let length, length <= TokenGateway.replayableBodySize else {
            if length == nil, !chunked { return .success(.none) }
            return .success(.streamed(LimitedBody(base: request.body, limit: limit), length: length))
        }
        if length == 0 { return .success(.none) }
        do {
            return .success(.kept(try await request.body.collect(upTo: length)))
        } catch {
            return .failure(Refusal(status: .badRequest, detail: "the request body could not be read"))
        }
    }

    var isReplayable: Bool {
        switch self {
        case .none, .kept: true
        case .streamed: false
        }
    }

    var clientBody: HTTPClientRequest.Body? {
        switch self {
        case .none: nil
        case .kept(let buffer): .bytes(buffer)
        case .streamed(let body, let length): .stream(body, length: length.map { .known(Int64($0)) } ?? .unknown)
        }
    }
}

/// A request body that fails once more than `limit` bytes came, for bodies of unknown length.
struct LimitedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    struct TooLarge: Error {}

    let base: RequestBody
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let limit: Int
        var seen = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            seen += buffer.readableBytes
            guard seen <= limit else { throw TooLarge() }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limit: limit)
    }
}
