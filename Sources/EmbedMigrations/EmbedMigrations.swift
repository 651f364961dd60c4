import Foundation

// Build-time tool run by EmbedMigrationsPlugin: writes the migrations given as arguments into one
// Swift file as escaped string literals (exact bytes; checksums are taken from them at run time).
// Usage: EmbedMigrations OUTPUT.swift FILE.sql...

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(1)
}

func swiftLiteral(_ text: String) -> String {
    var literal = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\\": literal += "\\\\"
        case "\"": literal += "\\\""
        case "\n": literal += "\\n"
        case "\r": literal += "\\r"
        case "\t": literal += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            literal += "\\u{\(String(scalar.value, radix: 16))}"
        default: literal.unicodeScalars.append(scalar)
        }
    }
    return literal + "\""
}

// An @main type, not top-level code: sanitizer builds (the fuzz target's) compile every executable
// as a library.
@main
enum EmbedMigrations {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let output = arguments.first else { fail("usage: EmbedMigrations OUTPUT.swift FILE.sql...") }
        var seen: [Int: String] = [:]
        var entries: [String] = []
        for path in arguments.dropFirst() {
            let file = URL(fileURLWithPath: path).lastPathComponent
            let stem = file.dropLast(4)  // ".sql"
            guard let underscore = stem.firstIndex(of: "_"), stem.distance(from: stem.startIndex, to: underscore) == 4,
                let version = Int(stem[..<underscore]), version > 0,
                stem[stem.index(after: underscore)...].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
            else { fail("\(path): migration files are named NNNN_name.sql (4 digits, then letters, digits, _)") }
            if let other = seen[version] { fail("\(path): version \(version) is also used by \(other)") }
            seen[version] = file
            guard let data = FileManager.default.contents(atPath: path), let sql = String(data: data, encoding: .utf8)
            else {
                fail("\(path): cannot read as UTF-8")
            }
            let name = String(stem[stem.index(after: underscore)...])
            entries.append("        (\(version), \(swiftLiteral(name)), \(swiftLiteral(sql))),")
        }

        let source = """
            // Generated at build time by EmbedMigrations from sql/migrations. Do not edit.

            enum EmbeddedMigrations {
                static let files: [(version: Int, name: String, sql: String)] = [
            \(entries.joined(separator: "\n"))
                ]
            }

            """
        // Unchanged content keeps its file (and modification time): SwiftPM runs this again when only the
        // environment changed, and a rewrite would recompile OrderlyStore and relink everything after it.
        if FileManager.default.contents(atPath: output) == Data(source.utf8) { return }
        do {
            try source.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            fail("cannot write \(output): \(error)")
        }
    }
}
