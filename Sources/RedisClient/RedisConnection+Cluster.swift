extension RedisConnection {
    /// Refuses a Redis Cluster node. tokend, tokenctl and the client library talk to one node and do not
    /// follow `MOVED`/`ASK` redirections: against a cluster, commands for keys in other slots would fail
    /// one by one, long after startup, as errors that read like an outage. A connection asks the node
    /// once, when it opens, and fails with the alternatives instead.
    ///
    /// It asks with `HELLO 2` (RESP2 kept), whose reply names the server's `mode`: every user may run
    /// `HELLO` whatever its ACL, so the least-privilege users neither fail nor fill `ACL LOG` (as `INFO`
    /// would). A server before Redis 6 has no `HELLO` and no reason to be refused; a cluster node that
    /// somehow answers otherwise still gets named by the `MOVED` check in `RedisError(reply:)`.
    func refuseClusterMode() throws(RedisError) {
        let reply = try roundTrip([RedisCommand("HELLO", "2")])[0]
        guard reply.hashFields?["mode"] == "cluster" else { return }
        throw RedisError.clusterMode(endpoint: endpoint.description)
    }
}

extension RedisError {
    /// Redis Cluster is not supported: the message names the endpoint and what to use instead.
    static func clusterMode(endpoint: String) -> RedisError {
        RedisError(
            .unsupportedServer,
            "this is a Redis Cluster node (HELLO: mode cluster), and TokenCentral talks to a single primary: it does not "
                + "follow MOVED/ASK redirections. Point it at a standalone primary (with Sentinel for failover), or at a "
                + "cluster proxy that presents the cluster as one node; see docs/redis-contract.md",
            endpoint: endpoint
        )
    }

    /// The error for an error reply: a redirection (`MOVED`, `ASK`) or `CLUSTERDOWN` means a cluster
    /// node answered, which `clusterMode` explains; any other reply is a `.server` error.
    public init(reply message: String, endpoint: String) {
        let prefix = message.prefix { $0 != " " }
        if ["MOVED", "ASK", "CLUSTERDOWN"].contains(prefix) {
            self = .clusterMode(endpoint: endpoint)
            self.message += " (the server replied: \(message))"
        } else {
            self.init(.server, message, endpoint: endpoint)
        }
    }
}
