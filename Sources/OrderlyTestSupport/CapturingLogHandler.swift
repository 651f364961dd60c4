public import Logging
import Synchronization

/// A log handler that keeps every record as `level message key=value ...` (metadata sorted by key),
/// for tests that check what a component logs. Its settings are set before logging starts; the
/// records are behind a lock.
public final class CapturingLogHandler: LogHandler, @unchecked Sendable {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    /// Merged into every record, as a real handler does (`LogContext.metadataProvider`, say).
    public var metadataProvider: Logger.MetadataProvider?
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
        var merged = metadataProvider?.get() ?? [:]
        merged.merge(event.metadata ?? [:]) { _, new in new }
        let fields = merged.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        records.withLock { $0.append("\(event.level) \(event.message) \(fields)") }
    }
}
