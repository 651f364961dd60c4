import Foundation
import OrderlyAdminProtocol
import Testing

/// docs/admin-protocol.md and the command table must not drift apart.
struct SpecTests {
    static let spec: String = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "docs/admin-protocol.md")
        return (try? String(contentsOf: path, encoding: .utf8)) ?? ""
    }()

    @Test func everyCommandIsInTheSpecWithItsRole() throws {
        #expect(!Self.spec.isEmpty)
        var documented: [String: String] = [:]
        for line in Self.spec.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, cells[0].hasPrefix("`"),
                ["none", "readonly", "operator", "admin"].contains(cells[1])
            else { continue }
            documented[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = cells[1]
        }
        let table = Dictionary(
            uniqueKeysWithValues: CommandTable.standard.commands.map { ($0.name, $0.role?.rawValue ?? "none") }
        )
        #expect(documented == table)
    }

    @Test func everyErrorCodeIsDocumented() {
        let codes: [AdminError.Code] = [
            .syntax, .lineTooLong, .tooManyArguments, .unknownCommand, .badArgument, .noAuth, .authFailed, .forbidden,
            .notFound, .idempotencyConflict, .conflict, .maxClients, .timeout, .unavailable, .internal,
        ]
        for code in codes { #expect(Self.spec.contains("`\(code.rawValue)`"), "\(code)") }
        #expect(Self.spec.contains("\(AdminLimits.maximumLineLength.formatted(.number.grouping(.automatic)))"))
    }
}
