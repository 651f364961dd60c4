import ArgumentParser
import OrderlyCommands

/// Runs `orderly ARGUMENTS...` in this process, as the executable would.
func runOrderly(_ arguments: [String]) async throws {
    var command = try OrderlyCommand.parseAsRoot(arguments)
    if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
    } else {
        try command.run()
    }
}
