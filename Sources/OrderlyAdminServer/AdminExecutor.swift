import Foundation
public import Logging
public import Orderly
public import OrderlyAdminProtocol
import OrderlyCore
import OrderlyRouting

/// Who a connection authenticated as.
public struct AdminPrincipal: Hashable, Sendable {
    public var name: String
    public var role: AdminRole
}

/// Runs bound commands: each command's handler is registered with its `CommandSpec`
/// (`AdminCommandRegistry`, one file per area under Commands/), the role gate runs before it, and the
/// middleware around it (errors to stable codes, then `idem=` keys). Database work happens on the
/// pool's connection threads; nothing here blocks an event loop. Each command is one transaction, so
/// nothing half-done remains.
public struct AdminExecutor: Sendable {
    let database: OrderlyDatabase
    let components: OrderlyComponents
    let logger: Logger
    let registry: AdminCommandRegistry
    /// Outermost first.
    let middleware: [any AdminMiddleware]

    public init(database: OrderlyDatabase, components: OrderlyComponents = .standard, logger: Logger) {
        self.database = database
        self.components = components
        self.logger = logger
        self.registry = .standard
        self.middleware = [ErrorMiddleware(), IdempotencyMiddleware()]
    }

    /// What running a command came to: its reply, or (for a dev-mode connection) the news that a
    /// principal exists now, so the connection must AUTH.
    public enum Outcome: Sendable {
        case reply(AdminReply)
        case devModeEnded
    }

    // MARK: The gate: authentication and roles

    /// Checks a secret; nil when the user is unknown, disabled or the secret is wrong (one answer for
    /// all three, so AUTH does not reveal which names exist).
    /// The principal `user` with `secret`, or nil. A match whose stored hash has fewer than
    /// `iterations` rounds is re-hashed with them (only if the stored hash is still the one checked);
    /// a failed upgrade is logged and the AUTH stands.
    public func authenticate(
        user: String,
        secret: String,
        iterations: Int = PasswordHash.iterations
    ) async throws -> AdminPrincipal? {
        let record = try await access.principal(named: user)
        guard let record, !record.disabled, let role = AdminRole(rawValue: record.role) else {
            // Spend the same time as a real check.
            _ = PasswordHash.verify(secret, against: Self.decoy(iterations: iterations))
            return nil
        }
        guard PasswordHash.verify(secret, against: record.secretHash) else { return nil }
        if let stored = PasswordHash.iterations(of: record.secretHash), stored < iterations {
            do {
                let upgraded = try PasswordHash.make(secret, iterations: iterations)
                if try await access.replaceSecretHash(name: record.name, from: record.secretHash, to: upgraded) {
                    logger.info(
                        "secret hash upgraded",
                        metadata: ["user": "\(record.name)", "from": "\(stored)", "to": "\(iterations)"]
                    )
                }
            } catch {
                logger.warning(
                    "could not upgrade a secret hash",
                    metadata: ["user": "\(record.name)", "error": "\(error)"]
                )
            }
        }
        return AdminPrincipal(name: record.name, role: role)
    }

