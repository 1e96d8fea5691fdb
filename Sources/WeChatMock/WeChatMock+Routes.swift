import Hummingbird
import Logging
import ServiceLifecycle

/// How long a `.hang` fault holds a call: far beyond any client timeout. Graceful shutdown cuts it short.
private let hangDuration = Duration.seconds(60)

extension WeChatMock {
    /// Registers WeChat's token endpoints, `getticket` and the validation endpoint, with WeChat's exact shapes.
    func addWeChatRoutes(to router: Router<BasicRequestContext>) {
        router.get("/cgi-bin/token") { request, context in
            let query = request.uri.queryParameters
            let appid = query.get("appid")
            return try await self.respond(to: .token, id: appid, logger: context.logger) { () throws(WeChatAPIError) in
                TokenBody(try self.token(appid: appid, secret: query.get("secret"), grantType: query.get("grant_type")))
            }
        }

        router.post("/cgi-bin/stable_token") { request, context in
            let body = try? await request.decode(as: StableTokenRequest.self, context: context)
            return try await self.respond(to: .stableToken, id: body?.appid, logger: context.logger) {
                () throws(WeChatAPIError) in
                guard let body else { throw .dataFormatError }
                return TokenBody(
                    try self.stableToken(
                        appid: body.appid,
                        secret: body.secret,
                        grantType: body.grantType,
                        forceRefresh: body.forceRefresh ?? false
                    )
                )
            }
        }

        router.get("/cgi-bin/gettoken") { request, context in
            let query = request.uri.queryParameters
            let corpid = query.get("corpid")
            return try await self.respond(to: .getToken, id: corpid, logger: context.logger) {
                () throws(WeChatAPIError) in
                OKBody(TokenBody(try self.corpToken(corpid: corpid, corpsecret: query.get("corpsecret"))))
            }
        }

        router.get("/cgi-bin/ticket/getticket") { request, context in
            let query = request.uri.queryParameters
            let token = query.get("access_token")
            return try await self.respond(to: .ticket, id: self.ticketOwner(token: token), logger: context.logger) {
                () throws(WeChatAPIError) in
                OKBody(TicketBody(try self.ticket(token: token, type: query.get("type"))))
            }
        }

        router.get("/cgi-bin/getcallbackip") { request, _ in
            guard let token = request.uri.queryParameters.get("access_token"), !token.isEmpty else {
                return try Response.json(WeChatAPIError.accessTokenMissing)
            }
            switch self.validate(token: token) {
            case .ok: return try Response.json(CallbackIPBody(ipList: ["127.0.0.1"]))
            case .superseded, .unknown: return try Response.json(WeChatAPIError.invalidAccessToken)
            case .expired: return try Response.json(WeChatAPIError.accessTokenExpired)
            }
        }
    }

    /// Counts the call, inflicts its fault if one is pending, otherwise answers with `answer`'s
    /// body or its WeChat error.
    private func respond(
        to endpoint: MockState.Endpoint,
        id: String?,
        logger: Logger,
        answer: () throws(WeChatAPIError) -> some Encodable
    ) async throws -> Response {
        if let fault = self.beginCall(to: endpoint, id: id) {
            logger.debug("Fault inflicted", metadata: ["app.id": "\(id ?? "")", "fault.kind": "\(fault.kind)"])
            switch fault {
            case .errcode(let errcode):
                return try Response.json(WeChatAPIError(faultCode: errcode))
            case .http500:
                return Response.html(
                    "<html><body><h1>500 Internal Server Error</h1></body></html>",
                    status: .internalServerError
                )
            case .garbage:
                return Response.html("<html><body>system busy</body></html>", status: .ok)
            case .hang:
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: hangDuration) }
                return Response.html("<html><body><h1>504 Gateway Time-out</h1></body></html>", status: .gatewayTimeout)
            case .latency(let delay):
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            }
        }
        switch Result(catching: answer) {
        case .success(let body):
            return try Response.json(body)
        case .failure(let error):
            logger.debug(
                "WeChat error answered",
                metadata: ["app.id": "\(id ?? "")", "wechat.errcode": "\(error.errcode)"]
            )
            return try Response.json(error)
        }
    }
}
