public import ArgumentParser

/// Every option and flag falls back to an environment variable (12-factor): `orderly serve
/// --max-clients` reads `ORDERLY_MAX_CLIENTS` when the command line does not give it. The command
/// line wins; the variables fill in what it leaves out, before parsing, so a bad value gets the same
/// error a bad flag would (with the variable's name). The options are found by reflecting the
/// command's own declarations, so a new option gets its variable without a list to keep.
public enum EnvironmentFallback {
    /// `arguments` (without the executable) with the environment's values added for options of the
    /// command they name that they leave out.
    public static func arguments(
        _ arguments: [String],
        root: any ParsableCommand.Type,
        environment: [String: String]
    ) throws -> [String] {
        var command = root
        var index = 0
        while index < arguments.count,
            let sub = command.configuration.subcommands.first(where: { $0._commandName == arguments[index] })
        {
            command = sub
            index += 1
        }
        let given = arguments[index...].prefix { $0 != "--" }
        var added: [String] = []
        for option in options(of: command) {
            let variable = variable(for: option.name)
            guard let value = environment[variable] else { continue }
            let flag = "--\(option.name)"
            if given.contains(where: { $0 == flag || (!option.isFlag && $0.hasPrefix(flag + "=")) }) { continue }
            if option.isFlag {
                switch value.lowercased() {
                case "1", "true", "yes", "on": added.append("--\(option.name)")
                case "0", "false", "no", "off", "": break
                default:
                    throw ValidationError("\(variable) must be true or false (1/0, yes/no, on/off), not '\(value)'")
                }
            } else {
                added.append("--\(option.name)=\(value)")
            }
        }
        return Array(arguments[..<index]) + added + Array(arguments[index...])
    }

    /// The variable an option's long name falls back to: `--max-clients` → `ORDERLY_MAX_CLIENTS`.
    public static func variable(for name: String) -> String {
        "ORDERLY_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 })
    }

    /// The long names of a command's options and flags, option groups included.
    public static func options(of command: any ParsableCommand.Type) -> [(name: String, isFlag: Bool)] {
        options(in: Mirror(reflecting: command.init()))
    }

    static func options(in mirror: Mirror) -> [(name: String, isFlag: Bool)] {
        var found: [(name: String, isFlag: Bool)] = []
        for child in mirror.children {
            guard let label = child.label, label.hasPrefix("_") else { continue }
            if let group = child.value as? any ReflectableOptionGroup {
                found += options(in: Mirror(reflecting: group.freshValue))
                continue
            }
            let kind = String(describing: type(of: child.value))
            guard kind.hasPrefix("Option<") || kind.hasPrefix("Flag<") else { continue }
            found.append((kebabCase(String(label.dropFirst())), kind.hasPrefix("Flag<")))
        }
        return found
    }

    /// ArgumentParser's default long name for a property: `maxClients` → `max-clients`,
    /// `databaseURL` → `database-url`.
    static func kebabCase(_ name: String) -> String {
        let characters = Array(name)
        var words = ""
        for (i, character) in characters.enumerated() {
            if character.isUppercase, i > 0 {
                let previousLower = characters[i - 1].isLowercase || characters[i - 1].isNumber
                let nextLower = i + 1 < characters.count && characters[i + 1].isLowercase
                if previousLower || (characters[i - 1].isUppercase && nextLower) { words.append("-") }
            }
            words.append(character.lowercased())
        }
        return words
    }
}

/// An option group whose options the fallback can see before parsing.
protocol ReflectableOptionGroup {
    var freshValue: Any { get }
}

extension OptionGroup: ReflectableOptionGroup {
    var freshValue: Any { Value() }
}
