import OrderlyAdminProtocol
import Testing

struct CommandTableTests {
    let table = CommandTable.standard

    func bind(_ line: String) throws(AdminError) -> BoundCommand {
        guard let request = try AdminRequest.parse(Array(line.utf8)) else {
            throw AdminError(.syntax, "blank")
        }
        return try table.bind(request)
    }

    func error(_ line: String) -> AdminError? {
        do {
            _ = try bind(line)
            return nil
        } catch {
            return error
        }
    }

    @Test func positionalAndNamedArguments() throws {
        let show = try bind("order show 42")
        #expect(show.spec.name == "ORDER SHOW")
        #expect(try show.int(required: "id") == 42)
        #expect(try bind("ORDER SHOW id=42").int(required: "id") == 42)
        let cancel = try bind(#"@c1 ORDER CANCEL 7 reason="customer asked" idem=k-1"#)
        #expect(cancel.tag == "c1")
        #expect(try cancel.text(required: "reason") == "customer asked")
        #expect(try cancel.text(optional: "idem") == "k-1")
        let create = try bind(
            "ORDER CREATE channel=web external_id=A-1 currency=EUR lines=SKU-1:2:1999,SKU-2:1:500 name=Ada line1=x city=Berlin country=DE"
        )
        #expect(create.arguments["lines"]?.lines?.map(\.quantity) == [2, 1])
        #expect(try bind("AUTH alice s3cret").text(required: "secret") == "s3cret")
    }

    @Test(arguments: [
        "", "-1", "0", "1e3", "0x10", "9223372036854775808", String(repeating: "9", count: 40), "+5", "05", " 5",
    ])
    func quantitiesAreCheckedAndNamed(qty: String) {
        let line = "STOCK RECEIVE warehouse=1 sku=1 qty=\(AdminQuoting.quote(qty))"
        let refusal = error(line)
        #expect(refusal?.code == .badArgument, "\(qty)")
        #expect(refusal?.message.contains("qty") == true, "\(String(describing: refusal))")
    }

    @Test func linesAreCheckedPerPart() {
        let base = "ORDER CREATE channel=web external_id=A currency=EUR name=A line1=B city=C country=DE lines="
        #expect(error(base + "SKU:0:1")?.message.contains("line 1 qty") == true)
        #expect(error(base + "SKU:1:1,SKU:1")?.message.contains("line 2") == true)
        #expect(error(base + "SKU:1:99999999999999")?.message.contains("price") == true)
        #expect(error(base + "SKU:1:-5")?.code == .badArgument)
    }

    @Test func unknownMissingDuplicateAndUnexpected() {
        #expect(error("FROBNICATE")?.code == .unknownCommand)
        #expect(error("ORDER")?.code == .unknownCommand)
        #expect(error("ORDER FROB 1")?.code == .unknownCommand)
        #expect(error("ORDER SHOW")?.message == "ORDER SHOW needs id")
        #expect(error("ORDER SHOW 1 2")?.message.contains("unexpected value") == true)
        #expect(error("ORDER SHOW 1 id=2")?.message == "id is given twice")
        #expect(error("ORDER SHOW 1 color=red")?.message.contains("has no argument 'color'") == true)
        #expect(error("ORDER SHOW abc")?.code == .badArgument)
        #expect(error("\"PING\"")?.code == .syntax)
        #expect(error("k=v")?.code == .syntax)
        #expect(error("HELLO format=xml")?.message.contains("format") == true)
        #expect(
            error("WAREHOUSE ADD code=W name=n lat=91 lon=0 line1=a city=b country=DE")?.message.contains("lat") == true
        )
    }

    @Test func mutatingCommandsTakeAnIdempotencyKeyAndRolesAreDeclared() {
        for spec in table.commands where spec.mutating {
            #expect(spec.arguments.contains { $0.name == "idem" }, "\(spec.name)")
            #expect(spec.role != nil && spec.role! >= .operator, "\(spec.name)")
        }
        let open = Set(table.commands.filter { $0.role == nil }.map(\.name))
        #expect(open == ["HELLO", "AUTH", "PING", "HELP", "QUIT"])
        #expect(AdminRole.readonly < .operator && AdminRole.operator < .admin)
    }

    @Test func helpComesFromTheTable() throws {
        guard case .rows(let all) = try table.help(verb: nil, sub: nil) else {
            Issue.record("not rows")
            return
        }
        #expect(all.count == table.commands.count)
        guard case .rows(let one) = try table.help(verb: "order", sub: "create") else {
            Issue.record("not rows")
            return
        }
        #expect(one[0].contains(AdminField("command", "ORDER CREATE")))
        #expect(one.count == 1 + (table.command("ORDER CREATE")?.arguments.count ?? 0))
        guard case .rows(let family) = try table.help(verb: "STOCK", sub: nil) else {
            Issue.record("not rows")
            return
        }
        #expect(family.count == 6)
        #expect(throws: AdminError.self) { try table.help(verb: "NOPE", sub: nil) }
    }
}
