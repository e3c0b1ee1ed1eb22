/// RFC 3492 Punycode, for the A-labels (`xn--…`) of internationalised email domains.
enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700, initialBias = 72, initialN = 128

    private static func adapt(_ delta: Int, _ count: Int, _ first: Bool) -> Int {
        var delta = first ? delta / Self.damp : delta / 2
        delta += delta / count
        var k = 0
        while delta > ((Self.base - Self.tMin) * Self.tMax) / 2 {
            delta /= Self.base - Self.tMin
            k += Self.base
        }
        return k + (Self.base - Self.tMin + 1) * delta / (delta + Self.skew)
    }

    private static func digit(_ d: Int) -> Unicode.Scalar {
        Unicode.Scalar(UInt8(d < 26 ? d + 97 : d + 22))
    }

    /// The Punycode of `label` (without the `xn--` prefix).
    static func encode(_ label: String) -> String {
        let input = label.unicodeScalars.map { Int($0.value) }
        var output = String.UnicodeScalarView()
        for c in input where c < 0x80 { output.append(Unicode.Scalar(UInt8(c))) }
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append("-") }
        var n = Self.initialN, delta = 0, bias = Self.initialBias
        while handled < input.count {
            let m = input.filter { $0 >= n }.min()!
            delta += (m - n) * (handled + 1)
            n = m
            for c in input {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = Self.base
                    while true {
                        let t = k <= bias ? Self.tMin : (k >= bias + Self.tMax ? Self.tMax : k - bias)
                        if q < t { break }
                        output.append(Self.digit(t + (q - t) % (Self.base - t)))
                        q = (q - t) / (Self.base - t)
                        k += Self.base
                    }
                    output.append(Self.digit(q))
                    bias = Self.adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return String(output)
    }

    /// The label a Punycode string (without `xn--`) stands for, or nil when it is malformed.
    static func decode(_ text: Substring) -> String? {
        let scalars = Array(text.unicodeScalars)
        guard scalars.allSatisfy({ $0.isASCII }) else { return nil }
        var output: [Int] = []
        var start = 0
        if let delimiter = scalars.lastIndex(of: "-") {
            output = scalars[..<delimiter].map { Int($0.value) }
            start = delimiter + 1
        }
        var n = Self.initialN, i = 0, bias = Self.initialBias
        var position = start
        while position < scalars.count {
            let oldI = i
            var w = 1
            var k = Self.base
            while true {
                guard position < scalars.count else { return nil }
                let c = Int(scalars[position].value)
                position += 1
                let d: Int
                switch c {
                case 0x30...0x39: d = c - 22
                case 0x41...0x5A: d = c - 0x41
                case 0x61...0x7A: d = c - 0x61
                default: return nil
                }
                guard d <= (Int(Int32.max) - i) / w else { return nil }
                i += d * w
                let t = k <= bias ? Self.tMin : (k >= bias + Self.tMax ? Self.tMax : k - bias)
                if d < t { break }
                w *= Self.base - t
                k += Self.base
            }
            bias = Self.adapt(i - oldI, output.count + 1, oldI == 0)
            n += i / (output.count + 1)
            i %= output.count + 1
            guard n <= 0x10FFFF, !(0xD800...0xDFFF).contains(n) else { return nil }
            output.insert(n, at: i)
            i += 1
        }
        var result = String.UnicodeScalarView()
        for c in output { result.append(Unicode.Scalar(UInt32(c))!) }
        return String(result)
    }
}
