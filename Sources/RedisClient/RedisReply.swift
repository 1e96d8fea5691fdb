/// A reply from Redis, copied out of hiredis into a Swift value.
///
/// Bulk strings are raw bytes (binary safe); use `string` for UTF-8 text.
public enum RedisReply: Sendable, Hashable {
    case status(String)
    case error(String)
    case integer(Int)
    case bulk([UInt8])
    case null
    case array([RedisReply])

    /// The reply as text: bulk strings and status replies; nil for everything else.
    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    public var bytes: [UInt8]? {
        if case .bulk(let bytes) = self { bytes } else { nil }
    }

    /// Integers, and bulk strings holding a decimal integer (as `HGET` returns them).
    public var integer: Int? {
        switch self {
        case .integer(let value): value
        case .bulk(let bytes): Int(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    public var array: [RedisReply]? {
        if case .array(let elements) = self { elements } else { nil }
    }

    public var isNull: Bool { self == .null }

    /// A flat `[name, value, name, value, ...]` array (as `HGETALL` returns it) as a dictionary of UTF-8 strings.
    public var hashFields: [String: String]? {
        guard let elements = array else { return nil }
        var fields: [String: String] = [:]
        for index in stride(from: 0, to: elements.count - 1, by: 2) {
            if let name = elements[index].string, let value = elements[index + 1].string { fields[name] = value }
        }
        return fields
    }
}
