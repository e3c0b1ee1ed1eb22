/// "did you mean" for unknown keys: catches typos (`matc`), other casings
/// (`Match`) and camelCase spellings (`maxBodyBytes`).
enum KeySuggestion {
    /// ` (did you mean "match"?)`, or ` (known keys: a, b, c)` when nothing is close.
    static func hint(for key: String, among keys: [String]) -> String {
        if let suggestion = closest(to: key, among: keys) {
            return " (did you mean \"\(suggestion)\"?)"
        }
        return " (known keys: \(keys.joined(separator: ", ")))"
    }

    static func closest(to key: String, among keys: [String]) -> String? {
        let normalizedKey = normalize(key)
        if let sameWord = keys.first(where: { normalize($0) == normalizedKey }) {
            return sameWord
        }
        // Allow one edit per three characters, at most two: close enough to be a typo.
        let limit = min(2, max(1, key.count / 3))
        let scored = keys.map { (key: $0, distance: editDistance(normalizedKey, normalize($0))) }
        guard let best = scored.min(by: { $0.distance < $1.distance }), best.distance <= limit else {
            return nil
        }
        return best.key
    }

    private static func normalize(_ key: String) -> [Character] {
        Array(key.lowercased().filter { $0 != "_" && $0 != "-" })
    }

    /// Levenshtein distance.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
