import ArgumentParser
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
        await OrderlyMain.main(nil)
    }
}
