/// Where a job stands. Raw values are what `jobs.state` stores (its CHECK lists the same set).
public enum JobState: String, CaseIterable, Sendable, Hashable {
    /// Due now.
    case available
    /// Due at its `run_at`.
    case scheduled
    /// Claimed: a worker holds its lease.
    case running
    /// Failed an attempt; due again at its `run_at`.
    case retryable
    case completed
    /// Failed for good (its attempts spent, or its handler said so).
    case discarded
    case cancelled

    /// Not finished: a unique key is taken while a job with it is in one of these.
    public static let pending: Set<JobState> = [.available, .scheduled, .running, .retryable]
    /// What a worker may claim once due.
    public static let claimable: Set<JobState> = [.available, .scheduled, .retryable]
    /// Finished: kept for the retention period, then pruned.
    public static let finished: Set<JobState> = [.completed, .discarded, .cancelled]
}
