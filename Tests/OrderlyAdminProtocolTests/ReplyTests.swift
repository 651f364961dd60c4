import OrderlyAdminProtocol
import Testing

struct ReplyTests {
    @Test func textReplies() {
        #expect(AdminReply.ok(AdminField("pong", true)).encoded(.text, tag: nil) == "OK pong=true\n")
        #expect(
            AdminReply.ok([AdminField("name", "Two words"), AdminField("id", 5)]).encoded(.text, tag: "t")
                == "@t OK name=\"Two words\" id=5\n"
        )
        #expect(
            AdminReply.rows([[AdminField("a", 1)], [AdminField("a", 2)]]).encoded(.text, tag: nil)
                == "OK rows=2\na=1\na=2\nEND\n"
        )
        #expect(
            AdminReply.error(AdminError(.badArgument, "qty: bad\nvalue")).encoded(.text, tag: "x")
                == "@x ERR BAD_ARG qty: bad value\n"
        )
        #expect(AdminReply.ok(AdminField("note", nil as String?)).encoded(.text, tag: nil) == "OK note=\"\"\n")
    }

    @Test func jsonReplies() {
        #expect(
            AdminReply.ok([AdminField("id", 5), AdminField("name", "a\"b\n"), AdminField("x", nil as String?)])
                .encoded(.json, tag: "t") == #"{"tag":"t","ok":true,"fields":{"id":5,"name":"a\"b\n","x":null}}"# + "\n"
        )
        #expect(
            AdminReply.rows([[AdminField("ok", true)]]).encoded(.json, tag: nil)
                == #"{"ok":true,"rows":[{"ok":true}]}"# + "\n"
        )
        #expect(
            AdminReply.error(AdminError(.notFound, "order 9 does not exist")).encoded(.json, tag: nil)
                == #"{"ok":false,"code":"NOT_FOUND","message":"order 9 does not exist"}"# + "\n"
        )
    }

    @Test func replyLinesPasteBackAsArguments() throws {
        let fields = [AdminField("note", "say \"hi\"\tnow"), AdminField("city", "Köln"), AdminField("n", -3)]
        let line = AdminReply.ok(fields).encoded(.text, tag: nil).dropFirst(3).dropLast()
        let request = try #require(try AdminRequest.parse(Array(("X " + line).utf8)))
        #expect(request.tokens.dropFirst().map(\.value) == ["say \"hi\"\tnow", "Köln", "-3"])
    }
}
