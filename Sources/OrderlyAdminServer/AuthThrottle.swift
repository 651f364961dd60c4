import NIOCore
import Synchronization

/// Failed AUTHs counted per principal name and per peer address, across every connection of a server.
///
/// The per-connection limit (close after three failures) costs a guesser only a reconnect. Here,
/// after `freeFailures` failures for a name or an address, each further attempt for it must wait a
/// delay that doubles with every failure, up to `maximumDelay`; attempts inside the delay are refused
/// without hashing the secret. A success clears the name and the address. Counts fade: a key whose
/// last failure is older than `forgetAfter` starts again. The table is bounded (`capacity`); when it
/// is full the entries that failed longest ago go first.
///
/// Throttling by name means a guesser can delay the real user too, by at most `maximumDelay` per
/// attempt: the price of slowing a distributed guesser down, and documented as such.
final class AuthThrottle: Sendable {
    struct Entry: Sendable {
        var failures: Int
        var lastFailure: NIODeadline
        var blockedUntil: NIODeadline
    }

    let freeFailures: Int
    let maximumDelay: TimeAmount
    let forgetAfter: TimeAmount
    let capacity: Int
    let now: @Sendable () -> NIODeadline
    private let entries = Mutex<[String: Entry]>([:])

    init(
        freeFailures: Int,
        maximumDelay: TimeAmount,
        forgetAfter: TimeAmount = .minutes(15),
        capacity: Int = 10_000,
        now: @escaping @Sendable () -> NIODeadline
    ) {
        self.freeFailures = freeFailures
        self.maximumDelay = maximumDelay
        self.forgetAfter = forgetAfter
        self.capacity = capacity
        self.now = now
    }

    static func keys(user: String, peer: String) -> [String] { ["user:" + user, "peer:" + peer] }

    /// How long until an attempt for these keys is allowed, or nil when it is allowed now.
    func delay(for keys: [String]) -> TimeAmount? {
        let now = now()
        let until = entries.withLock { entries in
            keys.compactMap { entries[$0] }.filter { now - $0.lastFailure < forgetAfter }.map(\.blockedUntil).max()
        }
        guard let until, until > now else { return nil }
        return until - now
    }

    func failed(_ keys: [String]) {
        let now = now()
        entries.withLock { entries in
            for key in keys {
                var entry = entries[key] ?? Entry(failures: 0, lastFailure: now, blockedUntil: now)
                if now - entry.lastFailure >= forgetAfter { entry.failures = 0 }
                entry.failures += 1
                entry.lastFailure = now
                let over = entry.failures - freeFailures
                if over > 0 {
                    let seconds = over >= 30 ? Int64.max : Int64(1) << (over - 1)
                    let delay = seconds >= maximumDelay.nanoseconds / 1_000_000_000 ? maximumDelay : .seconds(seconds)
                    entry.blockedUntil = now + delay
                }
                entries[key] = entry
            }
            if entries.count > capacity { Self.trim(&entries, to: capacity, now: now, forgetAfter: forgetAfter) }
        }
    }

    func succeeded(_ keys: [String]) {
        entries.withLock { entries in
            for key in keys { entries.removeValue(forKey: key) }
        }
    }

    var count: Int { entries.withLock { $0.count } }

    private static func trim(
        _ entries: inout [String: Entry],
        to capacity: Int,
        now: NIODeadline,
        forgetAfter: TimeAmount
    ) {
        entries = entries.filter { now - $0.value.lastFailure < forgetAfter }
        guard entries.count > capacity else { return }
        let oldest = entries.sorted { $0.value.lastFailure < $1.value.lastFailure }.prefix(entries.count - capacity)
        for (key, _) in oldest { entries.removeValue(forKey: key) }
    }
}
