import OrderlyAdminProtocol
import PropertyBased
import Testing

struct RequestTests {
    func parse(_ line: String) throws(AdminError) -> AdminRequest? { try AdminRequest.parse(Array(line.utf8)) }

    func code(_ bytes: [UInt8]) -> AdminError.Code? {
        do {
            _ = try AdminRequest.parse(bytes)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func wordsKeysTagsAndQuotes() throws {
        let request = try #require(try parse(#"@t-1 order create channel=web note="two words" "pos""#))
        #expect(request.tag == "t-1")
        #expect(
            request.tokens == [
                AdminToken(value: "order"), AdminToken(value: "create"), AdminToken(key: "channel", value: "web"),
                AdminToken(key: "note", value: "two words", quoted: true), AdminToken(value: "pos", quoted: true),
            ]
        )
        // Tabs and runs of spaces separate; a final CR (CRLF) is dropped.
        #expect(try parse("PING\t  x\r")?.tokens.map(\.value) == ["PING", "x"])
        #expect(try parse(#"A k="\\ \" \n \r \t \x41 é""#)?.tokens[1].value == "\\ \" \n \r \t A é")
        #expect(try parse(#"A k="""#)?.tokens[1].value == "")
        #expect(try parse("A k=")?.tokens[1] == AdminToken(key: "k", value: ""))
    }

    @Test func blankLinesAreIgnored() throws {
        #expect(try parse("") == nil)
        #expect(try parse("   \t ") == nil)
        #expect(try parse("\r") == nil)
    }

    @Test func lineLengthLimit() throws {
        let atLimit = "PING " + String(repeating: "x", count: AdminLimits.maximumLineLength - 5)
        #expect(try parse(atLimit) != nil)
        #expect(code(Array((atLimit + "x").utf8)) == .lineTooLong)
    }

    @Test(arguments: [
        "PING\rx",  // a CR in the middle
        "PING \u{0}",  // NUL
        "PING \u{1B}[2J",  // escape sequence
        "PING \u{7F}",
        "A \"abc",  // unterminated
        "A \"a\"b",  // glued after the closing quote
        "A \"abc\\",  // backslash at the end
        "A \"\\xZZ\"",  // bad hex
        "A \"\\q\"",  // unknown escape
        "A \"\\x00\"",  // NUL by escape
        "A \"\\xFF\"",  // not UTF-8 once unescaped
        "A a\"b",  // quote inside a bare value
        "A k=a=b",  // second =
        "A Key=1",  // keys are lower case
        "A 1k=1",
        "@ PING",  // empty tag
        "@tag",  // tag without command
        "@bad/tag PING",
    ])
    func syntaxErrors(line: String) {
        #expect(code(Array(line.utf8)) == .syntax, "\(line.debugDescription)")
    }

    @Test func invalidUTF8IsSyntax() {
        #expect(code([0x50, 0x49, 0x4E, 0x47, 0x20, 0xC3, 0x28]) == .syntax)
        #expect(code([0x41, 0x20, 0xFF]) == .syntax)
        #expect(code([0x41, 0x20, 0xED, 0xA0, 0x80]) == .syntax)  // an encoded surrogate
    }

    @Test func tooManyArgumentsStopsEarly() {
        let line = "SKU LIST " + Array(repeating: "x", count: 10_000).joined(separator: " ")
        #expect(code(Array(line.utf8)) == .tooManyArguments)
        #expect(throws: AdminError.self) {
            try AdminRequest.parse(
                Array("AUTH a b c d e f g h i j".utf8),
                maximumTokens: AdminLimits.maximumArgumentsBeforeAuth + 2
            )
        }
    }

    @Test func quotingRoundTrips() async {
        let values = Gen.character(in: "\u{1}"..."\u{3000}").string(of: 0...30)
        await propertyCheck(count: 500, input: values) { value in
            let quoted = AdminQuoting.quote(value)
            let request = try #require(try AdminRequest.parse(Array("X k=\(quoted)".utf8)))
            #expect(request.tokens[1].value == value)
            #expect(request.tokens[1].key == "k")
        }
    }

    @Test func quotingIsBareOnlyWhenSafe() {
        #expect(AdminQuoting.quote("SKU-1") == "SKU-1")
        #expect(AdminQuoting.quote("") == "\"\"")
        #expect(AdminQuoting.quote("a b") == "\"a b\"")
        #expect(AdminQuoting.quote("a=b") == "\"a=b\"")
        #expect(AdminQuoting.quote("line\nbreak\u{1}") == "\"line\\nbreak\\x01\"")
        #expect(AdminQuoting.quote("Köln") == "Köln")
    }
}
