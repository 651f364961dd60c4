import OrderlyAdminProtocol

/// libFuzzer's entry: the input is what a client might send; it is cut into lines as the server's
/// framer cuts it, and each line goes through the parser, the command table and the reply writer.
/// Besides crashes, it checks one property: a parsed value, quoted as replies quote it, parses back
/// to itself.
///
/// `Fuzz/run [seconds]` builds it with libFuzzer and AddressSanitizer and runs it over Fuzz/corpus.
@_cdecl("LLVMFuzzerTestOneInput")
public func orderlyAdminFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
        exercise(line)
    }
    return 0
}

func exercise(_ line: some Collection<UInt8>) {
    let request: AdminRequest
    do {
        guard let parsed = try AdminRequest.parse(line) else { return }
        request = parsed
    } catch {
        _ = AdminReply.error(error).encoded(.text, tag: nil)
        _ = AdminReply.error(error).encoded(.json, tag: nil)
        return
    }
    for token in request.tokens {
        let again = try? AdminRequest.parse(Array("X k=\(AdminQuoting.quote(token.value))".utf8))
        guard again?.tokens.last?.value == token.value else {
            // Deliberate: a trap is how a broken property reaches libFuzzer as a finding. This target only
            // runs under the fuzzer or the corpus replayer, never in a server.
            fatalError("quoting does not round-trip: \(token.value.debugDescription)")
        }
    }
    let fields = request.tokens.enumerated().map { AdminField($0.element.key ?? "v\($0.offset)", $0.element.value) }
    _ = AdminReply.ok(fields).encoded(.text, tag: request.tag)
    _ = AdminReply.rows([fields]).encoded(.json, tag: request.tag)
    do {
        let bound = try CommandTable.standard.bind(request)
        if bound.spec.verb == "HELP" {
            _ = try CommandTable.standard.help(verb: bound.text(optional: "verb"), sub: bound.text(optional: "sub"))
                .encoded(
                    .text,
                    tag: nil
                )
        }
    } catch {
        _ = AdminReply.error(error).encoded(.text, tag: request.tag)
    }
}

#if !FUZZING
import Foundation

/// Without the fuzzer: runs files (a corpus, or a crash a fuzzing run saved) through the same function.
@main
struct ReplayCorpus {
    static func main() throws {
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            let files =
                isDirectory.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: path).map { path + "/" + $0 } : [path]
            for file in files {
                let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
                // An empty file has no base address and nothing to replay.
                _ = data.withUnsafeBufferPointer { buffer in
                    buffer.baseAddress.map { orderlyAdminFuzz($0, buffer.count) }
                }
                count += 1
            }
        }
        print("replayed \(count) inputs")
    }
}
#endif
