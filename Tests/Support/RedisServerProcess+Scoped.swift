extension RedisServerProcess {
    /// Runs `body` against a fresh private server, stopped afterwards whether `body` succeeds or throws.
    public static func with<Result: Sendable>(_ body: (RedisServerProcess) async throws -> Result) async throws -> Result {
        let server = try RedisServerProcess()
        try await server.start()
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }
}
