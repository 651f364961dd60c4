import OrderlyCommands

@main
enum OrderlyMain {
    static func main() async {
        await OrderlyCommand.main(nil)
    }
}
