import Hummingbird
import Logging

/// Gives every error the API's JSON shape, including those raised by Hummingbird itself (no such
/// route, body too large) and unexpected ones, so clients parse one format whatever went wrong.
///
/// Unexpected errors are answered with a generic message: their text is logged, never sent.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as any HTTPResponseError {
            throw Self.apiError(status: error.status)
        } catch {
            context.logger.info("request failed", metadata: [LogKey.error: "\(error)"])
            throw APIError(.internalError, "the request could not be completed")
        }
    }

    private static func apiError(status: HTTPResponse.Status) -> APIError {
        switch status {
        case .notFound: APIError(.notFound, "no such endpoint")
        case .contentTooLarge: APIError(.payloadTooLarge, "the request body is too large")
        case let status where status.kind == .clientError: APIError(.badRequest, status.reasonPhrase)
        default: APIError(.internalError, "the request could not be completed")
        }
    }
}
