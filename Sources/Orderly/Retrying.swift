import LibPQ
import OrderlyCore

extension OrderPolicy {
    /// How a service's transaction is retried on a serialization failure, a deadlock or a stale plan.
    var retryPolicy: RetryPolicy {
        RetryPolicy(maxAttempts: reservationAttempts, baseDelay: .milliseconds(1), maxDelay: .milliseconds(50))
    }
}

/// What a service's transaction retries: the database's retryable errors, and a plan gone stale.
func isRetryable(_ error: any Error) -> Bool {
    error is StalePlan || (error as? PostgresError)?.isRetryable == true
}
