import Foundation

/// JSON for scripts and for the wire: snake_case keys in a stable order.
enum JSONOutput {
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    static func print(_ value: some Encodable) throws {
        Swift.print(String(decoding: try encode(value), as: UTF8.self))
    }
}
