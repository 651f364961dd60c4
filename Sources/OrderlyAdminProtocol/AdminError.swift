/// A refusal the protocol sends as `ERR CODE message`.
public struct AdminError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable UPPER_SNAKE codes (docs/admin-protocol.md, "Error codes").
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let syntax = Code(rawValue: "SYNTAX")
        public static let lineTooLong = Code(rawValue: "LINE_TOO_LONG")
        public static let tooManyArguments = Code(rawValue: "TOO_MANY_ARGS")
        public static let unknownCommand = Code(rawValue: "UNKNOWN_COMMAND")
        public static let badArgument = Code(rawValue: "BAD_ARG")
        public static let noAuth = Code(rawValue: "NOAUTH")
        public static let authFailed = Code(rawValue: "AUTH_FAILED")
        public static let forbidden = Code(rawValue: "FORBIDDEN")
        public static let notFound = Code(rawValue: "NOT_FOUND")
        public static let idempotencyConflict = Code(rawValue: "IDEMPOTENCY_CONFLICT")
        public static let conflict = Code(rawValue: "CONFLICT")
        public static let maxClients = Code(rawValue: "MAX_CLIENTS")
        /// A request line arrived slower than the line deadline; the connection is closed.
        public static let timeout = Code(rawValue: "TIMEOUT")
        /// The database could not be reached, or the connection to it broke while the command
        /// committed: the message says whether the change may have been made.
        public static let unavailable = Code(rawValue: "UNAVAILABLE")
        public static let `internal` = Code(rawValue: "INTERNAL")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code) \(message)" }
}
