/// Renders status rows as a plain-text table for people; scripts use `status --json`.
enum StatusTable {
    /// Longest last-error text shown; the full message is in `status --json` and the meta hash.
    static let errorWidth = 60

    static func render(_ rows: [StatusRow]) -> String {
        let header = ["APP", "GRANT", "GEN", "EXPIRES IN", "FETCHED BY", "FORCED", "LAST ERROR"]
        let lines = [header] + rows.map { row in
            [
                row.appid,
                row.grant ?? "-",
                row.generation.map(String.init) ?? "-",
                row.expiresIn.map { "\($0)s" } ?? "no token",
                row.worker ?? "-",
                row.forcedSummary,
                truncated(row.lastError.map { error in row.errcode.map { "[\($0)] \(error)" } ?? error } ?? ""),
            ]
        }
        let widths = header.indices.map { column in lines.map { $0[column].count }.max() ?? 0 }
        return lines.map { cells in
            zip(cells, widths).map { cell, width in cell.padding(toLength: width) }
                .joined(separator: "  ")
                .trimmingSuffix()
        }.joined(separator: "\n") + "\n"
    }

    static func truncated(_ text: String) -> String {
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count <= errorWidth ? flat : flat.prefix(errorWidth - 1) + "…"
    }
}

extension String {
    fileprivate func padding(toLength width: Int) -> String {
        self + String(repeating: " ", count: max(0, width - count))
    }

    fileprivate func trimmingSuffix() -> String {
        String(self[..<(lastIndex { $0 != " " }.map(index(after:)) ?? startIndex)])
    }
}
