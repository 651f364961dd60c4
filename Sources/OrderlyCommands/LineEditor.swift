import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A key of the interactive client's line editor.
enum EditorKey: Equatable {
    case character(Character)
    case backspace, delete, left, right, home, end, up, down, enter, cancel, endOfInput
    /// Ctrl-K, Ctrl-U, Ctrl-W: delete to the end, to the start, the word before the cursor.
    case killToEnd, killToStart, deleteWord
    /// Ctrl-L: clear the screen (the terminal's part; the line stays).
    case clearScreen
}

/// The line being edited and the history, without any terminal: what each key does.
struct LineEditingState {
    private(set) var line: [Character] = []
    private(set) var cursor = 0
    private(set) var history: [String]
    /// Position in history while browsing with up/down; `history.count` is the line being typed.
    private var browsing: Int
    private var draft: [Character] = []

    init(history: [String]) {
        self.history = history
        self.browsing = history.count
    }

    var text: String { String(line) }

    enum Outcome: Equatable {
        case editing
        case submitted(String)
        case cancelled, endOfInput
    }

    mutating func apply(_ key: EditorKey) -> Outcome {
        switch key {
        case .character(let character):
            line.insert(character, at: cursor)
            cursor += 1
        case .backspace:
            if cursor > 0 {
                line.remove(at: cursor - 1)
                cursor -= 1
            }
        case .delete:
            if cursor < line.count { line.remove(at: cursor) }
        case .left: cursor = max(0, cursor - 1)
        case .right: cursor = min(line.count, cursor + 1)
        case .home: cursor = 0
        case .end: cursor = line.count
        case .up:
            guard browsing > 0 else { break }
            if browsing == history.count { draft = line }
            browsing -= 1
            line = Array(history[browsing])
            cursor = line.count
        case .down:
            guard browsing < history.count else { break }
            browsing += 1
            line = browsing == history.count ? draft : Array(history[browsing])
            cursor = line.count
        case .enter:
            let submitted = text
            if !submitted.trimmingCharacters(in: .whitespaces).isEmpty && history.last != submitted {
                history.append(submitted)
            }
            reset()
            return .submitted(submitted)
        case .cancel:
            reset()
            return .cancelled
        case .endOfInput:
            // As readline: Ctrl-D ends input on an empty line, and deletes under the cursor otherwise.
            if line.isEmpty { return .endOfInput }
            if cursor < line.count { line.remove(at: cursor) }
        case .killToEnd:
            line.removeSubrange(cursor...)
        case .killToStart:
            line.removeSubrange(..<cursor)
            cursor = 0
        case .deleteWord:
            var start = cursor
            while start > 0 && line[start - 1] == " " { start -= 1 }
            while start > 0 && line[start - 1] != " " { start -= 1 }
            line.removeSubrange(start..<cursor)
            cursor = start
        case .clearScreen:
            break
        }
        return .editing
    }

    private mutating func reset() {
        line = []
        cursor = 0
        draft = []
        browsing = history.count
    }
}

/// Where the cursor must go to redraw a line that may wrap: pure arithmetic on columns, so it is
/// tested without a terminal. Every character counts one column (wide characters are not measured).
struct LineLayout: Equatable {
    init(rows: Int, cursorRow: Int, cursorColumn: Int) {
        (self.rows, self.cursorRow, self.cursorColumn) = (rows, cursorRow, cursorColumn)
    }

    /// Rows the prompt and line take.
    var rows: Int
    /// The cursor's row (from 0, the prompt's row) and column.
    var cursorRow: Int
    var cursorColumn: Int

    init(promptLength: Int, lineLength: Int, cursor: Int, width: Int) {
        let width = max(1, width)
        let end = promptLength + lineLength
        rows = end / width + 1
        cursorRow = (promptLength + cursor) / width
        cursorColumn = (promptLength + cursor) % width
    }
}

/// The terminal's settings before raw mode, restored on every way out: a normal return, an error,
/// exit(), and the signals that end a process (the shell, dash or bash, does not restore them).
private enum TerminalRestore {
    nonisolated(unsafe) static var saved: termios?
    nonisolated(unsafe) static var installed = false

    static func install(_ original: termios) {
        saved = original
        guard !installed else { return }
        installed = true
        atexit { TerminalRestore.restore() }
        for signal in [SIGTERM, SIGHUP, SIGQUIT, SIGINT] {
            Glibc.signal(signal) { number in
                TerminalRestore.restore()
                Glibc.signal(number, SIG_DFL)
                raise(number)
            }
        }
    }

    static func restore() {
        guard var original = saved else { return }
        tcsetattr(STDIN_FILENO, TCSANOW, &original)
    }
}

/// Reads lines from a terminal with editing and history (arrows, Home/End, the usual Ctrl keys), keeping
/// the history in a 0600 file. AUTH lines are never written to it.
///
/// Hand-written rather than libedit or linenoise from Debian: no system library for the image and CI
/// to install, and what each key does is `LineEditingState`, tested without a terminal.
final class LineEditor {
    private var state: LineEditingState
    private let historyPath: String?
    private var original = termios()
    /// The rows and cursor row of what is on screen, to redraw over it.
    private var shown = LineLayout(promptLength: 0, lineLength: 0, cursor: 0, width: 80)

    init(historyPath: String?) {
        self.historyPath = historyPath
        var loaded: [String] = []
        if let historyPath, let text = try? String(contentsOfFile: historyPath, encoding: .utf8) {
            loaded = text.split(separator: "\n").suffix(1000).map(String.init)
        }
        state = LineEditingState(history: loaded)
    }

