import OrderlyCore

/// Strategies tried in order until one places the whole order, e.g. nearest, falling back to split.
/// The plan's rule says which link decided.
public struct RoutingChain: RoutingStrategy {
    public let links: [any RoutingStrategy]
    public var name: String { links.map(\.name).joined(separator: ">") }

    public init(_ links: [any RoutingStrategy]) {
        self.links = links
    }

    public func plan(_ input: RoutingInput) -> RoutingPlan? {
        for (index, link) in links.enumerated() {
            guard var plan = link.plan(input) else { continue }
            if index > 0 {
                let skipped = links[..<index].map(\.name).joined(separator: ", ")
                plan.rule = "fallback after \(skipped): " + plan.rule
            }
            plan.strategy = name
            return plan
        }
        return nil
    }
}

/// Strategies by name, as channels configure them (`nearest>split`). A process builds one at start-up
/// (`OrderlyComponents`): the built-in strategies, and any a library user registers.
public struct RoutingRegistry: Sendable {
    public private(set) var strategies: [String: any RoutingStrategy] = [:]

    public init(_ strategies: [any RoutingStrategy] = []) {
        for strategy in strategies { self.strategies[strategy.name] = strategy }
    }

    /// The built-in strategies: nearest, cheapest, split and priority.
    public static let standard = RoutingRegistry([
        NearestStrategy(), CheapestStrategy(), SplitStrategy(), PriorityStrategy(),
    ])

    /// The names strategies can be selected by, sorted.
    public var names: [String] { strategies.keys.sorted() }

    /// Adds a strategy under its name, a word of `[a-z0-9_]` not taken by another.
    public mutating func register(_ strategy: any RoutingStrategy) throws(RegistrationError) {
        let name = strategy.name
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
            throw RegistrationError("a routing strategy's name must be a word of [a-z0-9_], not '\(name)'")
        }
        guard strategies[name] == nil else {
            throw RegistrationError("a routing strategy named '\(name)' is registered already")
        }
        strategies[name] = strategy
    }

    /// The strategy or chain a spec names: one name, or names joined by `>`.
    public func strategy(named spec: String) throws(UnknownStrategy) -> any RoutingStrategy {
        let names = spec.split(separator: ">", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        var links: [any RoutingStrategy] = []
        for name in names {
            guard let strategy = strategies[name] else { throw UnknownStrategy(name: name, known: self.names) }
            links.append(strategy)
        }
        return links.count == 1 ? links[0] : RoutingChain(links)
    }
}

/// A strategy, rule or carrier that cannot be registered as asked.
public struct RegistrationError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A routing strategy name that does not exist.
public struct UnknownStrategy: Error, Hashable, Sendable, CustomStringConvertible {
    public static let code = "UNKNOWN_STRATEGY"
    public var name: String
    /// The names that do.
    public var known: [String]

    public init(name: String, known: [String] = RoutingRegistry.standard.names) {
        self.name = name
        self.known = known
    }

    public var description: String {
        "unknown routing strategy '\(name)' (known: \(known.joined(separator: ", ")))"
    }
}
