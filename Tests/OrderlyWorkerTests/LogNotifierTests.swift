import Logging
import OrderlyCore
import OrderlyTestSupport
import OrderlyWorker
import Testing

/// The log channel keeps customer data out of info-level logs.
struct LogNotifierTests {
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
        let handler = CapturingLogHandler(level: .info)
        try LogNotifier(logger: handler.logger).send(Self.message)
        let lines = handler.lines
        #expect(lines.count == 1)
        #expect(lines.allSatisfy { $0.contains("notification=7") && $0.contains("order_shipped") })
        #expect(lines.allSatisfy { !$0.contains("ada@example.com") && !$0.contains("Unter den Linden") })
    }

    @Test func atDebugTheContentIsThereForADeveloper() throws {
        let handler = CapturingLogHandler(level: .debug)
        try LogNotifier(logger: handler.logger).send(Self.message)
        let lines = handler.lines
        #expect(lines.count == 2)
        #expect(
            lines.contains {
                $0.hasPrefix("debug") && $0.contains("ada@example.com") && $0.contains("Unter den Linden")
            }
        )
    }
}
