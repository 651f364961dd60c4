import LibPQ

/// What a failed database call means for its caller, when the database (not the request) failed.
public enum DatabaseFailure: Sendable, Hashable {
    /// The connection broke while COMMIT was in flight: the work may or may not have committed.
    case outcomeUnknown
    /// The database could not be reached, or the connection was lost before COMMIT: nothing committed.
    case unavailable
    /// The pool is closed: this process is stopping.
    case closed

    /// The failure `error` reports, or nil when it is not one of the database's (a refusal, a bug).
    public init?(_ error: any Error) {
        guard let error = error as? PostgresError else { return nil }
        switch error.code {
        case .commitOutcomeUnknown: self = .outcomeUnknown
        case .connectionLost, .connectionFailed, .poolTimeout: self = .unavailable
        case .poolClosed: self = .closed
        default: return nil
        }
    }
}
