public import Logging
import Synchronization

/// A log handler that keeps every record as `level message key=value ...` (metadata sorted by key),
/// for tests that check what a component logs. Its settings are set before logging starts; the
/// records are behind a lock.
public final class CapturingLogHandler: LogHandler, @unchecked Sendable {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let records = Mutex<[String]>([])

    public init(level: Logger.Level = .info) { logLevel = level }

    /// A logger whose records this handler keeps.
    public var logger: Logger { Logger(label: "test") { _ in self } }

    /// The records so far.
    public var lines: [String] { records.withLock { $0 } }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        records.withLock { $0.append("\(event.level) \(event.message) \(fields)") }
    }
}
