/// Aligned plain-text tables for the command-line tools.
///
/// Widths count Unicode scalars' display columns roughly (one per Character), which is
/// right for the ids, dates and English sentences accord prints.
public struct TextTable {
    public var headers: [String]
    public var rows: [[String]] = []
    /// Columns that are numbers line up on the right.
    public var rightAligned: Set<Int> = []

    public init(headers: [String], rightAligned: Set<Int> = []) {
        self.headers = headers
        self.rightAligned = rightAligned
    }

    public mutating func append(_ row: [String]) { rows.append(row) }

    /// The table as lines; the last column is never padded, so long messages don't leave trailing blanks.
    /// `style` decorates the header line (e.g. bold on a terminal).
    public func render(style: (String) -> String = { $0 }) -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (index, cell) in cells.enumerated() {
                let isLast = index == cells.count - 1
                if rightAligned.contains(index) {
                    parts.append(String(repeating: " ", count: max(0, widths[index] - cell.count)) + cell)
                } else {
                    parts.append(isLast ? cell : cell.padded(to: widths[index]))
                }
            }
            return parts.joined(separator: "  ")
        }
        var output = style(line(headers)) + "\n"
        for row in rows { output += line(row) + "\n" }
        return output
    }
}

extension String {
    /// Padded with spaces to `width` characters; a longer text is left as it is.
    public func padded(to width: Int) -> String {
        let length = count
        return length >= width ? self : self + String(repeating: " ", count: width - length)
    }
}
