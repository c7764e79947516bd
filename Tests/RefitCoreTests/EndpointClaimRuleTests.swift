import Testing
import RefitCore

/// The endpoint lock's rule (D14, D15), as every store applies it.
@Suite("EndpointClaim.decide")
struct EndpointClaimRuleTests {
    let window = Instant(year: 2026, month: 1, day: 1, hour: 5)

    @Test("facts are asked in order and only as far as needed")
    func order() {
        var asked: [String] = []
        let claim = EndpointClaim.decide(modelWindowStart: window,
                                         holder: { asked.append("holder"); return nil },
                                         unsettledPatch: { asked.append("unsettled"); return "r9" },
                                         serving: { asked.append("serving"); return nil },
                                         inDoubt: { asked.append("inDoubt"); return nil })
        #expect(claim == .busy(holderRunID: "r9"))
        #expect(asked == ["holder", "unsettled"])
    }

    @Test("an older serving model does not supersede; a newer one, or one in doubt, does; else acquired")
    func superseded() {
        func decide(serving: Instant?, inDoubt: Instant?) -> EndpointClaim {
            EndpointClaim.decide(modelWindowStart: window, holder: { nil }, unsettledPatch: { nil },
                                 serving: { serving }, inDoubt: { inDoubt })
        }
        #expect(decide(serving: window - .hours(1), inDoubt: nil) == .acquired)
        #expect(decide(serving: window, inDoubt: nil) == .acquired)
        #expect(decide(serving: window + .hours(1), inDoubt: nil) == .superseded(servingWindowStart: window + .hours(1)))
        #expect(decide(serving: nil, inDoubt: window + .hours(2)) == .superseded(servingWindowStart: window + .hours(2)))
        #expect(EndpointClaim.decide(modelWindowStart: window, holder: { "r1" }, unsettledPatch: { nil },
                                     serving: { window + .hours(1) }, inDoubt: { nil }) == .busy(holderRunID: "r1"))
    }
}
