import NIOSSL
import Synchronization

/// The admin port's certificate and key, read from two PEM files and read again on `reload()`
/// (`orderly serve` calls it on SIGHUP): connections that start afterwards get the new pair, those
/// already open keep theirs, and a pair that does not load leaves the one in use in place.
public final class AdminTLS: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let current: Mutex<NIOSSLContext>

    /// Loads the pair; throws naming the file that does not load.
    public init(certificatePath: String, keyPath: String) throws(AdminServerError) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        current = Mutex(try Self.load(certificatePath: certificatePath, keyPath: keyPath))
    }

    /// The context new connections handshake with.
    var context: NIOSSLContext { current.withLock { $0 } }

    /// Reads both files again and uses them for new connections; on an error, nothing changes.
    public func reload() throws(AdminServerError) {
        let loaded = try Self.load(certificatePath: certificatePath, keyPath: keyPath)
        current.withLock { $0 = loaded }
    }

    static func load(certificatePath: String, keyPath: String) throws(AdminServerError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw AdminServerError("cannot load the TLS certificate \(certificatePath): \(error)")
        }
        guard !chain.isEmpty else {
            throw AdminServerError("cannot load the TLS certificate \(certificatePath): no PEM certificate in it")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw AdminServerError("cannot load the TLS key \(keyPath): \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw AdminServerError(
                "cannot use the TLS certificate \(certificatePath) with the key \(keyPath) (do they belong together?): \(error)"
            )
        }
    }
}
