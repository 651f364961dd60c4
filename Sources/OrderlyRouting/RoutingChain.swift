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

/// Strategies by name, as channels configure them (`nearest>split`).
public enum RoutingRegistry {
    public static let strategies: [String: any RoutingStrategy] = [
        "nearest": NearestStrategy(),
        "cheapest": CheapestStrategy(),
        "split": SplitStrategy(),
        "priority": PriorityStrategy(),
    ]

    /// The strategy or chain a spec names: one name, or names joined by `>`.
    public static func strategy(named spec: String) throws(UnknownStrategy) -> any RoutingStrategy {
        let names = spec.split(separator: ">", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        var links: [any RoutingStrategy] = []
        for name in names {
            guard let strategy = strategies[name] else { throw UnknownStrategy(name: name) }
            links.append(strategy)
        }
        return links.count == 1 ? links[0] : RoutingChain(links)
    }
}

/// A routing strategy name that does not exist.
public struct UnknownStrategy: Error, Hashable, Sendable, CustomStringConvertible {
    public static let code = "UNKNOWN_STRATEGY"
    public var name: String

    public init(name: String) {
        self.name = name
    }

    public var description: String {
        "unknown routing strategy '\(name)' (known: \(RoutingRegistry.strategies.keys.sorted().joined(separator: ", ")))"
    }
}
