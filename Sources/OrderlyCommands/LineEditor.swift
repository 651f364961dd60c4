import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A key of the interactive client's line editor.
enum EditorKey: Equatable {
    case character(Character)
    case backspace, delete, left, right, home, end, up, down, enter, cancel, endOfInput
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
            if line.isEmpty { return .endOfInput }
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

/// Reads lines from a terminal with editing and history (arrows, Home/End, Ctrl-A/E/C/D), keeping
/// the history in a 0600 file. AUTH lines are never written to it.
final class LineEditor {
    private var state: LineEditingState
    private let historyPath: String?
    private var original = termios()

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
        var raw = original
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        defer { tcsetattr(STDIN_FILENO, TCSANOW, &original) }
        redraw(prompt)
        while let key = nextKey() {
            switch state.apply(key) {
            case .editing:
                redraw(prompt)
            case .submitted(let line):
                write("\n")
                remember(line)
                return line
            case .cancelled:
                write("^C\n")
                redraw(prompt)
            case .endOfInput:
                write("\n")
                return nil
            }
        }
        return nil
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

    private func redraw(_ prompt: String) {
        let back = state.line.count - state.cursor
        write("\r\u{1B}[2K" + prompt + state.text + (back > 0 ? "\u{1B}[\(back)D" : ""))
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
        switch first {
        case 0x0A, 0x0D: return .enter
        case 0x7F, 0x08: return .backspace
        case 0x03: return .cancel
        case 0x04: return .endOfInput
        case 0x01: return .home
        case 0x05: return .end
        case 0x1B:
            guard byte() == UInt8(ascii: "[") else { return nextKey() }
            switch byte() {
            case UInt8(ascii: "A"): return .up
            case UInt8(ascii: "B"): return .down
            case UInt8(ascii: "C"): return .right
            case UInt8(ascii: "D"): return .left
            case UInt8(ascii: "H"): return .home
            case UInt8(ascii: "F"): return .end
            case UInt8(ascii: "3"):
                _ = byte()  // "~"
                return .delete
            default: return nextKey()
            }
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
