import Logging
import RedisClient
import ServiceLifecycle

/// Asks Redis for its clock every `interval` and reports the result to `WorkerHealth`, so that readiness
/// and the outage log lines do not depend on traffic or on which apps happen to be due. `TIME`, not
/// `PING`: the workers' least-privilege ACL user (docs/redis-contract.md) may run `TIME` but not `PING`.
struct RedisProbe: Service, CustomStringConvertible {
    let redis: RedisClient
    let health: WorkerHealth
    let interval: Duration
    let logger: Logger

    /// ServiceGroup names each service by its description: the default one of this struct would print
    /// the client, the health state and the logger.
    var description: String { "RedisProbe(every \(interval))" }

    func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await check()
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }

    /// One `TIME` through the pool: a wrong password or database fails it as surely as an outage.
    func check() async {
        do {
            try await redis.send("TIME")
            health.redisAnswered(logger: logger)
        } catch {
            health.redisFailed(error, logger: logger)
        }
    }
}

extension TokendApplication {
    /// The probe feeding `refresher.health`, run as a service and by every `/readyz`.
    var redisProbe: RedisProbe {
        RedisProbe(redis: redis, health: refresher.health, interval: configuration.refresh.checkInterval, logger: logger)
    }
}
