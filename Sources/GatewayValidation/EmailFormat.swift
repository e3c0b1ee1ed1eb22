/// `format: email`, validated as pydantic's `EmailStr`: pydantic's `validate_email` wrapper (2048
/// characters at most, `Name <address>` unwrapped, whitespace stripped) around the
/// `email-validator` package's syntax checks with pydantic's options (no deliverability check,
/// no quoted local parts, no domain literals, no display names), with its reasons.
///
/// Internationalised domains are checked with simplified IDNA rules (lowercasing and Punycode,
/// not the full UTS 46 tables), so a rare non-ASCII domain may be judged differently.
enum EmailFormat {
    static func validate(_ text: Substring) -> Result<String, ConstraintFailure> {
        if text.unicodeScalars.count > 2048 { return .failure(Self.failure("Length must not exceed 2048 characters")) }
        var address = text
        if let match = try? Self.prettyAddress.wholeMatch(in: text), let inner = match.output[3].substring {
            address = inner
        }
        return EmailSyntax.validate(Array(PythonText.strip(address).unicodeScalars)).mapError { Self.failure($0.text) }
    }

    private static func failure(_ reason: String) -> ConstraintFailure {
        ConstraintFailure(
            type: "value_error", message: "value is not a valid email address: \(reason)",
            ctx: JSONObject(["reason": .string(reason)]))
    }

    /// pydantic's `pretty_email_regex`: an optional display name, then `<address>`.
    nonisolated(unsafe) private static let prettyAddress: Regex<AnyRegexOutput> = {
        let nameCharacter = #"[\w!#$%&'*+\-/=?^_`{|}~]"#
        let pattern =
            #"\s*(?:((?:"# + nameCharacter + #"+\s+)*"# + nameCharacter + #"+)|"((?:[^"]|\")+)")?\s*<(.+)>\s*"#
        let regex = try! Regex(pattern).matchingSemantics(.unicodeScalar)
        _ = try? regex.wholeMatch(in: "")  // lower the program once, here
        return regex
    }()
}

/// Python's `str.strip()`/`rstrip()` whitespace.
enum PythonText {
    static func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace || (0x1C...0x1F).contains(s.value) }

    static func strip(_ text: Substring) -> Substring {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !Self.isSpace($0) }) else { return text[text.endIndex...] }
        let last = scalars.lastIndex(where: { !Self.isSpace($0) })!
        return Substring(scalars[first...last])
    }
}

/// `email_validator.validate_email(email, check_deliverability=False)` with the package defaults
/// pydantic keeps. Success is the normalised address; failure is the exception's text.
enum EmailSyntax {
    typealias Scalars = [Unicode.Scalar]

    private static let maxEmailLength = 254
    private static let maxDomainLength = 253
    private static let maxLabelLength = 63
    private static let caseInsensitiveMailboxes: Set<String> = [
        "info", "marketing", "sales", "support", "abuse", "noc", "security", "postmaster", "hostmaster", "usenet",
        "news", "webmaster", "www", "uucp", "ftp",
    ]
    private static let specialUseDomains = ["arpa", "invalid", "local", "localhost", "onion", "test"]

    static func validate(_ email: Scalars) -> Result<String, Reason> {
        do throws(Reason) {
            return .success(try Self.check(email))
        } catch {
            return .failure(error)
        }
    }

    struct Reason: Error {
        var text: String
        init(_ text: String) { self.text = text }
    }

