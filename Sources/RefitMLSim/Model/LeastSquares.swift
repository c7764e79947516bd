import Foundation

/// Ordinary least squares with an intercept, solved through the normal equations.
public enum LeastSquares {
    /// Fits y ≈ b0 + Σ bj·xj. Returns `[b0, b1, …]`.
    ///
    /// Columns are centred and scaled before forming XᵀX, and the system is solved by Gaussian
    /// elimination with partial pivoting, which keeps well-posed problems accurate and reports
    /// collinear features as an error instead of returning garbage.
    public static func fit(features: [[Double]], labels: [Double]) throws(TrainingError) -> [Double] {
        let n = labels.count
        let p = features.count
        guard n > 0 else { throw TrainingError("The input CSV has no data rows.") }
        guard n > p else {
            throw TrainingError("The input CSV has \(n) data rows; at least \(p + 1) are needed to fit \(p) features and an intercept.")
        }
        // Standardize columns for conditioning.
        var means = [Double](repeating: 0, count: p)
        var scales = [Double](repeating: 1, count: p)
        for j in 0..<p {
            let mean = features[j].reduce(0, +) / Double(n)
            let variance = features[j].reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
            means[j] = mean
            guard variance > 0 else {
                throw TrainingError("Feature column \(j + 1) is constant, so its coefficient cannot be separated from the intercept.")
            }
            scales[j] = variance.squareRoot()
        }
        let yMean = labels.reduce(0, +) / Double(n)
        // Normal equations on standardized features (no intercept needed after centring).
        var a = [[Double]](repeating: [Double](repeating: 0, count: p + 1), count: p)
        for i in 0..<n {
            var z = [Double](repeating: 0, count: p)
            for j in 0..<p { z[j] = (features[j][i] - means[j]) / scales[j] }
            let yc = labels[i] - yMean
            for r in 0..<p {
                for c in 0..<p { a[r][c] += z[r] * z[c] }
                a[r][p] += z[r] * yc
            }
        }
        let beta = try solve(&a)
        var coefficients = [Double](repeating: 0, count: p + 1)
        var intercept = yMean
        for j in 0..<p {
            coefficients[j + 1] = beta[j] / scales[j]
            intercept -= coefficients[j + 1] * means[j]
        }
        coefficients[0] = intercept
        return coefficients
    }

    /// Solves an augmented system in place with partial pivoting.
    static func solve(_ a: inout [[Double]]) throws(TrainingError) -> [Double] {
        let p = a.count
        let scale = a.indices.map { abs(a[$0][$0]) }.max() ?? 1
        for col in 0..<p {
            var pivot = col
            for row in col..<p where abs(a[row][col]) > abs(a[pivot][col]) { pivot = row }
            guard abs(a[pivot][col]) > 1e-10 * max(scale, 1) else {
                throw TrainingError("The feature columns are collinear, so least squares has no unique solution.")
            }
            if pivot != col { a.swapAt(pivot, col) }
            for row in (col + 1)..<max(p, col + 1) {
                let factor = a[row][col] / a[col][col]
                if factor == 0 { continue }
                for k in col...p { a[row][k] -= factor * a[col][k] }
            }
        }
        var x = [Double](repeating: 0, count: p)
        for row in stride(from: p - 1, through: 0, by: -1) {
            var sum = a[row][p]
            for k in (row + 1)..<max(p, row + 1) { sum -= a[row][k] * x[k] }
            x[row] = sum / a[row][row]
        }
        return x
    }
}
