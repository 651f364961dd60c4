import Logging
import OrderlyCore
import OrderlyWorker
import Synchronization
import Testing

/// The log channel keeps customer data out of info-level logs.
struct LogNotifierTests {
    /// Every record's message and metadata, as text.
    final class Captured: LogHandler, @unchecked Sendable {
        // The handler's own settings are set before logging starts; the records are behind a lock.
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level
        let records = Mutex<[String]>([])

        init(level: Logger.Level) { logLevel = level }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
            records.withLock { $0.append("\(event.level) \(event.message) \(fields)") }
        }
    }

    static let message = OutboxEntry(
        id: 7,
        orderID: 3,
        kind: .orderShipped,
        channel: "log",
        recipient: "ada@example.com",
        subject: "Your order has shipped",
        body: "Dear Ada, parcel 00340434161234567890 is on its way to Unter den Linden 1.",
        status: .pending
    )

    @Test func atInfoTheLineNamesTheMessageButNotItsRecipientOrBody() throws {
        let handler = Captured(level: .info)
        try LogNotifier(logger: Logger(label: "test") { _ in handler }).send(Self.message)
        let lines = handler.records.withLock { $0 }
        #expect(lines.count == 1)
        #expect(lines.allSatisfy { $0.contains("notification=7") && $0.contains("order_shipped") })
        #expect(lines.allSatisfy { !$0.contains("ada@example.com") && !$0.contains("Unter den Linden") })
    }

    @Test func atDebugTheContentIsThereForADeveloper() throws {
        let handler = Captured(level: .debug)
        try LogNotifier(logger: Logger(label: "test") { _ in handler }).send(Self.message)
        let lines = handler.records.withLock { $0 }
        #expect(lines.count == 2)
        #expect(
            lines.contains {
                $0.hasPrefix("debug") && $0.contains("ada@example.com") && $0.contains("Unter den Linden")
            }
        )
    }
}
