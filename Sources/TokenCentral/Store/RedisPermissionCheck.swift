import RedisClient

/// Checks, before a program starts work, that its Redis user may send every command it is going to send.
///
/// Without it a user missing one permission fails half-way through: a worker whose user lacks
/// `&P:refreshed` stores the token, then the write script's `PUBLISH` is refused, the script stops after
/// its writes and the worker reports the error as Redis trouble, retrying until its refresh-ahead margin
/// is gone. With the check the program refuses to start and names the command, key or channel.
///
/// Nothing is run. Two ways to ask, the first that works:
/// - `ACL DRYRUN <user> <command> <args...>` (Redis 7), when the user may run it (an admin user does);
/// - each command queued in a `MULTI` that is then `DISCARD`ed: Redis checks a command's ACL (command,
///   keys, channels) when it queues it and answers `NOPERM` if denied, and a discarded transaction never
///   runs. This works on Redis 6 and for users without `ACL` rights, and needs only `MULTI` and `DISCARD`.
/// A user allowed neither is not checked (`Report.method == nil`); its missing permissions then show as
/// `NOPERM` errors when the commands run.
///
/// Scripts are checked too: Redis applies the user's ACL to every `redis.call` a script makes, and
/// neither way above looks inside a script, so the probes list the commands the scripts send as well.
public struct RedisPermissionCheck: Sendable {
    /// One command shape to check: the command with representative arguments (a real key of the
    /// deployment, placeholder values), and how to show it in an error.
    public struct Probe: Sendable, Hashable {
        public var arguments: [String]
        /// The command as a person reads it, e.g. `EVALSHA <sha1> 1 wechat:{wx1}:lock`.
        public var shown: String

        public init(_ arguments: [String], shown: String? = nil) {
            self.arguments = arguments
            self.shown = shown ?? arguments.joined(separator: " ")
        }

        /// `EVALSHA` of a script with these keys; the SHA1 is a placeholder, as the script is not run.
        public static func evalsha(keys: [String], arguments: [String] = []) -> Probe {
            let tail = ["\(keys.count)"] + keys + arguments
            return Probe(["EVALSHA", String(repeating: "0", count: 40)] + tail, shown: (["EVALSHA", "<sha1>"] + tail).joined(separator: " "))
        }
    }

    /// A probe the user may not run, with Redis's reason (which names the command, key or channel).
    public struct Denial: Sendable, Hashable, CustomStringConvertible {
        public var probe: Probe
        public var reason: String

        public var description: String { "\(probe.shown): \(reason)" }
    }

    /// How the permissions were checked.
    public enum Method: String, Sendable, Hashable {
        case aclDryRun = "ACL DRYRUN"
        case discardedTransaction = "MULTI/DISCARD"
    }

    public struct Report: Sendable, Hashable {
        /// Nil when the user may run neither `ACL DRYRUN` nor `MULTI`: nothing was checked.
        public var method: Method?
        public var denials: [Denial]
    }

    public var probes: [Probe]

    public init(probes: [Probe]) {
        self.probes = probes
    }

    /// Asks Redis which probes the client's user may not run. Throws only when Redis cannot be asked
    /// (unreachable, timeout).
    public func run(on redis: RedisClient) async throws(RedisError) -> Report {
        let user = redis.endpoint.username ?? "default"
        let dryRuns = try await redis.pipeline(probes.map { RedisCommand("ACL", ["DRYRUN", user] + $0.arguments) })
        if dryRuns.allSatisfy({ if case .error = $0 { false } else { true } }) {
            // An allowed command answers `OK`; a denied one a text such as "This user has no permissions
            // to access the 'wechat:refreshed' channel".
            let denials = zip(probes, dryRuns).compactMap { probe, reply in
                reply == .status("OK") ? nil : Denial(probe: probe, reason: reply.string ?? "\(reply)")
            }
            return Report(method: .aclDryRun, denials: denials)
        }
        // First make sure MULTI itself is allowed: were it refused, the probes after it would run for real.
        guard try await redis.pipeline([RedisCommand("MULTI"), RedisCommand("DISCARD")])[0] == .status("OK") else {
            return Report(method: nil, denials: [])
        }
        let queued = try await redis.pipeline(
            [RedisCommand("MULTI")] + probes.map { RedisCommand($0.arguments[0], Array($0.arguments.dropFirst())) } + [RedisCommand("DISCARD")])
        // Only NOPERM counts: other refusals at queue time (OOM, READONLY) are not about permissions.
        let denials = zip(probes, queued.dropFirst()).compactMap { probe, reply -> Denial? in
            guard case .error(let message) = reply, message.hasPrefix("NOPERM") else { return nil }
            return Denial(probe: probe, reason: message)
        }
        return Report(method: .discardedTransaction, denials: denials)
    }
}

/// The Redis user lacks permissions the program needs: which user, which commands, keys or channels.
public struct RedisPermissionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var program: String
    public var user: String
    /// The redacted endpoint (no password).
    public var endpoint: String
    public var denials: [RedisPermissionCheck.Denial]

    public init(program: String, endpoint: RedisEndpoint, denials: [RedisPermissionCheck.Denial]) {
        self.program = program
        self.user = endpoint.username ?? "default"
        self.endpoint = endpoint.description
        self.denials = denials
    }

    public var description: String {
        let lines = denials.map { "  \($0)" }.joined(separator: "\n")
        return """
            Redis user '\(user)' at \(endpoint) lacks permissions \(program) needs:
            \(lines)
            Grant them with the ACL SETUSER line for \(program) in docs/redis-contract.md ("Redis users").
            """
    }
}
