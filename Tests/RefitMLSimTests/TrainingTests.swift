import Foundation
import RefitMLSim
import Testing

/// The emulator's real training: OLS with an intercept on the input CSV.
@Suite struct TrainingTests {
    @Test func recoversKnownCoefficients() throws {
        let output = try Trainer.train(csv: Data(linearCSV().utf8), labelColumn: nil, trainedAt: Date())
        #expect(output.model.labelColumn == "y")
        #expect(output.model.features == ["x1", "x2"])
        #expect(abs((output.model.coefficients["x1"] ?? 0) - 3) < 0.05)
        #expect(abs((output.model.coefficients["x2"] ?? 0) + 2) < 0.05)
        #expect(abs(output.model.intercept - 5) < 0.05)
        #expect(output.rmse < 0.05 && output.r2 > 0.999)
        #expect(output.model.rows == 60)
    }

    @Test func recoversCoefficientsThroughTheService() async throws {
        let emu = try await TestEmulator.start()
        defer { Task { await emu.stop() } }
        let finished = try await emu.train(csv: linearCSV())
        let model = try await emu.fetch(try emu.location(finished.status)).object
        let coefficients = try #require(model["coefficients"] as? [String: Double])
        #expect(abs((coefficients["x1"] ?? 0) - 3) < 0.05)
        #expect(abs((coefficients["x2"] ?? 0) + 2) < 0.05)
        #expect(abs((model["intercept"] as? Double ?? 0) - 5) < 0.05)
    }

    @Test(arguments: [
        ("x1,x2,y\n", "no data rows"),
        ("x1,x2,y\n1,2,3\n2,4,5\n3,6,7\n4,8,9\n5,10,12\n", "collinear"),
        ("x1,y\n1,a\n2,3\n3,4\n", "non-numeric"),
        ("y\n1\n2\n", "at least one feature"),
        ("x1,x2,y\n1,2\n", "fields"),
    ])
    func badInputsGiveClearErrors(csv: String, fragment: String) {
        #expect {
            _ = try Trainer.train(csv: Data(csv.utf8), labelColumn: nil, trainedAt: Date())
        } throws: { error in
            (error as? TrainingError)?.description.contains(fragment) == true
        }
    }

    @Test func quotedFieldsAndCRLFParse() throws {
        let table = try CSVTable(parsing: "\"a\",\"b, c\"\r\n1,\"2\"\r\n\r\n")
        #expect(table.header == ["a", "b, c"])
        #expect(table.rows == [["1", "2"]])
    }

    @Test func ilearnerRoundTrips() throws {
        let model = LinearModel.initial
        #expect(LinearModel.decode(try model.encoded()) == model)
        #expect(LinearModel.decode(Data("{\"format\":\"other\"}".utf8)) == nil)
        #expect(model.predict(["x1": 2, "x2": 1]) == 3)
    }
}
