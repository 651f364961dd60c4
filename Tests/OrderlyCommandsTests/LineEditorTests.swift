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
