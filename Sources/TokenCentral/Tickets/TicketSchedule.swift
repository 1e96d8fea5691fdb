/// When a ticket is due. Pure: plain values in, a decision out, on the Redis clock.
///
/// A ticket is kept by the token's rules (`RefreshSchedule`: `retry_at`, missing, expired, forced,
/// refresh ahead of expiry), with one difference that comes from how `getticket` answers: it hands out
/// the same ticket for as long as it lives. Asking ahead of expiry is still right the first time (an
/// upstream that renews early, as some do in a ticket's last minutes, is then used), but once upstream
/// answered the stored ticket again ahead of its expiry (`renews_at_expiry`), asking ahead would only
/// spend a call of the ticket's small quota on the same answer every lifetime: later tickets are asked
/// for when upstream has certainly retired the stored one, one call per lifetime.
public struct TicketSchedule: Sendable, Hashable {
    public var schedule: RefreshSchedule

    public init(schedule: RefreshSchedule) {
        self.schedule = schedule
    }

    /// - Parameter subject: spreads refreshes as `RefreshSchedule.jitterMillis` does, per app and type.
    public func decide(_ status: AppStatus, subject: String, nowMillis now: Int64) -> RefreshDecision {
        let decision = schedule.decide(status, appid: subject, nowMillis: now)
        guard status.renewsAtExpiry, let record = status.record,
            decision == .refresh(.due) || decision == .refresh(.expired)
        else { return decision }
        // The stored expiry counts from just before the call that first saw the ticket (the key goes then);
        // upstream issued it by the end of that call, so it certainly retires it one window later.
        let retired = record.issuedMax + record.lifetime + 1
        return now < retired ? .wait(untilMillis: retired) : decision
    }
}
