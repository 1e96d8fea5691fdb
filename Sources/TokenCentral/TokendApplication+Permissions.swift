import Logging
import RedisClient

extension TokendApplication {
    /// Checks that the Redis user may send every command a worker sends (see `RedisPermissionCheck`),
    /// with the keys of the first configured app (and of the first app's ticket, when any app keeps
    /// tickets); `tokend` calls it before `run()` and exits with 2 on
    /// the error, naming what is missing, instead of starting a worker that fails in the middle of its
    /// first token write.
    ///
    /// A Redis that cannot be asked (unreachable, authentication refused) does not stop the worker: it
    /// starts as before, keeps retrying, and says why in its log.
    public func checkRedisPermissions() async throws(RedisPermissionError) {
        guard let appid = configuration.apps.first?.appid else { return }
        let report: RedisPermissionCheck.Report
        do throws(RedisError) {
            var check = RedisPermissionCheck.tokend(keys: store.keys, appid: appid)
            if let app = configuration.apps.first(where: { !$0.tickets.isEmpty }), let ticket = app.tickets.first {
                check.probes += RedisPermissionCheck.tickets(keys: store.keys, appid: app.appid, ticket: ticket).probes
            }
            report = try await check.run(on: redis)
        } catch {
            logger.warning("Redis permissions not checked: cannot ask Redis now",
                           metadata: [LogKey.redisAddress: "\(redis.endpoint)", LogKey.error: "\(error)"])
            return
        }
        guard report.denials.isEmpty else {
            throw RedisPermissionError(program: "tokend", endpoint: redis.endpoint, denials: report.denials)
        }
        if let method = report.method {
            logger.debug("Redis permissions checked with \(method.rawValue)")
        } else {
            logger.warning("Redis permissions not checked: the user may run neither ACL DRYRUN nor MULTI",
                           metadata: [LogKey.redisAddress: "\(redis.endpoint)"])
        }
    }
}
