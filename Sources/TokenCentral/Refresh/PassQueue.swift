/// When each of many entries (apps, later tickets) runs its next pass: a min-heap of (due instant, entry)
/// with each entry's place in it, so waking an entry moves it up instead of adding a second copy.
///
/// A task and its own waits per app cost tens of kilobytes and a timer each: at 100,000 apps that is
/// gigabytes and constant timer churn. Here an entry is a heap slot and a byte of flags. An entry is in
/// the heap at most once and is never handed out while its previous pass runs: a wake during a pass
/// is remembered and makes it due again as that pass ends. Pure value logic; `PassScheduler` drives it.
struct PassQueue {
    typealias Instant = ContinuousClock.Instant

    private struct Slot {
        var due: Instant
        var entry: Int32
    }

    private var heap: [Slot] = []
    /// Each entry's index in `heap`, or `Self.running` while a runner holds it.
    private var positions: [Int32]
    /// Entries woken while their pass ran: due again the moment it ends.
    private var wokenWhileRunning: [Bool]

    private static let running: Int32 = -1

    /// `count` entries, all due by `now`: every entry runs a first pass at start, in order from entry
    /// `first` round the end (see `PassScheduler.firstEntry`).
    ///
    /// The order is made explicit in the due instants (the k-th entry from `first` is due `count - k`
    /// nanoseconds before `now`): a heap hands out equal instants in no particular order. The array is
    /// sorted by due instant, so it already is a valid heap.
    init(count: Int, now: Instant, first: Int = 0) {
        precondition(count < Int(Int32.max), "entries are indexed by Int32")
        let first = count > 0 ? first % count : 0
        heap = (0..<count).map { k in Slot(due: now - .nanoseconds(count - k), entry: Int32((first + k) % count)) }
        positions = Array(repeating: 0, count: count)
        for (position, slot) in heap.enumerated() { positions[Int(slot.entry)] = Int32(position) }
        wokenWhileRunning = Array(repeating: false, count: count)
    }

    var count: Int { positions.count }

    /// The earliest due instant of an entry waiting in the heap.
    var nextDue: Instant? { heap.first?.due }

    /// Hands out the earliest entry if it is due at `now`; it is then running until `finish`.
    mutating func takeDue(now: Instant) -> Int? {
        guard let first = heap.first, first.due <= now else { return nil }
        let entry = Int(first.entry)
        remove(at: 0)
        positions[entry] = Self.running
        return entry
    }

    /// Ends the pass of a running `entry`, due again at `next`, or at `now` if it was woken meanwhile.
    /// True when it became the heap's earliest entry (a timer waiting for a later one must look again).
    mutating func finish(_ entry: Int, next: Instant, now: Instant) -> Bool {
        precondition(positions[entry] == Self.running, "only a running entry finishes a pass")
        let due = wokenWhileRunning[entry] ? min(next, now) : next
        wokenWhileRunning[entry] = false
        heap.append(Slot(due: due, entry: Int32(entry)))
        positions[entry] = Int32(heap.count - 1)
        return siftUp(heap.count - 1) == 0
    }

    /// Makes `entry` due at `now` (never later than it already was); a running one runs again after its
    /// pass. True when it became the heap's earliest entry.
    mutating func wake(_ entry: Int, now: Instant) -> Bool {
        let position = Int(positions[entry])
        guard position != Int(Self.running) else {
            wokenWhileRunning[entry] = true
            return false
        }
        guard heap[position].due > now else { return false }
        heap[position].due = now
        return siftUp(position) == 0
    }

    /// Whether `entry`'s pass is running now (for tests and assertions).
    func isRunning(_ entry: Int) -> Bool { positions[entry] == Self.running }

    /// When `entry` is due, nil while it runs.
    func due(_ entry: Int) -> Instant? {
        let position = Int(positions[entry])
        return position == Int(Self.running) ? nil : heap[position].due
    }

    private mutating func remove(at position: Int) {
        let last = heap.count - 1
        if position != last { swapAt(position, last) }
        heap.removeLast()
        guard position < heap.count else { return }
        if siftUp(position) == position { siftDown(position) }
    }

    /// Moves the slot at `position` up while it is due before its parent; returns where it ended.
    @discardableResult
    private mutating func siftUp(_ position: Int) -> Int {
        var child = position
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].due < heap[parent].due else { break }
            swapAt(child, parent)
            child = parent
        }
        return child
    }

    private mutating func siftDown(_ position: Int) {
        var parent = position
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            let right = left + 1
            let earliest = right < heap.count && heap[right].due < heap[left].due ? right : left
            guard heap[earliest].due < heap[parent].due else { return }
            swapAt(parent, earliest)
            parent = earliest
        }
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        heap.swapAt(a, b)
        positions[Int(heap[a].entry)] = Int32(a)
        positions[Int(heap[b].entry)] = Int32(b)
    }
}
