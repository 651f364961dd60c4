import Testing

@testable import LibPQ

/// The pool's decisions, driven with plain values and an instant the test moves: no connection, no
/// thread, no sleep.
@Suite struct PoolStateMachineTests {
    typealias Machine = PoolStateMachine<String, String>

    let start = ContinuousClock.now
    func machine(max: Int = 2, minIdle: Int = 0) -> Machine {
        Machine(
            limits: .init(maxConnections: max, idleTimeout: .seconds(60), minIdle: minIdle, pingAfterIdle: .seconds(5))
        )
    }

    @Test func connectionsAreOpenedUpToTheLimitThenBorrowersWait() {
        var pool = machine()
        guard case .create(1) = pool.acquire(now: start).0, case .create(2) = pool.acquire(now: start).0 else {
            Issue.record("expected two connections to be opened")
            return
        }
        pool.connected()
        pool.connected()
        guard case .wait = pool.acquire(now: start).0 else {
            Issue.record("expected a wait at the limit")
            return
        }
        #expect(pool.open == 2 && pool.created == 2)
    }

    @Test func aReturnedConnectionGoesToTheLongestWaiterFirst() {
        var pool = machine(max: 1)
        _ = pool.acquire(now: start)
        let first = pool.makeWaiterID()
        let second = pool.makeWaiterID()
        let step1 = pool.addWaiter(first, "first")
        #expect(step1)
        let step2 = pool.addWaiter(second, "second")
        #expect(step2)
        guard case .handTo("first") = pool.release("c1", now: start) else {
            Issue.record("expected the first waiter to get it")
            return
        }
        // A waiter that timed out is taken out once; the connection then goes to the next.
        let step3 = pool.removeWaiter(second)
        #expect(step3 == "second")
        let step4 = pool.removeWaiter(second)
        #expect(step4 == nil)
        guard case .kept = pool.release("c1", now: start) else {
            Issue.record("expected the connection to be kept idle")
            return
        }
        #expect(pool.idle.count == 1 && pool.waiters.isEmpty)
    }

    @Test func anIdleConnectionIsLentLastInFirstOutAndPingedAfterAWhile() {
        var pool = machine()
        _ = pool.acquire(now: start)
        _ = pool.acquire(now: start)
        _ = pool.release("old", now: start)
        _ = pool.release("new", now: start + .seconds(1))
        guard case .use("new", ping: false) = pool.acquire(now: start + .seconds(2)).0 else {
            Issue.record("expected the newest connection, unpinged")
            return
        }
        guard case .use("old", ping: true) = pool.acquire(now: start + .seconds(10)).0 else {
            Issue.record("expected the older one, pinged after 10 s idle")
            return
        }
    }

    @Test func theFastPathTakesOnlyAConnectionThatNeedsNoPing() {
        var pool = machine()
        _ = pool.acquire(now: start)
        _ = pool.release("c1", now: start)
        let step5 = pool.takeIdleWithoutPing(now: start + .seconds(10))
        #expect(step5 == nil)
        let step6 = pool.takeIdleWithoutPing(now: start + .seconds(1))
        #expect(step6 == "c1")
        let step7 = pool.takeIdleWithoutPing(now: start + .seconds(1))
        #expect(step7 == nil)
    }

    @Test func idleConnectionsPastTheTimeoutAreClosedKeepingMinIdle() {
        var pool = machine(max: 3, minIdle: 1)
        for _ in 0..<3 { _ = pool.acquire(now: start) }
        _ = pool.release("a", now: start)
        _ = pool.release("b", now: start + .seconds(1))
        _ = pool.release("c", now: start + .seconds(100))
        let (decision, stale) = pool.acquire(now: start + .seconds(120))
        #expect(stale == ["a", "b"])
        guard case .use("c", ping: true) = decision else {
            Issue.record("expected the one kept")
            return
        }
        #expect(pool.open == 1 && pool.discarded == 2)
    }

    @Test func aBrokenConnectionIsReplacedForAWaiterAndAFailedConnectFreesItsSlot() {
        var pool = machine(max: 1)
        _ = pool.acquire(now: start)
        #expect(pool.discard() == nil)  // nobody waits: nothing to replace
        _ = pool.acquire(now: start)
        let id = pool.makeWaiterID()
        _ = pool.addWaiter(id, "w")
        #expect(pool.discard() == 3)  // replaced on a new thread, for the waiter
        pool.connectFailed(PostgresError(code: .connectionFailed, message: "refused"))
        #expect(pool.open == 0 && pool.lastConnectError?.code == .connectionFailed)
    }

    @Test func closingFailsWaitersClosesIdleConnectionsAndRefusesMore() {
        var idlePool = machine()
        _ = idlePool.acquire(now: start)
        _ = idlePool.release("idle", now: start)
        let closedIdle = idlePool.close()
        #expect(closedIdle.idle == ["idle"] && closedIdle.waiters.isEmpty)
        #expect(idlePool.open == 0)

        var pool = machine(max: 1)
        _ = pool.acquire(now: start)
        let id = pool.makeWaiterID()
        let added = pool.addWaiter(id, "w")
        #expect(added)
        let (idle, waiters) = pool.close()
        #expect(idle.isEmpty && waiters == ["w"])
        let late = pool.makeWaiterID()
        let addedLate = pool.addWaiter(late, "late")
        #expect(!addedLate)
        guard case .fail(let error) = pool.acquire(now: start).0, error.code == .poolClosed else {
            Issue.record("expected the closed pool to refuse")
            return
        }
        guard case .close = pool.release("lent", now: start) else {
            Issue.record("expected a connection returned after the close to be closed")
            return
        }
        #expect(pool.open == 0)
    }
}
