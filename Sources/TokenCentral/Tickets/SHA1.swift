/// SHA-1 (FIPS 180-4), only because WeChat's JS-SDK signature is defined over it.
///
/// Foundation on Linux has no digest API and swift-crypto is not a dependency; this is the one hash
/// the project needs, so a compact implementation (tested against the FIPS vectors) costs less than a
/// package. Not for anything security-critical of our own: SHA-1 is broken for collisions.
enum SHA1 {
    /// The 20-byte digest of `message` as 40 lower-case hex digits.
    static func hexDigest(_ message: some Collection<UInt8>) -> String {
        self.digest(message).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The 20-byte digest of `message`.
    static func digest(_ message: some Collection<UInt8>) -> [UInt8] {
        var state: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
        var padded = Array(message)
        let bitLength = UInt64(padded.count) &* 8
        padded.append(0x80)
        while padded.count % 64 != 56 {
            padded.append(0)
        }
        padded.append(contentsOf: (0..<8).reversed().map { UInt8(truncatingIfNeeded: bitLength >> ($0 * 8)) })
        for blockStart in stride(from: 0, to: padded.count, by: 64) {
            self.compress(padded[blockStart..<blockStart + 64], into: &state)
        }
        return state.flatMap { word in (0..<4).reversed().map { UInt8(truncatingIfNeeded: word >> ($0 * 8)) } }
    }

    /// Folds one 64-byte block into `state`: the 80 rounds of FIPS 180-4 §6.1.2.
    private static func compress(_ block: ArraySlice<UInt8>, into state: inout [UInt32]) {
        var words = [UInt32](repeating: 0, count: 80)
        for index in 0..<16 {
            let offset = block.startIndex + index * 4
            words[index] = block[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
        for index in 16..<80 {
            words[index] = rotateLeft(words[index - 3] ^ words[index - 8] ^ words[index - 14] ^ words[index - 16], by: 1)
        }
        var (a, b, c, d, e) = (state[0], state[1], state[2], state[3], state[4])
        for index in 0..<80 {
            let (f, k): (UInt32, UInt32) =
                switch index {
                case 0..<20: ((b & c) | (~b & d), 0x5A82_7999)
                case 20..<40: (b ^ c ^ d, 0x6ED9_EBA1)
                case 40..<60: ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
                default: (b ^ c ^ d, 0xCA62_C1D6)
                }
            let temp = rotateLeft(a, by: 5) &+ f &+ e &+ k &+ words[index]
            (e, d, c, b, a) = (d, c, rotateLeft(b, by: 30), a, temp)
        }
        state[0] &+= a
        state[1] &+= b
        state[2] &+= c
        state[3] &+= d
        state[4] &+= e
    }

    private static func rotateLeft(_ value: UInt32, by count: UInt32) -> UInt32 {
        value << count | value >> (32 - count)
    }
}
