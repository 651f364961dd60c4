import ArgumentParser
import Foundation
import Orderly
import OrderlyAdminServer
import OrderlyCore

/// `orderly admin-user add`: creates a principal of the admin protocol (never over the wire).
struct AdminUserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin-user",
        abstract: "Manage the admin protocol's principals.",
        subcommands: [Add.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a principal; the secret comes from ORDERLY_ADMIN_SECRET or standard input.",
            discussion: """
                Only a PBKDF2-SHA256 hash of the secret is stored.

                Example:
                  ORDERLY_ADMIN_SECRET=... orderly admin-user add alice --role operator
                  orderly admin-user add bob --role readonly < secret.txt
                """
        )

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "Name: a-z, 0-9, _ . - starting with a letter.")
        var name: String

        @Option(help: "readonly, operator or admin.")
        var role: String

        func validate() throws {
            guard ["readonly", "operator", "admin"].contains(role) else {
                throw ValidationError("--role must be readonly, operator or admin")
            }
        }

        func run() async throws {
            let logger = CommandLogging.logger("orderly.admin-user")
            let url = try database.resolve(logger: logger).url
            let secret: String
            if let fromEnvironment = ProcessInfo.processInfo.environment["ORDERLY_ADMIN_SECRET"] {
                secret = fromEnvironment
            } else {
                secret = readLine(strippingNewline: true) ?? ""
            }
            guard secret.count >= 12 else {
                throw ValidationError("the secret must be at least 12 characters (ORDERLY_ADMIN_SECRET or stdin)")
            }
            let hash = try PasswordHash.make(secret)
            let orderly = try await OrderlyDatabase.open(url: url, logger: logger)
            do {
                try await AdminAccess(database: orderly).createPrincipal(name: name, role: role, secretHash: hash)
            } catch let error as OrderlyError {
                await orderly.close()
                throw ValidationError(error.message)
            }
            await orderly.close()
            print("created \(name) (\(role))")
        }
    }
}
