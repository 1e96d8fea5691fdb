import Hummingbird

extension TokendApplication {
    /// The worker's routes: the API of `TokenAPI`, WeChat's own token endpoints, and, when enabled,
    /// the gateway's forwarded paths.
    func buildRouter() -> Router<BasicRequestContext> {
        let router = TokenAPI(self).buildRouter()
        WeChatCompatibleAPI(self).addRoutes(to: router)
        gateway?.addRoutes(to: router)
        return router
    }
}
