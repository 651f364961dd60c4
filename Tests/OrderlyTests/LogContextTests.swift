import Foundation
import LibPQ
import Logging
import Orderly
import OrderlyTestSupport
import Testing

/// A line logged on a connection's thread names the request or job it works for, as a line logged
/// in the task that borrowed the connection does.
@Suite
struct LogContextTests {
    @Test func theConnectionsThreadLogsWithTheBorrowersRequestAndJob() async throws {
        let database = try await TestDatabase.create(label: "log_context", migrated: true)
        let orderly = try await OrderlyDatabase.open(
            configuration: database.configuration,
            logger: Logger(label: "test.pool")
        )
        let captured = CapturingLogHandler()
        captured.metadataProvider = LogContext.metadataProvider
        let logger = captured.logger
        // The async flavour, inside a task with both values bound.
        try await LogContext.$job.withValue("41") {
            try await LogContext.$request.withValue("3.7") {
                try await orderly.pool.withConnection { _ in logger.info("on the connection thread") }
            }
        }
        // The callback flavour, asked from a thread that is not a task (an event loop's, say), with
        // the value bound synchronously there.
        let done = DispatchSemaphore(value: 0)
        let helper = Thread {
            LogContext.$request.withValue("9.2") {
                orderly.pool.withConnection({ _ in logger.info("a read on the connection thread") }) { _ in
                    done.signal()
                }
            }
        }
        helper.start()
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                done.wait()
                continuation.resume()
            }
        }
        // Nothing bound: nothing named.
        try await orderly.pool.withConnection { _ in logger.info("unbound") }
        await orderly.close()
        try? await onThread { try database.drop() }

        let lines = captured.lines
        #expect(lines.contains("info on the connection thread job=41 request=3.7"), "\(lines)")
        #expect(lines.contains("info a read on the connection thread request=9.2"), "\(lines)")
        #expect(lines.contains("info unbound "), "\(lines)")
    }
}
