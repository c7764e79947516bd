import Foundation
@testable import RefitStore
import Testing

struct AuditLogTests {
    static let t0 = Date(timeIntervalSince1970: 1_704_067_200)  // 2024-01-01T00:00:00Z

    static func appendSome(_ store: Store, count: Int) throws -> [AuditEvent] {
        try (0..<count).map { n in
            try store.appendEvent(NewAuditEvent(
                at: t0.addingTimeInterval(Double(n)), kind: "window.claimed", pipeline: "retrain",
                activity: "train", windowStart: t0, runID: "run-\(n)", detail: #"{"attempt":\#(n + 1)}"#))
        }
    }

    @Test func appendsFormAnIntactChain() throws {
        let store = try Store.open(path: ":memory:")
        #expect(try store.verifyEventChain() == nil)
        let events = try Self.appendSome(store, count: 5)
        #expect(events.map(\.id) == [1, 2, 3, 4, 5])
        #expect(events[0].prevHash == AuditEvent.genesisHash)
        for (previous, next) in zip(events, events.dropFirst()) {
            #expect(next.prevHash == previous.hash)
        }
        #expect(Set(events.map(\.hash)).count == 5)
        #expect(events[0].at == "2024-01-01T00:00:00Z")
        #expect(events[0].windowStart == "2024-01-01T00:00:00Z")
        #expect(try store.verifyEventChain() == nil)
    }

    @Test func triggersForbidUpdateAndDelete() throws {
        let store = try Store.open(path: ":memory:")
        _ = try Self.appendSome(store, count: 2)
        let update = #expect(throws: StoreError.self) {
            try store.database.execute("UPDATE events SET detail = '{}' WHERE id = 1")
        }
        #expect(update?.code == .constraint)
        #expect(update?.message.contains("append-only") == true)
        let delete = #expect(throws: StoreError.self) { try store.database.execute("DELETE FROM events WHERE id = 2") }
        #expect(delete?.code == .constraint)
    }

    @Test func editedEventIsDetected() throws {
        let store = try Store.open(path: ":memory:")
        _ = try Self.appendSome(store, count: 5)
        try store.database.execute("DROP TRIGGER events_no_update")
        try store.database.execute(#"UPDATE events SET detail = '{"attempt":99}' WHERE id = 3"#)
        #expect(try store.verifyEventChain() == 3)
    }

    @Test func deletedEventIsDetectedAtItsSuccessor() throws {
        let store = try Store.open(path: ":memory:")
        _ = try Self.appendSome(store, count: 5)
        try store.database.execute("DROP TRIGGER events_no_delete")
        try store.database.execute("DELETE FROM events WHERE id = 2")
        #expect(try store.verifyEventChain() == 3)
    }

    @Test func rehashedEventIsDetectedAtItsSuccessor() throws {
        // A forger who recomputes the edited row's own hash still breaks the next link.
        let store = try Store.open(path: ":memory:")
        let events = try Self.appendSome(store, count: 3)
        try store.database.execute("DROP TRIGGER events_no_update")
        try store.database.execute("UPDATE events SET kind = 'forged', hash = ? WHERE id = 2",
                                   [.text(String(repeating: "a", count: 64))])
        #expect(events.count == 3)
        #expect(try store.verifyEventChain() == 2)
    }

    @Test func eventJoinsTheCallersTransaction() throws {
        struct Boom: Error {}
        let store = try Store.open(path: ":memory:")
        #expect(throws: Boom.self) {
            try store.database.transaction { connection in
                try connection.appendEvent(NewAuditEvent(at: Self.t0, kind: "deployment.recorded"))
                throw Boom()
            }
        }
        #expect(try store.database.query("SELECT count(*) FROM events").first?[0]?.intValue == 0)
        try store.database.transaction { connection in
            try connection.appendEvent(NewAuditEvent(at: Self.t0, kind: "deployment.recorded"))
        }
        #expect(try store.database.query("SELECT count(*) FROM events").first?[0]?.intValue == 1)
        #expect(try store.verifyEventChain() == nil)
    }

    @Test func invalidDetailIsRejected() throws {
        let store = try Store.open(path: ":memory:")
        let error = #expect(throws: StoreError.self) {
            try store.appendEvent(NewAuditEvent(at: Self.t0, kind: "x", detail: "not json"))
        }
        #expect(error?.code == .constraint)
    }
}