    /// One line, or nil at end of input.
    func readLine(prompt: String) -> String? {
        tcgetattr(STDIN_FILENO, &original)
        TerminalRestore.install(original)
        var raw = original
        // No canonical mode, no echo, and no signals from keys: Ctrl-C arrives as a byte and clears the line.
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL)
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        defer { tcsetattr(STDIN_FILENO, TCSANOW, &original) }
        shown = LineLayout(promptLength: 0, lineLength: 0, cursor: 0, width: Self.width())
        redraw(prompt)
        while let key = nextKey() {
            switch state.apply(key) {
            case .editing:
                if key == .clearScreen {
                    write("\u{1B}[H\u{1B}[2J")
                    shown = LineLayout(promptLength: 0, lineLength: 0, cursor: 0, width: Self.width())
                }
                redraw(prompt)
            case .submitted(let line):
                moveToEnd()
                write("\r\n")
                remember(line)
                return line
            case .cancelled:
                moveToEnd()
                write("^C\r\n")
                shown = LineLayout(promptLength: 0, lineLength: 0, cursor: 0, width: Self.width())
                redraw(prompt)
            case .endOfInput:
                moveToEnd()
                write("\r\n")
                return nil
            }
        }
        return nil
    }

    private static func width() -> Int {
        var size = winsize()
        return ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }

    private func remember(_ line: String) {
        guard let historyPath, !line.uppercased().hasPrefix("AUTH"), !line.trimmingCharacters(in: .whitespaces).isEmpty
        else { return }
        let fd = open(historyPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    /// Draws the prompt and line over what was shown: up to its first row, clear to the end of the
    /// screen, print, then put the cursor where it belongs. A long line wraps; nothing is printed twice.
    private func redraw(_ prompt: String) {
        let layout = LineLayout(
            promptLength: prompt.count,
            lineLength: state.line.count,
            cursor: state.cursor,
            width: Self.width()
        )
        var out = shown.cursorRow > 0 ? "\u{1B}[\(shown.cursorRow)A" : ""
        out += "\r\u{1B}[J" + prompt + state.text
        let endColumn = (prompt.count + state.line.count) % max(1, Self.width())
        // At the very end of a full row the terminal waits to wrap: make it wrap now.
        if endColumn == 0 && prompt.count + state.line.count > 0 { out += "\r\n" }
        let up = (layout.rows - 1) - layout.cursorRow
        if up > 0 { out += "\u{1B}[\(up)A" }
        out += "\r" + (layout.cursorColumn > 0 ? "\u{1B}[\(layout.cursorColumn)C" : "")
        write(out)
        shown = layout
    }

    private func moveToEnd() {
        let down = (shown.rows - 1) - shown.cursorRow
        if down > 0 { write("\u{1B}[\(down)B") }
    }

    private func write(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }

    private func byte() -> UInt8? {
        var value: UInt8 = 0
        return read(STDIN_FILENO, &value, 1) == 1 ? value : nil
    }

    private func nextKey() -> EditorKey? {
        guard let first = byte() else { return .endOfInput }
        if let key = EditorKey.control(first) { return key }
        switch first {
        case 0x1B:
            // CSI (ESC [) or SS3 (ESC O) sequences: arrows, Home/End in their several spellings, Delete.
            let introducer = byte()
            guard introducer == UInt8(ascii: "[") || introducer == UInt8(ascii: "O") else { return nextKey() }
            var parameters: [UInt8] = []
            while let next = byte() {
                if (0x40...0x7E).contains(next) {
                    return EditorKey.escape(parameters: parameters, final: next) ?? nextKey()
                }
                parameters.append(next)
                if parameters.count > 8 { break }
            }
            return nextKey()
        case 0x00..<0x20: return nextKey()
        default:
            // A UTF-8 sequence: its length is in the first byte.
            let length = first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : first >= 0xC0 ? 2 : 1
            var bytes = [first]
            for _ in 1..<length { if let next = byte() { bytes.append(next) } }
            guard let character = String(validating: bytes, as: UTF8.self)?.first else { return nextKey() }
            return .character(character)
        }
    }
}

extension EditorKey {
    /// The key a control byte stands for (Enter, Backspace, the Ctrl keys), or nil.
    static func control(_ byte: UInt8) -> EditorKey? {
        switch byte {
        case 0x0A, 0x0D: .enter
        case 0x7F, 0x08: .backspace
        case 0x03: .cancel
        case 0x04: .endOfInput
        case 0x01: .home
        case 0x05: .end
        case 0x02: .left
        case 0x06: .right
        case 0x10: .up
        case 0x0E: .down
        case 0x0B: .killToEnd
        case 0x15: .killToStart
        case 0x17: .deleteWord
        case 0x0C: .clearScreen
        default: nil
        }
    }

    /// The key an escape sequence stands for: `ESC [ A` (or `ESC O A`) and the rest, `ESC [ 1 ~` ...
    static func escape(parameters: [UInt8], final: UInt8) -> EditorKey? {
        switch (String(decoding: parameters, as: UTF8.self), Character(Unicode.Scalar(final))) {
        case ("", "A"): .up
        case ("", "B"): .down
        case ("", "C"): .right
        case ("", "D"): .left
        case ("", "H"), ("1", "~"), ("7", "~"): .home
        case ("", "F"), ("4", "~"), ("8", "~"): .end
        case ("3", "~"): .delete
        default: nil
        }
    }
}
