import OrderlyAdminProtocol
import Testing

@testable import OrderlyCommands

struct AdminRenderingTests {
    static func lines(_ reply: AdminReply) -> [String] {
        reply.encoded(.text, tag: nil).split(separator: "\n").map(String.init)
    }

    @Test func helpForOneCommandFitsA100ColumnTerminalWithOneArgumentALine() throws {
        let reply = try CommandTable.standard.help(verb: "ORDER", sub: "CREATE")
        let text = AdminRendering.render(Self.lines(reply), for: "HELP ORDER CREATE", width: 100)
        let printed = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(printed.allSatisfy { $0.count <= 100 }, "\(printed.filter { $0.count > 100 })")
        let spec = try #require(CommandTable.standard.command("ORDER CREATE"))
        for argument in spec.arguments {
            #expect(printed.contains { $0.hasPrefix(argument.name + " ") }, "\(argument.name) has no line of its own")
        }
        #expect(printed.contains { $0.hasPrefix("command:") && $0.contains("ORDER CREATE") })
    }

    @Test func checkPrintsWhatOrderlyCheckPrints() {
        let clean = [
            "OK rows=4",
            "invariant=1 holds=true violations=0 rule=x",
            "invariant=2 holds=true violations=0 rule=x",
            "invariant=3 holds=true violations=0 rule=x",
            "invariant=4 holds=true violations=0 rule=x orders_checked=12",
            "END",
        ]
        #expect(
            AdminRendering.render(clean, for: "CHECK", width: 100)
                == CheckCommand.lines(violations: [], ordersChecked: 12).joined(separator: "\n")
        )
        let broken = [
            "OK rows=5",
            "invariant=1 holds=true violations=0 rule=x",
            "invariant=2 holds=false violations=1 rule=x",
            "invariant=3 holds=true violations=0 rule=x",
            "invariant=4 holds=true violations=0 rule=x orders_checked=3",
            "invariant=2 detail=\"inventory (1, 2): on_hand 5, ledger 4\"",
            "END",
        ]
        #expect(
            AdminRendering.render(broken, for: "check", width: 100)
                == "invariant 2: inventory (1, 2): on_hand 5, ledger 4\n1 violations"
        )
    }

    @Test func wrappingKeepsWordsAndCutsOnlyWhatCannotFit() {
        #expect(AdminRendering.wrap("a bb ccc dddd", to: 6) == ["a bb", "ccc", "dddd"])
        #expect(AdminRendering.wrap(String(repeating: "x", count: 10), to: 4) == ["xxxx", "xxxx", "xx"])
    }
}