    private static func check(_ email: Scalars) throws(Reason) -> String {
        // split_email
        let (left, right) = try Self.split(email[...], at: ["@", "<"])
        var displayName: Scalars?
        var localPart: ArraySlice<Unicode.Scalar>
        var domainPart: ArraySlice<Unicode.Scalar>
        if right.first == "<" {
            var trimmed = left
            while let last = trimmed.last, PythonText.isSpace(last) { trimmed.removeLast() }
            let (name, quoted) = try Self.unquote(trimmed)
            if !quoted {
                let bad = Set(name.filter { (!Self.isAtext($0) && $0 != "." && $0 != " ") || $0 == "." }.map(Self.display))
                if !bad.isEmpty {
                    throw Reason("The display name contains invalid characters when not quoted: \(Self.list(bad)).")
                }
            }
            try Self.checkUnsafe(name[...], allowSpace: true)
            guard right.contains(">") else {
                throw Reason(
                    "An open angle bracket at the start of the email address has to be followed by a close angle bracket at the end."
                )
            }
            var rest = right
            while rest.last == " " { rest.removeLast() }
            guard rest.last == ">" else { throw Reason("There can't be anything after the email address.") }
            (localPart, domainPart) = try Self.split(rest.dropFirst().dropLast(), at: ["@"])
            displayName = name
        } else {
            (localPart, domainPart) = (left, right)
        }
        if domainPart.first == "@" { domainPart = domainPart.dropFirst() }
        let (unquotedLocal, isQuoted) = try Self.unquote(localPart)

        // validate_email
        let original = Array(localPart) + ["@"] + Array(domainPart)
        var (local, asciiLocal) = try Self.validateLocalPart(unquotedLocal, quoted: isQuoted)
        if isQuoted { throw Reason("Quoting the part before the @-sign is not allowed here.") }
        if let ascii = asciiLocal, Self.caseInsensitiveMailboxes.contains(ascii.lowercased()) {
            asciiLocal = ascii.lowercased()
            local = local.lowercased()
        }
        guard !domainPart.isEmpty else { throw Reason("There must be something after the @-sign.") }
        let domain: String
        let asciiDomain: String
        if domainPart.first == "[" && domainPart.last == "]" && domainPart.count >= 2 {
            try Self.validateDomainLiteral(domainPart.dropFirst().dropLast())
            throw Reason("A bracketed IP address after the @-sign is not allowed here.")
        } else {
            (domain, asciiDomain) = try Self.validateDomainName(Array(domainPart))
        }
        let normalized = local + "@" + domain
        try Self.checkLength([
            (String(String.UnicodeScalarView(original)), nil),
            (normalized, "after normalization"),
            ((asciiLocal ?? local) + "@" + asciiDomain, "when the part after the @-sign is converted to IDNA ASCII"),
        ])
        if displayName != nil {
            throw Reason("A display name and angle brackets around the email address are not permitted here.")
        }
        return normalized
    }

    // MARK: Splitting

    private static func split(_ text: ArraySlice<Unicode.Scalar>, at specials: Set<Unicode.Scalar>) throws(Reason)
        -> (ArraySlice<Unicode.Scalar>, ArraySlice<Unicode.Scalar>)
    {
        var insideQuote = false
        var escaped = false
        for i in text.indices {
            let c = text[i]
            if insideQuote {
                if c == "\\" && !escaped {
                    escaped = true
                } else if c == "\"" && !escaped {
                    insideQuote = false
                    escaped = false
                } else {
                    escaped = false
                }
            } else if c == "\"" {
                insideQuote = true
            } else if specials.contains(c) {
                return (text[..<i], text[i...])
            }
        }
        if text.contains("\u{FF20}") {
            throw Reason(
                "The email address has the \"full-width\" at-sign (@) character instead of a regular at-sign.")
        }
        if text.contains("\u{FE6B}") {
            throw Reason("The email address has the \"small commercial at\" character instead of a regular at-sign.")
        }
        throw Reason("An email address must have an @-sign.")
    }

