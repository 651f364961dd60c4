public import ArgumentParser
import Foundation
public import Logging

/// How log lines are written: `text` (swift-log's own lines) or `json` (one object a line, for log
/// shippers).
public enum LogFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    case text
    case json
}

/// `--log-format` and `--log-level` for the long-running processes (`ORDERLY_LOG_FORMAT` and
/// `ORDERLY_LOG_LEVEL` for every command).
package struct LoggingOptions: ParsableArguments {
    @Option(help: "text, or json: one JSON object a line with the metadata as fields.")
    var logFormat: LogFormat?

    @Option(help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: Logger.Level?

    package init() {}

    package func logger(_ label: String) -> Logger {
        CommandLogging.logger(label, format: logFormat, level: logLevel)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// One JSON object a line on standard error: `ts` (UTC, milliseconds), `level`, `label`, `message`,
/// `source`, then the metadata as fields (a metadata key that collides with one of those is written
/// as `metadata.KEY`). One `write` a line, so lines from several threads never interleave.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let write: @Sendable (String) -> Void

    /// `write` receives each line with its newline (standard error by default).
    public init(
        label: String,
        metadataProvider: Logger.MetadataProvider? = nil,
        write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError
    ) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes a line to standard error in one `write`.
    public static let standardError: @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }

    static let reserved: Set<String> = ["ts", "level", "label", "message", "source", "error"]
    static let timestamp = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    public func log(event: LogEvent) {
        var object: [String: Any] = [
            "ts": Self.timestamp.format(Date()),
            "level": event.level.rawValue,
            "label": label,
            "message": event.message.description,
            "source": event.source,
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let call = event.metadata { merged.merge(call) { _, new in new } }
        if let error = event.error { object["error"] = String(describing: error) }
        for (key, value) in merged {
            object[Self.reserved.contains(key) ? "metadata.\(key)" : key] = Self.json(value)
        }
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: object,
                options: [.withoutEscapingSlashes, .sortedKeys]
            ),
            let line = String(data: data, encoding: .utf8)
        else { return }
        write(line + "\n")
    }

    static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible): return convertible.description
        case .array(let values): return values.map(json)
        case .dictionary(let values): return values.mapValues(json)
        }
    }
}
