/// The value of one series in Prometheus text, e.g. `tokencentral_lock_total{app="wx1",outcome="lost"}`;
/// nil when the text has no such series.
func sampleValue(_ series: String, in text: String) -> Double? {
    let prefix = series + " "
    return text.split(separator: "\n").lazy
        .first { $0.hasPrefix(prefix) }
        .flatMap { Double($0.dropFirst(prefix.count)) }
}
