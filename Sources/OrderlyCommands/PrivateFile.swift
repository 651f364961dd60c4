import ArgumentParser
import Foundation

/// A file that holds a secret (`orderly admin --credentials`, `orderly worker --smtp-password-file`):
/// read only when no one but its owner can read it.
enum PrivateFile {
    static func read(_ path: String) throws -> String {
        // Foundation's attributes, not stat(2): the C struct's members are not visible to every build
        // of this module (MemberImportVisibility finds `stat` in CDispatch in a release build).
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let permissions = (attributes[.posixPermissions] as? NSNumber)?.intValue
        else { throw ValidationError("cannot read \(path)") }
        guard permissions & 0o077 == 0 else { throw ValidationError("\(path) is readable by others: chmod 600 it") }
        return try String(contentsOfFile: path, encoding: .utf8)
    }
}
