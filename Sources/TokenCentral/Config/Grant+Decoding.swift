extension Grant {
    /// Decodes the raw value, naming the valid ones when it is none of them: `grant: stable-token` fails
    /// with the three spellings instead of a bare "invalid value".
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let grant = Grant(rawValue: text) else {
            let valid = Grant.allCases.map(\.rawValue).joined(separator: ", ")
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a grant; expected one of \(valid)")
        }
        self = grant
    }
}