    private static func unquote(_ text: ArraySlice<Unicode.Scalar>) throws(Reason) -> (Scalars, Bool) {
        var quoted = false
        var escaped = false
        var value: Scalars = []
        for (k, i) in text.indices.enumerated() {
            let c = text[i]
            if quoted {
                if escaped {
                    value.append(c)
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else if c == "\"" {
                    if i != text.endIndex - 1 {
                        throw Reason(
                            "Extra character(s) found after close quote: "
                                + text[(i + 1)...].map(Self.display).joined(separator: ", "))
                    }
                    break
                } else {
                    value.append(c)
                }
            } else if k == 0 && c == "\"" {
                quoted = true
            } else {
                value.append(c)
            }
        }
        return (value, quoted)
    }

    // MARK: Local part

    private static func validateLocalPart(_ local: Scalars, quoted: Bool) throws(Reason) -> (String, String?) {
        guard !local.isEmpty else { throw Reason("There must be something before the @-sign.") }
        let text = String(String.UnicodeScalarView(local))
        if Self.isDotAtom(local[...], Self.isAtext) { return (text, text) }
        var requiresUTF8 = false
        var valid = false
        var validAsQuoted = false
        if Self.isDotAtom(local[...], { Self.isAtext($0) || $0.value >= 0x80 }) {
            valid = true
            requiresUTF8 = true
        } else if quoted {
            validAsQuoted = true
            let bad = Set(local.filter { !(0x20...0x7E).contains($0.value) && $0.value < 0x80 }.map(Self.display))
            if !bad.isEmpty {
                throw Reason("The email address contains invalid characters in quotes before the @-sign: \(Self.list(bad)).")
            }
            requiresUTF8 = local.contains { !(0x20...0x7E).contains($0.value) }
            valid = true
        }
        if valid {
            try Self.checkUnsafe(local[...], allowSpace: validAsQuoted)
            return (text, requiresUTF8 ? nil : text)
        }
        let bad = Set(local.filter { !(Self.isAtext($0) || $0 == "." || $0.value >= 0x80) }.map(Self.display))
        if !bad.isEmpty {
            throw Reason("The email address contains invalid characters before the @-sign: \(Self.list(bad)).")
        }
        try Self.checkDotAtom(
            local, start: "An email address cannot start with a %.",
            end: "An email address cannot have a % immediately before the @-sign.", hostname: false)
        throw Reason("The email address contains invalid characters before the @-sign.")
    }

    // MARK: Domain

    private static func validateDomainName(_ input: Scalars) throws(Reason) -> (String, String) {
        if input.count > Self.maxDomainLength {
            throw Reason("The email address is too long after the @-sign \(Self.lengthReason(input.count, Self.maxDomainLength)).")
        }
        var bad = Set(input.filter { !Self.isHostnameCharacter($0) }.map(Self.display))
        if !bad.isEmpty { throw Reason("The part after the @-sign contains invalid characters: \(Self.list(bad)).") }
        try Self.checkUnsafe(input[...], allowSpace: false)
        bad = Set(input.filter { !Self.isUTS46Valid($0) }.map(Self.display))
        if !bad.isEmpty { throw Reason("The part after the @-sign contains invalid characters: \(Self.list(bad)).") }
        // UTS 46 mapping, simplified to lowercasing.
        let domain = Array(String(String.UnicodeScalarView(input)).lowercased().unicodeScalars)
        bad = Set(domain.filter { !Self.isHostnameCharacter($0) }.map(Self.display))
        if !bad.isEmpty {
            throw Reason(
                "The part after the @-sign contains invalid characters after Unicode normalization: \(Self.list(bad)).")
        }
        try Self.checkDotAtom(
            domain, start: "An email address cannot have a % immediately after the @-sign.",
            end: "An email address cannot end with a %.", hostname: true)
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels where label.count >= 4 && label[label.startIndex + 2] == "-"
            && label[label.startIndex + 3] == "-"
            && String(String.UnicodeScalarView(label.prefix(2))).lowercased() != "xn"
        {
            throw Reason(
                "An email address cannot have two letters followed by two dashes immediately after the @-sign or after a period, except Punycode."
            )
        }
        let domainText = String(String.UnicodeScalarView(domain))
        var asciiDomain: String
        if Self.isHostname(domain) {
            asciiDomain = domainText
        } else {
            for label in labels where !label.allSatisfy(\.isASCII) {
                try Self.checkIDNACodePoints(label)
            }
            asciiDomain = labels.map { label in
                label.allSatisfy(\.isASCII)
                    ? String(String.UnicodeScalarView(label)) : "xn--" + Punycode.encode(String(String.UnicodeScalarView(label)))
            }.joined(separator: ".")
            if asciiDomain.split(separator: ".").contains(where: { $0.utf8.count > Self.maxLabelLength }) {
                throw Reason("The part after the @-sign is invalid (Label too long).")
            }
            guard Self.isHostname(Array(asciiDomain.unicodeScalars)) else {
                throw Reason("The email address contains invalid characters after the @-sign after IDNA encoding.")
            }
        }
        if asciiDomain.utf8.count > Self.maxDomainLength {
            if asciiDomain == String(String.UnicodeScalarView(input)) {
                throw Reason(
                    "The email address is too long after the @-sign \(Self.lengthReason(asciiDomain.utf8.count, Self.maxDomainLength)).")
            }
            let diff = asciiDomain.utf8.count - Self.maxDomainLength
            throw Reason(
                "The email address is too long after the @-sign (\(diff) byte\(diff == 1 ? "" : "s") too many after IDNA encoding).")
        }
        for label in asciiDomain.split(separator: ".", omittingEmptySubsequences: false)
        where label.utf8.count > Self.maxLabelLength {
            throw Reason(
                "After the @-sign, periods cannot be separated by so many characters \(Self.lengthReason(label.utf8.count, Self.maxLabelLength)).")
        }
        if !asciiDomain.contains(".") {
            throw Reason("The part after the @-sign is not valid. It should have a period.")
        }
        guard let lastCharacter = asciiDomain.unicodeScalars.last, Self.isASCIILetter(lastCharacter) else {
            throw Reason("The part after the @-sign is not valid. It is not within a valid top-level domain.")
        }
        for name in Self.specialUseDomains where asciiDomain == name || asciiDomain.hasSuffix("." + name) {
            throw Reason("The part after the @-sign is a special-use or reserved name that cannot be used with email.")
        }
        guard asciiDomain.contains("xn--") else { return (asciiDomain, asciiDomain) }
        var unicodeLabels: [String] = []
        for label in asciiDomain.split(separator: ".", omittingEmptySubsequences: false) {
            guard label.hasPrefix("xn--") else {
                unicodeLabels.append(String(label))
                continue
            }
            guard let decoded = Punycode.decode(label.dropFirst(4)), !decoded.isEmpty else {
                throw Reason("The part after the @-sign is not valid IDNA (Invalid A-label).")
            }
            unicodeLabels.append(decoded)
        }
        let unicodeDomain = Array(unicodeLabels.joined(separator: ".").unicodeScalars)
        bad = Set(unicodeDomain.filter { !Self.isHostnameCharacter($0) }.map(Self.display))
        if !bad.isEmpty { throw Reason("The part after the @-sign contains invalid characters: \(Self.list(bad)).") }
        try Self.checkUnsafe(unicodeDomain[...], allowSpace: false)
        return (String(String.UnicodeScalarView(unicodeDomain)), asciiDomain)
    }

    /// IDNA 2008's code point check, approximated by general category: letters (other than
    /// upper and title case), marks and decimal digits are allowed, the rest is not.
    private static func checkIDNACodePoints(_ label: ArraySlice<Unicode.Scalar>) throws(Reason) {
        for (k, c) in label.enumerated() {
            if c.isASCII && (("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "-") { continue }
            switch c.properties.generalCategory {
            case .lowercaseLetter, .otherLetter, .modifierLetter, .nonspacingMark, .spacingMark, .decimalNumber:
                continue
            default:
                let hex = String(c.value, radix: 16, uppercase: true)
                let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                let text = PythonRepr.string(String(String.UnicodeScalarView(label)))
                throw Reason("The part after the @-sign is invalid (Codepoint \(code) at position \(k + 1) of \(text) not allowed).")
            }
        }
    }

    /// `validate_email_domain_literal`, as far as it reports before pydantic's options refuse
    /// every domain literal.
    private static func validateDomainLiteral(_ literal: ArraySlice<Unicode.Scalar>) throws(Reason) {
        let text = String(String.UnicodeScalarView(literal))
        if !literal.isEmpty && literal.allSatisfy({ $0 == "." || ("0"..."9").contains($0) }) {
            if let problem = Self.ipv4Problem(text) {
                throw Reason(
                    "The address in brackets after the @-sign is not valid: It is not an IPv4 address (\(problem)) or is missing an address literal tag.")
            }
            return
        }
        if text.prefix(5).lowercased() == "ipv6:" { return }
        if !text.contains(":") {
            throw Reason("The part after the @-sign in brackets is not an IPv4 address and has no address literal tag.")
        }
        let bad = Set(literal.filter { !(0x21...0xFA).contains($0.value) }.map(Self.display))
        if !bad.isEmpty {
            throw Reason("The part after the @-sign contains invalid characters in brackets: \(Self.list(bad)).")
        }
        throw Reason("The part after the @-sign contains an invalid address literal tag in brackets.")
    }

    /// `ipaddress.IPv4Address(text)`'s complaint, or nil when it is an address.
    private static func ipv4Problem(_ text: String) -> String? {
        let quoted = PythonRepr.string(text)
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return "Expected 4 octets in \(quoted)" }
        for octet in octets {
            if octet.isEmpty { return "Empty octet not permitted in \(quoted)" }
            if octet.count > 3 { return "At most 3 characters permitted in \(PythonRepr.string(String(octet))) in \(quoted)" }
            if octet != "0" && octet.first == "0" {
                return "Leading zeros are not permitted in \(PythonRepr.string(String(octet))) in \(quoted)"
            }
            if let value = Int(octet), value > 255 { return "Octet \(value) (> 255) not permitted in \(quoted)" }
        }
        return nil
    }

    // MARK: Checks shared by both parts

    private static func checkDotAtom(_ label: Scalars, start: String, end: String, hostname: Bool) throws(Reason) {
        func say(_ template: String, _ what: String) -> Reason {
            Reason(template.replacingPercent(with: what))
        }
        if label.last == "." { throw say(end, "period") }
        if label.first == "." { throw say(start, "period") }
        if zip(label, label.dropFirst()).contains(where: { $0 == "." && $1 == "." }) {
            throw Reason("An email address cannot have two periods in a row.")
        }
        if hostname {
            if label.last == "-" { throw say(end, "hyphen") }
            if label.first == "-" { throw say(start, "hyphen") }
            if zip(label, label.dropFirst()).contains(where: { ($0 == "." && $1 == "-") || ($0 == "-" && $1 == ".") }) {
                throw Reason("An email address cannot have a period and a hyphen next to each other.")
            }
        }
    }

    private static func checkUnsafe(_ text: ArraySlice<Unicode.Scalar>, allowSpace: Bool) throws(Reason) {
        var bad = Set<Unicode.Scalar>()
        for (k, c) in text.enumerated() {
            switch Self.categoryClass(c) {
            case "L", "N", "P", "S": continue
            case "M": if k == 0 { bad.insert(c) }
            case "Zs": if !allowSpace { bad.insert(c) }
            default: bad.insert(c)
            }
        }
        if !bad.isEmpty {
            throw Reason(
                "The email address contains unsafe characters: "
                    + bad.sorted { $0.value < $1.value }.map(Self.display).joined(separator: ", ") + ".")
        }
    }

    private static func checkLength(_ addresses: [(String, String?)]) throws(Reason) {
        for (address, reason) in addresses {
            let characters = address.unicodeScalars.count
            let bytes = address.utf8.count
            let diff = bytes - Self.maxEmailLength
            guard diff > 0 else { continue }
            let plural = diff > 1 ? "s" : ""
            let why: String
            if let reason {
                why = "\(reason) (\(diff) byte\(plural) too many)"
            } else if characters == bytes {
                why = Self.lengthReason(characters, Self.maxEmailLength)
            } else {
                let widest = address.unicodeScalars.map { UTF8.width($0) }.max() ?? 1
                let fewest = max(1, diff / widest)
                why = fewest == diff ? "(\(diff) character\(plural) too many)" : "(\(fewest)-\(diff) character\(plural) too many)"
            }
            throw Reason("The email address is too long \(why).")
        }
    }

    private static func lengthReason(_ length: Int, _ limit: Int) -> String {
        let diff = length - limit
        return "(\(diff) character\(diff > 1 ? "s" : "") too many)"
    }

    // MARK: Character classes

    private static func isASCIILetter(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c)
    }

    /// RFC 5322 atext.
    private static func isAtext(_ c: Unicode.Scalar) -> Bool {
        Self.isASCIILetter(c) || ("0"..."9").contains(c) || "_!#$%&'*+-/=?^`{|}~".unicodeScalars.contains(c)
    }

    private static func isHostnameCharacter(_ c: Unicode.Scalar) -> Bool {
        Self.isASCIILetter(c) || ("0"..."9").contains(c) || c == "-" || c == "." || c.value >= 0x80
    }

    /// `DOT_ATOM_TEXT`-style: non-empty runs of allowed characters separated by single dots.
    private static func isDotAtom(_ text: ArraySlice<Unicode.Scalar>, _ allowed: (Unicode.Scalar) -> Bool) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(allowed) }
    }

    /// `DOT_ATOM_TEXT_HOSTNAME`: ASCII labels of letters, digits and inner hyphens.
    private static func isHostname(_ domain: Scalars) -> Bool {
        domain.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            guard let first = label.first, let last = label.last else { return false }
            func alnum(_ c: Unicode.Scalar) -> Bool { Self.isASCIILetter(c) || ("0"..."9").contains(c) }
            return alnum(first) && alnum(last) && label.allSatisfy { alnum($0) || $0 == "-" }
        }
    }

    private static func isUTS46Valid(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if (0x80...0x9F).contains(v) { return false }
        if ((0x2010...0x2060).contains(v) && !(0x2024...0x2026).contains(v) && !(0x2028...0x202E).contains(v))
            || [0x00AD, 0x2064, 0xFF0E].contains(v) || (0x200B...0x200D).contains(v) || (0x1BCA0...0x1BCA3).contains(v)
        {
            return true
        }
        switch c.properties.generalCategory {
        case .format, .unassigned, .privateUse, .surrogate, .spaceSeparator, .lineSeparator, .paragraphSeparator:
            return false
        default:
            return true
        }
    }

    /// The first letter of the Unicode general category, "Zs" kept whole.
    private static func categoryClass(_ c: Unicode.Scalar) -> String {
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return "L"
        case .decimalNumber, .letterNumber, .otherNumber: return "N"
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation:
            return "P"
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol: return "S"
        case .nonspacingMark, .spacingMark, .enclosingMark: return "M"
        case .spaceSeparator: return "Zs"
        case .lineSeparator, .paragraphSeparator: return "Z"
        default: return "C"
        }
    }

    /// `safe_character_display`.
    private static func display(_ c: Unicode.Scalar) -> String {
        if c == "\\" { return "\"\\\"" }
        switch Self.categoryClass(c) {
        case "L", "N", "P", "S": return PythonRepr.string(String(c))
        default:
            if let name = c.properties.name { return name }
            let hex = String(c.value, radix: 16, uppercase: true)
            let width = c.value < 0xFFFF ? 4 : 8
            return "U+" + String(repeating: "0", count: max(0, width - hex.count)) + hex
        }
    }

    /// `", ".join(sorted(...))`, sorted by code points as Python sorts strings.
    private static func list(_ items: Set<String>) -> String {
        items.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }.joined(separator: ", ")
    }
}

extension String {
    fileprivate func replacingPercent(with word: String) -> String {
        var out = ""
        for c in self { if c == "%" { out += word } else { out.append(c) } }
        return out
    }
}
