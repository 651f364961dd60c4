/// One command: its words, who may run it, its arguments and its help. The server runs nothing that
/// is not in the table, and checks every argument against it before running anything.
public struct CommandSpec: Hashable, Sendable {
    public var verb: String
    public var sub: String?
    /// nil: runs before AUTH (HELLO, AUTH, PING, HELP, QUIT).
    public var role: AdminRole?
    /// Changes data (accepts `idem=`).
    public var mutating: Bool
    public var arguments: [ArgumentSpec]
    public var summary: String

    public var name: String { sub.map { "\(verb) \($0)" } ?? verb }

    public init(
        _ verb: String,
        _ sub: String? = nil,
        role: AdminRole?,
        mutating: Bool = false,
        _ summary: String,
        _ arguments: [ArgumentSpec] = []
    ) {
        self.verb = verb
        self.sub = sub
        self.role = role
        self.mutating = mutating
        self.summary = summary
        self.arguments =
            mutating ? arguments + [.optional("idem", .text(maximumLength: 64), "idempotency key")] : arguments
    }

    /// The usage line HELP prints: positional names, then `key=type`, optional ones in brackets.
    public var usage: String {
        ([name]
            + arguments.map { argument in
                let word = argument.positional ? argument.name : "\(argument.name)=\(argument.type.summary)"
                return argument.required ? word : "[\(word)]"
            }).joined(separator: " ")
    }
}

/// A request matched to its command, with checked arguments.
public struct BoundCommand: Hashable, Sendable {
    public var spec: CommandSpec
    public var tag: String?
    public var arguments: [String: ArgumentValue]

    public func int(_ name: String) -> Int64? { arguments[name]?.int }
    public func text(_ name: String) -> String? { arguments[name]?.text }
    public func bool(_ name: String) -> Bool? { arguments[name]?.bool }
}

/// Every command of the protocol.
public struct CommandTable: Sendable {
    public let commands: [CommandSpec]
    private let byName: [String: CommandSpec]
    private let subs: [String: [String]]

    public init(_ commands: [CommandSpec]) {
        self.commands = commands
        var byName: [String: CommandSpec] = [:]
        var subs: [String: [String]] = [:]
        for command in commands {
            byName[command.name] = command
            if let sub = command.sub { subs[command.verb, default: []].append(sub) }
        }
        self.byName = byName
        self.subs = subs
    }

    public func command(_ name: String) -> CommandSpec? { byName[name.uppercased()] }

    /// The request's arguments, not counting its verb and (for a verb that has them) its subcommand:
    /// what the argument limits count, known before the arguments are checked.
    public func argumentCount(_ request: AdminRequest) -> Int {
        guard let verb = request.tokens.first?.value.uppercased() else { return 0 }
        let words = subs[verb] != nil && request.tokens.count > 1 ? 2 : 1
        return max(0, request.tokens.count - words)
    }

    /// Matches the request's words to a command and checks its arguments (role and auth are the
    /// server's to check: they depend on the connection).
    public func bind(_ request: AdminRequest) throws(AdminError) -> BoundCommand {
        var tokens = request.tokens[...]
        guard let first = tokens.first, first.key == nil, !first.quoted else {
            throw AdminError(.syntax, "a request starts with a command word")
        }
        tokens = tokens.dropFirst()
        let verb = first.value.uppercased()
        var name = verb
        if let known = subs[verb] {
            guard let second = tokens.first, second.key == nil, !second.quoted else {
                throw AdminError(
                    .unknownCommand,
                    "\(verb) needs a subcommand: \(known.joined(separator: ", "))"
                )
            }
            let sub = second.value.uppercased()
            guard known.contains(sub) else {
                throw AdminError(
                    .unknownCommand,
                    "\(verb) has no subcommand \(Self.clipped(sub)) (known: \(known.joined(separator: ", ")))"
                )
            }
            name = "\(verb) \(sub)"
            tokens = tokens.dropFirst()
        }
        guard let spec = byName[name] else {
            throw AdminError(.unknownCommand, "unknown command \(Self.clipped(verb)); HELP lists them")
        }
        var raw: [String: String] = [:]
        var positional = spec.arguments.filter(\.positional)[...]
        for token in tokens {
            let argument: ArgumentSpec
            if let key = token.key {
                guard let named = spec.arguments.first(where: { $0.name == key }) else {
                    let known = spec.arguments.map(\.name).joined(separator: ", ")
                    throw AdminError(
                        .badArgument,
                        "\(spec.name) has no argument '\(key)'" + (known.isEmpty ? "" : " (it takes: \(known))")
                    )
                }
                argument = named
            } else {
                guard let next = positional.first(where: { raw[$0.name] == nil }) else {
                    throw AdminError(
                        .badArgument,
                        "\(spec.name): unexpected value '\(Self.clipped(token.value))'; name it as key=value"
                    )
                }
                argument = next
                positional = positional.drop { $0.name != next.name }.dropFirst()
            }
            guard raw[argument.name] == nil else {
                throw AdminError(.badArgument, "\(argument.name) is given twice")
            }
            raw[argument.name] = token.value
        }
        var values: [String: ArgumentValue] = [:]
        for argument in spec.arguments {
            guard let text = raw[argument.name] else {
                if argument.required { throw AdminError(.badArgument, "\(spec.name) needs \(argument.name)") }
                continue
            }
            values[argument.name] = try argument.type.check(text, name: argument.name)
        }
        return BoundCommand(spec: spec, tag: request.tag, arguments: values)
    }

    static func clipped(_ text: String) -> String { ArgumentType.clipped(text) }
}
