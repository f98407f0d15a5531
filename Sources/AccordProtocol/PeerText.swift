// Text that came from a peer (a client's parameters, a portfolio's titles and notes), made safe
// to store and to show: bounded in length and with control characters visible. Both sides use
// it: the daemon before it stores or logs what a refused client sent, accordctl before it
// prints anything on a terminal.

extension String {
    /// The text with every control character (C0, DEL and C1; newlines and tabs included) shown
    /// as `\u{1B}`, so that it cannot move the cursor, recolour or retitle a terminal.
    public var escapingControlCharacters: String {
        guard unicodeScalars.contains(where: \.isControl) else { return self }
        var out = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if scalar.isControl {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// At most `limit` bytes of UTF-8, cut at a character boundary, with "…" when cut.
    public func truncated(toBytes limit: Int) -> String {
        guard utf8.count > limit else { return self }
        var out = ""
        var used = 0
        for character in self {
            let size = character.utf8.count
            if used + size > max(0, limit - 3) { break }
            out.append(character)
            used += size
        }
        return out + "…"
    }
}

extension Unicode.Scalar {
    /// C0 controls, DEL and the C1 controls (which some terminals obey as escape sequences).
    public var isControl: Bool { value < 0x20 || (0x7F...0x9F).contains(value) }
}
