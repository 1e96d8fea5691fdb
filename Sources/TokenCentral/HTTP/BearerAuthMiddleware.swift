import Hummingbird
import Logging

/// Guards `/v1/*` when `http.api_key` is set: a request must carry `Authorization: Bearer <key>`.
///
/// The key is compared in constant time (lengths first, then every byte, without stopping at the first
/// difference: `Secret.isPresented(inAuthorization:)`), so response timing does not tell a caller how
/// much of a guess was right.
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let apiKey: Secret

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard apiKey.isPresented(inAuthorization: request.headers[.authorization]) else {
            context.logger.debug("rejected a request without the right bearer key")
            throw APIError(.unauthorized, "send the API key as Authorization: Bearer <key>")
        }
        return try await next(request, context)
    }
}

extension Secret {
    /// Whether `header` is `Bearer <this secret>`; the scheme is case-insensitive (RFC 7235).
    func isPresented(inAuthorization header: String?) -> Bool {
        guard let presented = Self.bearerCredential(header) else { return false }
        return Self.constantTimeEquals(presented.utf8, value.utf8)
    }

    /// The credential of a `Bearer` authorization header.
    static func bearerCredential(_ header: String?) -> Substring? {
        guard let header else { return nil }
        let scheme = "bearer "
        guard header.count > scheme.count, header.prefix(scheme.count).lowercased() == scheme else { return nil }
        return header.dropFirst(scheme.count)
    }

    /// Compares every byte even after a mismatch; only the length may leak.
    static func constantTimeEquals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
        return difference == 0
    }
}
