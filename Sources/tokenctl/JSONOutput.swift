import Foundation

/// JSON for scripts and for the wire: snake_case keys in a stable order.
enum JSONOutput {
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// One line of JSON, written at once (unbuffered): `watch --json` feeds a pipe line by line.
    static func print(_ value: some Encodable) throws {
        FileHandle.standardOutput.write(Data(try encode(value) + [UInt8(ascii: "\n")]))
    }
}
