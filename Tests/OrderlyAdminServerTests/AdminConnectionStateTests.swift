import OrderlyAdminProtocol
import Testing

@testable import OrderlyAdminServer

/// The connection's state machine, one event at a time: no socket, no event loop, no clock.
@Suite struct AdminConnectionStateTests {
    let alice = AdminPrincipal(name: "alice", role: .operator)

    @Test func aRemoteServerRequiresAuthFromTheStart() {
        var state = AdminConnectionState()
        let step1 = state.activated(devModeAllowed: false)
        #expect(step1 == .greet(authRequired: true))
        #expect(!state.authenticated && state.mayRunNext)
    }

    @Test func aLoopbackServerLooksUpPrincipalsBeforeItGreetsAndFailsClosed() {
        var state = AdminConnectionState()
        let step2 = state.activated(devModeAllowed: true)
        #expect(step2 == .lookUpPrincipals)
        // Lines wait while the lookup runs.
        #expect(state.busy && !state.mayRunNext)
        let step3 = state.principalsLooked(exist: false)
        #expect(step3 == .greet(authRequired: false))
        #expect(state.devMode && state.authenticated && state.mayRunNext)

        var failed = AdminConnectionState()
        _ = failed.activated(devModeAllowed: true)
        let step4 = failed.principalsLooked(exist: nil)
        #expect(step4 == .greet(authRequired: true))
        #expect(!failed.authenticated)

        var gone = AdminConnectionState()
        _ = gone.activated(devModeAllowed: true)
        let step5 = gone.close()
        #expect(step5)
        let step6 = gone.principalsLooked(exist: false)
        #expect(step6 == nil)
    }

    @Test func authSetsThePrincipalOnceAndAFailureLeavesItUnset() {
        var state = AdminConnectionState()
        _ = state.activated(devModeAllowed: false)
        state.started()
        #expect(!state.mayRunNext)
        state.authFailed()
        #expect(state.principal == nil && state.mayRunNext)
        state.started()
        state.authenticated(as: alice)
        #expect(state.principal == alice && state.authenticated && !state.devMode)
    }

    @Test func aDevModeConnectionThatFindsAPrincipalMustAuth() {
        var state = AdminConnectionState()
        _ = state.activated(devModeAllowed: true)
        _ = state.principalsLooked(exist: false)
        state.started()
        let step7 = state.finished(devModeEnded: true)
        #expect(step7 == .devModeEnded)
        #expect(!state.authenticated && state.auth == .required)
    }

    @Test func aCommandFinishingAfterTheCloseWritesNothing() {
        var state = AdminConnectionState()
        _ = state.activated(devModeAllowed: false)
        state.started()
        let step8 = state.close()
        #expect(step8)
        let step9 = state.close()
        #expect(!step9)
        let step10 = state.finished(devModeEnded: false)
        #expect(step10 == .closed)
        #expect(!state.mayRunNext)
    }

    @Test func aHalfClosedConnectionAnswersWhatItWasSentThenCloses() {
        var state = AdminConnectionState()
        _ = state.activated(devModeAllowed: false)
        state.started()
        let step11 = state.inputClosed(queueEmpty: false)
        #expect(!step11)
        let step12 = state.finished(devModeEnded: false)
        #expect(step12 == .reply)
        #expect(!state.shouldFinish(queueEmpty: false))
        #expect(state.shouldFinish(queueEmpty: true))
        var idle = AdminConnectionState()
        let step13 = idle.inputClosed(queueEmpty: true)
        #expect(step13)
    }

    @Test func idleAndLineDeadlinesSpareAConnectionTheServerIsSlowFor() {
        var state = AdminConnectionState()
        _ = state.activated(devModeAllowed: false)
        #expect(state.idle(writable: true, queueEmpty: true) == .close)
        #expect(state.idle(writable: false, queueEmpty: true) == .closeNow)
        #expect(state.lineDeadlineExceeded(queueEmpty: true))
        state.started()
        #expect(state.idle(writable: true, queueEmpty: true) == .keep)
        #expect(!state.lineDeadlineExceeded(queueEmpty: true))
        _ = state.finished(devModeEnded: false)
        #expect(state.idle(writable: true, queueEmpty: false) == .keep)
        let step14 = state.readRequested(queueFull: true, writable: true)
        #expect(step14)
        #expect(!state.lineDeadlineExceeded(queueEmpty: true))
        let step15 = state.resumeReading(queueFull: true, writable: true)
        #expect(!step15)
        let step16 = state.resumeReading(queueFull: false, writable: true)
        #expect(step16)
        let step17 = state.readRequested(queueFull: false, writable: true)
        #expect(!step17)
    }
}

extension AdminConnectionStateTests {
    @Test func quiescingLetsTheRunningCommandAnswerThenCloses() {
        var idle = AdminConnectionState()
        _ = idle.activated(devModeAllowed: false)
        let closeNow = idle.quiesce()
        #expect(closeNow)
        var busy = AdminConnectionState()
        _ = busy.activated(devModeAllowed: false)
        busy.started()
        let closeBusy = busy.quiesce()
        #expect(!closeBusy)
        #expect(!busy.mayRunNext)
        let finished = busy.finished(devModeEnded: false)
        #expect(finished == .reply)
        #expect(busy.closesAfterReply && !busy.mayRunNext)
    }
}
