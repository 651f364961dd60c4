import ArgumentParser
struct BenchCommand: AsyncParsableCommand { static let configuration = CommandConfiguration(commandName: "bench", abstract: "x")
func run() async throws {} }
