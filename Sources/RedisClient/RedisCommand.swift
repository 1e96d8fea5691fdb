/// One Redis command as an argument vector. Arguments are bytes, so values may hold NUL or any binary data.
public struct RedisCommand: Sendable, Hashable, CustomStringConvertible {
    public var arguments: [[UInt8]]

    public init(arguments: [[UInt8]]) {
        precondition(!arguments.isEmpty, "a Redis command needs at least its name")
        self.arguments = arguments
    }

    public init(_ name: String, _ arguments: any RedisArgument...) {
        self.init(name, arguments)
    }

    public init(_ name: String, _ arguments: [any RedisArgument]) {
        var vector: [[UInt8]] = [Array(name.utf8)]
        vector.reserveCapacity(arguments.count + 1)
        for argument in arguments { vector.append(argument.redisBytes) }
        self.arguments = vector
    }

    /// Appends the command in RESP, the form the server reads: `*N\r\n` then `$len\r\nbytes\r\n` per argument.
    func encode(into buffer: inout [UInt8]) {
        buffer.reserveCapacity(buffer.count + 16 + arguments.reduce(0) { $0 + $1.count + 16 })
        buffer.append(UInt8(ascii: "*"))
        buffer.append(contentsOf: String(arguments.count).utf8)
        buffer.append(contentsOf: [0x0d, 0x0a])
        for argument in arguments {
            buffer.append(UInt8(ascii: "$"))
            buffer.append(contentsOf: String(argument.count).utf8)
            buffer.append(contentsOf: [0x0d, 0x0a])
            buffer.append(contentsOf: argument)
            buffer.append(contentsOf: [0x0d, 0x0a])
        }
    }

    /// The command name only: arguments may be secrets (`AUTH`) or tokens, so they are never printed.
    public var description: String {
        String(decoding: arguments[0], as: UTF8.self).uppercased()
    }
}

/// A value that can be sent as a Redis command argument.
public protocol RedisArgument: Sendable {
    var redisBytes: [UInt8] { get }
}

extension String: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Substring: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Int: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}

extension Int64: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}

extension Array: RedisArgument where Element == UInt8 {
    public var redisBytes: [UInt8] { self }
}
