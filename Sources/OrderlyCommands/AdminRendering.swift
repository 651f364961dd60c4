import Foundation
import OrderlyAdminProtocol

/// How `orderly admin` prints replies for a person: row sets as aligned tables, one table per run
/// of rows with the same fields (a show's head, then its lines), a lone row as `field: value` lines,
/// the last column wrapped to the terminal's width; CHECK as `orderly check` prints it.
enum AdminRendering {
    /// The terminal's columns, or 100 when standard output is not a terminal.
    static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { return Int(size.ws_col) }
        return 100
    }

    static func render(_ reply: [String], for request: String, width: Int) -> String {
        guard reply.count >= 2, reply.first?.hasPrefix("OK rows=") == true, reply.last == "END" else {
            return reply.joined(separator: "\n")
        }
        let rows: [[(String, String)]] = reply.dropFirst().dropLast().map { line in
            guard let parsed = try? AdminRequest.parse(Array(("X " + line).utf8)) else { return [("", line)] }
            return parsed.tokens.dropFirst().map { ($0.key ?? "", $0.value) }
        }
        if isCheck(request) { return check(rows) }
        var groups: [[[(String, String)]]] = []
        for row in rows {
            if let last = groups.last?.last, last.map(\.0) == row.map(\.0) {
                groups[groups.count - 1].append(row)
            } else {
                groups.append([row])
            }
        }
        var out: [String] = []
        for (index, group) in groups.enumerated() {
            if index > 0 { out.append("") }
            // A show's head (one row, then rows of another shape) reads best as `field: value` lines.
            out +=
                index == 0 && group.count == 1 && groups.count > 1
                ? card(group[0], width: width) : table(group, width: width)
        }
        out.append("(\(rows.count) rows)")
        return out.joined(separator: "\n")
    }

    static func isCheck(_ request: String) -> Bool {
        let words = request.split(separator: " ").map { $0.uppercased() }
        return words.first.map { $0 == "CHECK" || ($0.hasPrefix("@") && words.dropFirst().first == "CHECK") } == true
    }

    /// CHECK's rows printed as `orderly check` prints its report.
    static func check(_ rows: [[(String, String)]]) -> String {
        var violations: [(invariant: Int, detail: String)] = []
        var orders = 0
        for row in rows {
            let fields = Dictionary(row, uniquingKeysWith: { first, _ in first })
            if let detail = fields["detail"] { violations.append((Int(fields["invariant"] ?? "") ?? 0, detail)) }
            if let checked = fields["orders_checked"] { orders = Int(checked) ?? 0 }
        }
        return CheckCommand.lines(violations: violations, ordersChecked: orders).joined(separator: "\n")
    }

    /// One row as `field: value` lines, values wrapped under themselves.
    static func card(_ row: [(String, String)], width: Int) -> [String] {
        let keyWidth = (row.map(\.0.count).max() ?? 0) + 2
        return row.flatMap { key, value in
            let lines = wrap(value, to: max(20, width - keyWidth))
            return lines.enumerated().map { index, line in
                (index == 0
                    ? (key + ":").padding(toLength: keyWidth, withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: keyWidth)) + line
            }
        }
    }

    /// Rows under a header, columns aligned. When the table would be wider than `width`, the widest
    /// columns give way first (down to 12 columns each) and their cells wrap.
    static func table(_ rows: [[(String, String)]], width: Int) -> [String] {
        var columns: [String] = []
        for row in rows { for (key, _) in row where !columns.contains(key) { columns.append(key) } }
        let cells = [columns] + rows.map { row in columns.map { key in row.first { $0.0 == key }?.1 ?? "" } }
        var widths = columns.indices.map { index in cells.map { $0[index].count }.max() ?? 0 }
        let gaps = 2 * max(0, columns.count - 1)
        // Too wide: headers wrap at their underscores first (down to their values' width), then the
        // widest columns give way, down to 12.
        let values = columns.indices.map { index in
            max(
                cells.dropFirst().map { $0[index].count }.max() ?? 0,
                columns[index].replacingOccurrences(of: "_", with: "_ ").split(separator: " ").map(\.count).max() ?? 0
            )
        }
        for index in widths.indices where widths.reduce(gaps, +) > width { widths[index] = values[index] }
        while widths.reduce(gaps, +) > width, let widest = widths.indices.max(by: { widths[$0] < widths[$1] }),
            widths[widest] > 12
        {
            widths[widest] -= 1
        }
        return cells.enumerated().flatMap { number, row -> [String] in
            let wrapped = row.enumerated().map { index, cell in
                number == 0
                    ? wrap(cell.replacingOccurrences(of: "_", with: "_ "), to: widths[index]).map {
                        $0.replacingOccurrences(of: "_ ", with: "_").trimmingCharacters(in: .whitespaces)
                    }
                    : wrap(cell, to: widths[index])
            }
            let height = wrapped.map(\.count).max() ?? 1
            return (0..<height).map { line in
                wrapped.enumerated().map { index, parts in
                    let text = line < parts.count ? parts[line] : ""
                    return index == row.count - 1
                        ? text : text.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
            }
        }
    }

    /// Words of `text` in lines of at most `width` characters (a longer word is cut).
    static func wrap(_ text: String, to width: Int) -> [String] {
        guard text.count > width else { return [text] }
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            var word = String(word)
            while word.count > width {
                if !current.isEmpty {
                    lines.append(current)
                    current = ""
                }
                lines.append(String(word.prefix(width)))
                word = String(word.dropFirst(width))
            }
            if current.isEmpty {
                current = word
            } else if current.count + 1 + word.count <= width {
                current += " " + word
            } else {
                lines.append(current)
                current = word
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
