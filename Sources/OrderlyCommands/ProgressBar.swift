import Foundation
import OrderlyWorker

/// A long command's progress on standard error: a bar with the rate and time left on a terminal,
/// a plain line every 5 % otherwise (CI logs, pipes). `orderly seed` and `orderly import` show one.
final class ProgressBar: @unchecked Sendable {
    let total: Int
    /// What is counted (`orders`, `documents`).
    let unit: String
    /// The command's name, starting each plain line.
    let command: String
    let terminal = isatty(STDERR_FILENO) == 1
    let clock = ContinuousClock()
    let began: ContinuousClock.Instant
    var lastShown = -1

    init(total: Int, unit: String, command: String) {
        self.total = total
        self.unit = unit
        self.command = command
        began = clock.now
    }

    /// `detail` follows the figures (the seed's simulated day).
    func update(done: Int, detail: String? = nil) {
        let seconds = (clock.now - began).seconds
        let rate = Double(done) / max(seconds, 0.001)
        let left = rate > 0 ? Double(total - done) / rate : 0
        let percent = total > 0 ? done * 100 / total : 100
        let figures = String(format: "%d/%d %@, %.0f/s, ETA %@", done, total, unit, rate, Self.duration(left))
        if terminal {
            let width = 30
            let filled = total > 0 ? min(width, done * width / total) : width
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let line = "\r[\(bar)] \(String(format: "%3d", percent))% \(figures)" + (detail.map { "  (\($0))" } ?? "")
            FileHandle.standardError.write(Data(line.utf8))
        } else if percent / 5 > lastShown / 5 || percent == 100 && lastShown != 100 {
            lastShown = percent
            let line = "\(command): \(percent)% \(figures)" + (detail.map { ", \($0)" } ?? "") + "\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    func finish() {
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return whole >= 3600
            ? String(format: "%dh%02dm", whole / 3600, whole % 3600 / 60)
            : String(format: "%dm%02ds", whole / 60, whole % 60)
    }
}
