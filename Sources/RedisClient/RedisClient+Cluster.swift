extension RedisClient {
    /// Opens a connection now, so that a server this client refuses (a Redis Cluster node) stops a
    /// program at startup with the reason, instead of failing each command later. A Redis that is
    /// down or refuses the command is no reason to stop: callers retry as usual.
    public func refuseUnsupportedServer() async throws(RedisError) {
        do {
            try await send("PING")
        } catch where error.code == .unsupportedServer {
            throw error
        } catch {
            return
        }
    }
}
