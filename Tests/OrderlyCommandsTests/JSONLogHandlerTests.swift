import Foundation
import Logging
import Orderly
import Synchronization
import Testing

@testable import OrderlyCommands

struct JSONLogHandlerTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
    }

    @Test func everyLineIsOneJSONObjectWithTheMetadataAsFields() throws {
        let sink = Lines()
        var logger = Logger(label: "orderly.test") { JSONLogHandler(label: $0, write: sink.append) }
        logger[metadataKey: "worker"] = "w-1"
        logger.info("job completed", metadata: ["job": "42", "message": "a clash", "tags": ["a", "b"]])
        logger.debug("below the level: not written")
        logger.warning("line one\nline two")
        let lines = sink.lines.withLock { $0 }
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.hasSuffix("\n") && $0.dropLast().firstIndex(of: "\n") == nil })
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["level"] as? String == "info")
        #expect(first["label"] as? String == "orderly.test")
        #expect(first["message"] as? String == "job completed")
        #expect(first["job"] as? String == "42")
        #expect(first["worker"] as? String == "w-1")
        #expect(first["metadata.message"] as? String == "a clash")
        #expect(first["tags"] as? [String] == ["a", "b"])
        let stamp = try #require(first["ts"] as? String)
        #expect(try Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(stamp) <= Date())
        let second = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(second["message"] as? String == "line one\nline two")
    }

    @Test func theJobTheTaskRunsIsAField() throws {
        let sink = Lines()
        let logger = Logger(label: "orderly.test") {
            JSONLogHandler(label: $0, metadataProvider: LogContext.metadataProvider, write: sink.append)
        }
        LogContext.$job.withValue("17") { logger.info("inside") }
        logger.info("outside")
        let lines = try sink.lines.withLock { $0 }.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(lines.count == 2)
        #expect(lines.first?["job"] as? String == "17")
        #expect(lines.last?["job"] == nil)
    }

    @Test func theFormatComesFromTheFlagOrTheEnvironmentAndABadOneIsRefused() throws {
        let serve = try #require(
            try OrderlyCommand.parseAsRoot(
                EnvironmentFallback.arguments(
                    ["serve"],
                    root: OrderlyCommand.self,
                    environment: ["ORDERLY_LOG_FORMAT": "json", "ORDERLY_LOG_LEVEL": "debug"]
                )
            ) as? ServeCommand
        )
        #expect(serve.logging.logFormat == .json)
        #expect(serve.logging.logLevel == .debug)
        #expect(throws: (any Error).self) { try OrderlyCommand.parseAsRoot(["worker", "--log-format", "xml"]) }
        #expect(throws: (any Error).self) { try OrderlyCommand.parseAsRoot(["migrate", "--log-level", "loud"]) }
    }
}
