import ArgumentParser
import Foundation
import OrderlyBenchmarks
import OrderlyCommands

/// `orderly`'s commands, with `bench`.
struct OrderlyMain: AsyncParsableCommand {
    static let configuration: CommandConfiguration = {
        var configuration = OrderlyCommand.configuration
        configuration.subcommands.insert(BenchCommand.self, at: configuration.subcommands.count - 1)
        return configuration
    }()
}

@main
enum Main {
    static func main() async {
        let arguments: [String]
        do {
            arguments = try EnvironmentFallback.arguments(
                Array(CommandLine.arguments.dropFirst()),
                root: OrderlyMain.self,
                environment: ProcessInfo.processInfo.environment
            )
        } catch {
            OrderlyMain.exit(withError: error)
        }
        await OrderlyMain.main(arguments)
    }
}
