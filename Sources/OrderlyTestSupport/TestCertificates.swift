import Foundation
import OrderlyDevCluster

/// A certificate authority and a server certificate it signed, made at test time with the openssl
/// command (EC P-256, valid for two days) in a directory of their own. The server certificate names
/// `names` (by default `localhost` and 127.0.0.1).
public struct TestCertificates: Sendable {
    public let directory: URL
    /// The authority's certificate: what a client trusts.
    public let authority: String
    /// The server's certificate and its key.
    public let certificate: String
    public let key: String

    /// Makes a new authority and a server certificate signed by it; `label` names the files.
    public static func make(
        _ label: String,
        names: [String] = ["DNS:localhost", "IP:127.0.0.1"]
    ) throws
        -> TestCertificates
    {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("orderly-tls-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        let extensions = path("server.ext")
        try Data("subjectAltName=\(names.joined(separator: ","))\nextendedKeyUsage=serverAuth\n".utf8)
            .write(to: URL(fileURLWithPath: extensions))
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(
            ["req", "-x509"] + curve + [
                "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2",
                "-subj", "/CN=Orderly test authority \(label)",
            ]
        )
        try openssl(
            ["req"] + curve + [
                "-keyout", path("server.key"), "-out", path("server.csr"),
                "-subj", "/CN=localhost",
            ]
        )
        try openssl([
            "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
            "-CAcreateserial", "-days", "2", "-extfile", extensions, "-out", path("server.pem"),
        ])
        return TestCertificates(
            directory: directory,
            authority: path("ca.pem"),
            certificate: path("server.pem"),
            key: path("server.key")
        )
    }

    /// Removes the files.
    public func remove() { try? FileManager.default.removeItem(at: directory) }

    private static func openssl(_ arguments: [String]) throws {
        let result = try ChildProcess.run(["openssl"] + arguments)
        guard result.status == 0 else {
            throw TestCertificatesError("openssl \(arguments.first ?? "") failed (\(result.status)): \(result.output)")
        }
    }
}

public struct TestCertificatesError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
