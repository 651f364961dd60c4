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

extension PostgresConnection {
    /// `retrying(_:when:_:)` with each retry counted as `operation` (`orderly_transaction_retries_total`).
    func retrying<T>(
        _ policy: RetryPolicy,
        counting operation: String,
        in metrics: OrderlyMetrics,
        when retryable: (any Error) -> Bool = isRetryable,
        _ body: (Int) throws -> T
    ) throws -> T {
        try retrying(policy, when: retryable) { attempt in
            if attempt > 1 { metrics.retried(operation) }
            return try body(attempt)
        }
    }
}
