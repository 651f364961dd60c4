import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A file that holds a secret (`orderly admin --credentials`, `orderly worker --smtp-password-file`):
/// read only when no one but its owner can read it.
enum PrivateFile {
    static func read(_ path: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ValidationError("cannot read \(path)") }
        guard info.st_mode & 0o077 == 0 else { throw ValidationError("\(path) is readable by others: chmod 600 it") }
        return try String(contentsOfFile: path, encoding: .utf8)
    }
}
