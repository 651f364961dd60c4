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

}

/// Typed, throwing access to a bound command's arguments. Binding has checked each value against the
/// table, so a handler asking for an argument the table does not declare, as required when it is
/// optional, or as another type, is a mismatch between handler and table: it throws INTERNAL naming
/// it, never a default that hides it.
extension BoundCommand {
    public func int(required name: String) throws(AdminError) -> Int64 {
        try read(name, required: true, "an int") { $0.int }!
    }

    public func int(optional name: String) throws(AdminError) -> Int64? {
        try read(name, required: false, "an int") { $0.int }
    }

    public func text(required name: String) throws(AdminError) -> String {
        try read(name, required: true, "text") { $0.text }!
    }

    public func text(optional name: String) throws(AdminError) -> String? {
        try read(name, required: false, "text") { $0.text }
    }

    public func bool(optional name: String) throws(AdminError) -> Bool? {
        try read(name, required: false, "a bool") { $0.bool }
    }

    /// A `decimal` argument (kept as the text the client sent, so it is parsed once, here).
    public func decimal(required name: String) throws(AdminError) -> Double {
        try read(name, required: true, "a decimal") { $0.text.flatMap(Double.init) }!
    }

    public func decimal(optional name: String) throws(AdminError) -> Double? {
        try read(name, required: false, "a decimal") { $0.text.flatMap(Double.init) }
    }

    /// Any argument's value as bound (a `reference` binds an id as int, a code as text).
    public func value(required name: String) throws(AdminError) -> ArgumentValue {
        try read(name, required: true, "a value") { $0 }!
    }

    public func value(optional name: String) throws(AdminError) -> ArgumentValue? {
        try read(name, required: false, "a value") { $0 }
    }

    public func lines(required name: String) throws(AdminError) -> [LineArgument] {
        try read(name, required: true, "lines") { $0.lines }!
    }

    private func read<T>(
        _ name: String,
        required: Bool,
        _ kind: String,
        _ value: (ArgumentValue) -> T?
    ) throws(AdminError) -> T? {
        guard let declared = spec.arguments.first(where: { $0.name == name }) else {
            throw AdminError(.internal, "\(spec.name) reads '\(name)', which its table entry does not declare")
        }
        guard declared.required == required else {
            throw AdminError(
                .internal,
                "\(spec.name) reads '\(name)' as \(required ? "required" : "optional"); its table entry says "
                    + (declared.required ? "required" : "optional")
            )
        }
        guard let raw = arguments[name] else {
            if required { throw AdminError(.internal, "\(spec.name): required '\(name)' was not bound") }
            return nil
        }
        guard let typed = value(raw) else {
            throw AdminError(.internal, "\(spec.name) reads '\(name)' as \(kind); its table entry binds another type")
        }
        return typed
    }
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