    static func decoy(iterations: Int) -> String {
        "pbkdf2-sha256$\(iterations)$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    }

    /// The role gate, before any handler (the connection's fast path included): FORBIDDEN unless the
    /// principal's role reaches the command's. Dev mode (no principal) acts as admin.
    static func authorize(_ command: BoundCommand, principal: AdminPrincipal?) throws(AdminError) {
        let role = principal?.role ?? .admin
        if let needed = command.spec.role, role < needed {
            throw AdminError(
                .forbidden,
                "\(command.spec.name) needs the \(needed.rawValue) role; you are \(role.rawValue)"
            )
        }
    }

    var access: AdminAccess { AdminAccess(database: database) }

    /// Whether any enabled principal exists (the callback flavour, for the event loop).
    func principalsExist(_ completion: @escaping @Sendable (Result<Bool, any Error>) -> Void) {
        database.read(access.anyPrincipalEnabled, completion: completion)
    }

    // MARK: Running

    /// A read registered as one synchronous piece of work on a connection: the server runs it with the
    /// pool's callback API, from the event loop to the connection's thread and back, without a task.
    /// Nil for every other command.
    func connectionWork(_ command: BoundCommand) throws(AdminError) -> ConnectionWork? {
        guard case .read(let make)? = registry.handler(command.spec.name) else { return nil }
        return try make(command)
    }

    /// `work` for a dev-mode connection: first a look at the principals table, on the same connection.
    func guarded(_ work: ConnectionWork, devMode: Bool) -> DatabaseRead<Outcome> {
        guard devMode else { return work.map(Outcome.reply) }
        return access.anyPrincipalEnabled.then { exists in exists ? .just(.devModeEnded) : work.map(Outcome.reply) }
    }

    public func run(_ command: BoundCommand, principal: AdminPrincipal?, devMode: Bool = false) async -> Outcome {
        let call = AdminCall(command: command, principal: principal, idem: nil, executor: self)
        if devMode {
            do {
                if try await database.read(access.anyPrincipalEnabled) {
                    return .devModeEnded
                }
            } catch {
                return .reply(reply(for: error, command: command))
            }
        }
        do {
            return .reply(try await respond(to: call, through: middleware[...]))
        } catch {
            // The error middleware answers every error; this is for a chain without it.
            return .reply(reply(for: error, command: command))
        }
    }

    private func respond(
        to call: AdminCall,
        through chain: ArraySlice<any AdminMiddleware>
    ) async throws -> AdminReply {
        guard let first = chain.first else { return try await handle(call) }
        let rest = chain.dropFirst()
        return try await first.respond(to: call) { try await self.respond(to: $0, through: rest) }
    }

    /// The command's handler itself.
    func handle(_ call: AdminCall) async throws -> AdminReply {
        switch registry.handler(call.command.spec.name) {
        case .read(let make)?:
            return try await database.read(try make(call.command))
        case .call(let body)?:
            return try await body(call)
        case nil:
            throw AdminError(.unknownCommand, "\(call.command.spec.name) is not served here")
        }
    }

    // MARK: Errors

    /// Commands that run more than one transaction: a failure part-way may have left the first done.
    static let multiTransaction: Set<String> = ["ORDER RELEASE"]

    /// A refusal as its stable code; a lost database as UNAVAILABLE, saying whether anything may have
    /// changed; anything unexpected is logged and answered INTERNAL.
    func reply(for error: any Error, command: BoundCommand) -> AdminReply {
        let partial = Self.multiTransaction.contains(command.spec.name)
        let unchanged =
            partial ? "part of it may have been applied (ORDER SHOW tells)" : "its transaction was rolled back"
        switch error {
        case let error as AdminError:
            if error.code == .internal {
                logger.error("command failed", metadata: ["command": "\(command.spec.name)", "error": "\(error)"])
            }
            return .error(error)
        case let error as OrderlyError:
            return .error(AdminError(AdminError.Code(rawValue: error.code.description), error.message))
        case let error as IllegalTransition:
            return .error(AdminError(AdminError.Code(rawValue: IllegalTransition.code), error.description))
        case let error as UnknownStrategy:
            return .error(AdminError(.badArgument, error.description))
        case _ where DatabaseFailure(error) == .outcomeUnknown:
            logger.warning(
                "commit outcome unknown",
                metadata: ["command": "\(command.spec.name)", "error": "\(error)"]
            )
            let retry =
                command.arguments["idem"] != nil
                ? "retry with the same idem key"
                : "check before retrying (an idem= key makes retries safe)"
            return .error(
                AdminError(
                    .unavailable,
                    "outcome unknown: the database connection broke while the command committed; \(retry)"
                )
            )
        case _ where DatabaseFailure(error) != nil:
            logger.warning("database unavailable", metadata: ["command": "\(command.spec.name)", "error": "\(error)"])
            return .error(AdminError(.unavailable, "the database is unavailable; \(unchanged)"))
        default:
            logger.error("command failed", metadata: ["command": "\(command.spec.name)", "error": "\(error)"])
            return .error(AdminError(.internal, "the command failed and \(unchanged); the server log has details"))
        }
    }
}

/// What a handler is given: the bound command, who sent it, the `idem=` key it runs under (set by the
/// idempotency middleware) and the services, acting as the principal.
struct AdminCall: Sendable {
    let command: BoundCommand
    let principal: AdminPrincipal?
    var idem: IdempotencyRecord?
    let executor: AdminExecutor

    var actor: String { "admin:" + (principal?.name ?? "local") }

    var orders: OrderService {
        OrderService(database: executor.database, actor: actor, components: executor.components)
    }

    var fulfillment: FulfillmentService {
        FulfillmentService(database: executor.database, actor: actor, components: executor.components)
    }

    var inventory: InventoryService { InventoryService(database: executor.database, actor: actor) }

    var returns: ReturnService {
        ReturnService(database: executor.database, actor: actor, components: executor.components)
    }

    var payments: PaymentService {
        PaymentService(database: executor.database, actor: actor, components: executor.components)
    }

    var catalog: CatalogService { CatalogService(database: executor.database) }

    var jobs: JobService { JobService(database: executor.database) }

    var notifications: NotificationService { NotificationService(database: executor.database) }

    var database: OrderlyDatabase { executor.database }

    /// The reply stored for `idem=` with the service call's commit, when the command has a key.
    func storing<V>(_ reply: @escaping @Sendable (V) -> AdminReply) -> CommitAlongside<V>? {
        idem?.storing(reply)
    }
}

/// Runs around a command's handler (Hummingbird's middleware shape): it may answer by itself, or call
/// `next` with the call as it should reach the handler.
protocol AdminMiddleware: Sendable {
    func respond(
        to call: AdminCall,
        next: @Sendable (AdminCall) async throws -> AdminReply
    ) async throws -> AdminReply
}

/// Every error becomes a reply with a stable code (`AdminExecutor.reply(for:command:)`).
struct ErrorMiddleware: AdminMiddleware {
    func respond(
        to call: AdminCall,
        next: @Sendable (AdminCall) async throws -> AdminReply
    ) async throws -> AdminReply {
        do {
            return try await next(call)
        } catch {
            return call.executor.reply(for: error, command: call.command)
        }
    }
}
