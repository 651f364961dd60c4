import Testing

@testable import OrderlyCommands

struct LineEditorTests {
    func type(_ text: String, into state: inout LineEditingState) {
        for character in text { _ = state.apply(.character(character)) }
    }

    @Test func editingMovesAndDeletes() {
        var state = LineEditingState(history: [])
        type("PNG", into: &state)
        _ = state.apply(.left)
        _ = state.apply(.left)
        type("I", into: &state)
        #expect(state.text == "PING")
        _ = state.apply(.end)
        _ = state.apply(.backspace)
        _ = state.apply(.home)
        _ = state.apply(.delete)
        #expect(state.text == "IN")
        type("ö", into: &state)
        #expect(state.text == "öIN")
        #expect(state.apply(.enter) == .submitted("öIN"))
        #expect(state.text.isEmpty)
    }

    @Test func historyBrowsesAndKeepsTheDraft() {
        var state = LineEditingState(history: ["ORDER SHOW 1", "PING"])
        type("HEL", into: &state)
        _ = state.apply(.up)
        #expect(state.text == "PING")
        _ = state.apply(.up)
        #expect(state.text == "ORDER SHOW 1")
        _ = state.apply(.up)  // stays at the oldest
        #expect(state.text == "ORDER SHOW 1")
        _ = state.apply(.down)
        _ = state.apply(.down)
        #expect(state.text == "HEL")
        _ = state.apply(.up)
        #expect(state.apply(.enter) == .submitted("PING"))
        // A repeat of the last entry is not added twice; blank lines never.
        #expect(state.history == ["ORDER SHOW 1", "PING"])
        _ = state.apply(.enter)
        #expect(state.history.count == 2)
    }

    @Test func cancelAndEndOfInput() {
        var state = LineEditingState(history: [])
        type("abc", into: &state)
        #expect(state.apply(.endOfInput) == .editing)  // Ctrl-D on a non-empty line does nothing
        #expect(state.apply(.cancel) == .cancelled)
        #expect(state.apply(.endOfInput) == .endOfInput)
    }

    @Test func commandLineWordsBecomeARequestLine() {
        #expect(AdminClient.line(from: ["ORDER", "SHOW", "42"]) == "ORDER SHOW 42")
        #expect(
            AdminClient.line(from: ["ORDER", "HOLD", "7", "note=call the customer"])
                == "ORDER HOLD 7 note=\"call the customer\""
        )
        #expect(AdminClient.line(from: ["x=a=b"]) == "x=\"a=b\"")
    }
}

struct LineEditorKeyTests {
    func typed(_ text: String) -> LineEditingState {
        var state = LineEditingState(history: [])
        for character in text { _ = state.apply(.character(character)) }
        return state
    }

    @Test func killAndWordKeysEditAroundTheCursor() {
        var state = typed("ORDER SHOW 42")
        for _ in 0..<3 { _ = state.apply(.left) }
        _ = state.apply(.killToEnd)
        #expect(state.text == "ORDER SHOW")
        _ = state.apply(.deleteWord)
        #expect(state.text == "ORDER ")
        type("LIST", into: &state)
        _ = state.apply(.left)
        _ = state.apply(.killToStart)
        #expect(state.text == "T" && state.cursor == 0)
        // Ctrl-D deletes under the cursor on a line with text; it ends input only on an empty one.
        #expect(state.apply(.endOfInput) == .editing)
        #expect(state.text.isEmpty)
        #expect(state.apply(.endOfInput) == .endOfInput)
    }

    func type(_ text: String, into state: inout LineEditingState) {
        for character in text { _ = state.apply(.character(character)) }
    }

    @Test func controlBytesAndEscapeSequencesMapToKeys() {
        #expect(EditorKey.control(0x03) == .cancel)
        #expect(EditorKey.control(0x04) == .endOfInput)
        #expect(EditorKey.control(0x02) == .left && EditorKey.control(0x06) == .right)
        #expect(EditorKey.control(0x10) == .up && EditorKey.control(0x0E) == .down)
        #expect(EditorKey.control(0x0B) == .killToEnd && EditorKey.control(0x15) == .killToStart)
        #expect(EditorKey.control(0x17) == .deleteWord && EditorKey.control(0x0C) == .clearScreen)
        // Home and End as xterm, VT220, rxvt and application mode send them.
        for (parameters, final) in [("", "H"), ("1", "~"), ("7", "~")] {
            #expect(EditorKey.escape(parameters: Array(parameters.utf8), final: Array(final.utf8)[0]) == .home)
        }
        for (parameters, final) in [("", "F"), ("4", "~"), ("8", "~")] {
            #expect(EditorKey.escape(parameters: Array(parameters.utf8), final: Array(final.utf8)[0]) == .end)
        }
        #expect(EditorKey.escape(parameters: Array("3".utf8), final: UInt8(ascii: "~")) == .delete)
        #expect(EditorKey.escape(parameters: Array("5".utf8), final: UInt8(ascii: "~")) == nil)
    }

    @Test func aLongLineWrapsAndTheCursorIsPlacedOnItsRow() {
        // "orderly> " is 9 columns; 100 characters on an 80-column terminal take two rows.
        let end = LineLayout(promptLength: 9, lineLength: 100, cursor: 100, width: 80)
        #expect(end == LineLayout(rows: 2, cursorRow: 1, cursorColumn: 29))
        let home = LineLayout(promptLength: 9, lineLength: 100, cursor: 0, width: 80)
        #expect(home.rows == 2 && home.cursorRow == 0 && home.cursorColumn == 9)
        // Exactly filling a row starts the next one (the cursor sits there).
        let full = LineLayout(promptLength: 9, lineLength: 71, cursor: 71, width: 80)
        #expect(full.rows == 2 && full.cursorRow == 1 && full.cursorColumn == 0)
    }
}
