import Orderly
import OrderlyAdminProtocol

/// One synchronous piece of database work on a connection, answering a read command.
typealias ConnectionWork = DatabaseRead<AdminReply>

/// How a command is served.
enum AdminHandler: Sendable {
    /// A read that is one piece of work on a connection: built from the command (its arguments read
    /// here, typed), then run from the event loop on a connection thread without a task (the fast
    /// path ORDER SHOW takes).
    case read(@Sendable (BoundCommand) throws(AdminError) -> ConnectionWork)
    /// Anything else: through the services, inside the middleware.
    case call(@Sendable (AdminCall) async throws -> AdminReply)
}

/// Every command's handler, registered with its `CommandSpec` by name: one place says what the
/// server runs for each line of the command table. Registering a name the table does not have, or a
/// name twice, is a programming error caught when the server starts (and by the tests, which also
/// check that every command of the table is served).
struct AdminCommandRegistry: Sendable {
    let table: CommandTable
    private(set) var handlers: [String: AdminHandler] = [:]

    /// The commands the connection handler answers itself: they touch only the connection.
    static let connectionCommands: Set<String> = ["PING", "QUIT", "HELLO", "AUTH", "HELP"]

    init(table: CommandTable) {
        self.table = table
    }

    /// Every command of `CommandTable.standard`, by area.
    static let standard: AdminCommandRegistry = {
        var registry = AdminCommandRegistry(table: .standard)
        registry.registerCatalogCommands()
        registry.registerStockCommands()
        registry.registerOrderCommands()
        registry.registerPaymentCommands()
        registry.registerChannelCommands()
        registry.registerFulfillmentCommands()
        registry.registerReturnCommands()
        registry.registerOperationsCommands()
        return registry
    }()

    mutating func read(_ name: String, _ make: @escaping @Sendable (BoundCommand) throws(AdminError) -> ConnectionWork)
    {
        register(name, .read(make))
    }

    mutating func call(_ name: String, _ body: @escaping @Sendable (AdminCall) async throws -> AdminReply) {
        register(name, .call(body))
    }

    private mutating func register(_ name: String, _ handler: AdminHandler) {
        precondition(table.command(name) != nil, "\(name) is not in the command table")
        precondition(!Self.connectionCommands.contains(name), "\(name) is the connection's own")
        precondition(handlers.updateValue(handler, forKey: name) == nil, "\(name) is registered twice")
    }

    func handler(_ name: String) -> AdminHandler? { handlers[name] }

    /// Commands of the table nothing serves (none, or a line of the table is dead).
    var unserved: [String] {
        table.commands.map(\.name).filter { handlers[$0] == nil && !Self.connectionCommands.contains($0) }
    }
}
