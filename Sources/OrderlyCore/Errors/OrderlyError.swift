/// An error Orderly's services report to their callers: a stable code, a message for people, and
/// the context that helps. The admin protocol prints `code` as is.
public struct OrderlyError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case notFound = "NOT_FOUND"
            case badArgument = "BAD_ARG"
            case insufficientStock = "INSUFFICIENT_STOCK"
            case conflict = "CONFLICT"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A referenced object (warehouse, SKU, order) does not exist.
        public static let notFound = Code(.notFound)
        /// An argument is out of range or malformed.
        public static let badArgument = Code(.badArgument)
        /// The change would take more units than are on hand and unreserved.
        public static let insufficientStock = Code(.insufficientStock)
        /// The change contradicts the current state (e.g. counting below what is reserved).
        public static let conflict = Code(.conflict)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code) \(message)" }
}
