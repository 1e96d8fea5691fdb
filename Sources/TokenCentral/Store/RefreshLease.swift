/// Proof that this worker holds the refresh lease of one app: `P:{APPID}:lock` holds `value`.
///
/// Only the owner extends or releases it (Lua compare-and-pexpire / compare-and-delete). The lease
/// limits upstream calls to one worker at a time; correctness of what ends up in Redis does not rest
/// on it (see `TokenStore.writeScript`), because a paused owner can outlive its lease.
public struct RefreshLease: Sendable, Hashable {
    public var appid: String
    public var key: String
    /// `WORKERID:NONCE`, unique per acquisition.
    public var value: String
    public var ttl: Duration
}
