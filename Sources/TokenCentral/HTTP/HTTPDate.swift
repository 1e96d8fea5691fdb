import Glibc

/// The `Date` header of the responses `CachedTokenReadHandler` writes itself (the router's get theirs
/// from Hummingbird): formatted once per second per connection.
struct HTTPDate {
    private var second = -1
    private(set) var value = ""

    /// The header for now, kept until the clock's second changes.
    mutating func current() -> String {
        let now = time(nil)
        if now != second {
            second = now
            value = Self.imfFixdate(secondsSince1970: now)
        }
        return value
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 section 5.6.7).
    static func imfFixdate(secondsSince1970 seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func twoDigits(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(twoDigits(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min)):\(twoDigits(parts.tm_sec)) GMT"
    }
}
