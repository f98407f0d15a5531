// The flat TOML reader (Sources/AccordTOML over toml++): every type, the order and contiguity of
// arrays of tables, keys, lines, syntax errors with their place, and values that outlive the
// views they came from.
import AccordTOML
import Testing

@Suite struct TOMLDocumentTests {
    @Test func everyTypeReadsBackAsWritten() throws {
        let text = """
            title = "Caf\\u00e9 \\"quoted\\" — ok"
            count = -42
            ratio = 0.25
            on = true
            day = 2017-03-31
            at = 09:30:15
            local = 2017-03-31T17:00:00
            east = 2017-03-31T17:00:00+05:30
            west = 2017-03-31T17:00:00-04:00
            utc = 2017-03-31T17:00:00Z
            list = ["P7D", "P0D"]
            nested = [[1, 2], [3]]
            inline = { date = 2026-02-14, basis = "assumed" }
            "clé" = "unicode key"
            """
        let root = try TOMLDocument(parsing: text).root
        #expect(root["title"]?.string == "Café \"quoted\" — ok")
        #expect(root["count"]?.int == -42)
        #expect(root["count"]?.string == nil)
        #expect(root["ratio"]?.double == 0.25)
        #expect(root["on"]?.bool == true)
        #expect(root["day"]?.date == TOMLDate(year: 2017, month: 3, day: 31))
        #expect(root["day"]?.type == .date)
        #expect(root["day"]?.dateTime == nil)
        #expect(root["at"]?.time == TOMLTime(hour: 9, minute: 30, second: 15, nanosecond: 0))
        #expect(root["local"]?.dateTime?.offsetMinutes == nil)
        #expect(root["local"]?.dateTime?.time.hour == 17)
        #expect(root["east"]?.dateTime?.offsetMinutes == 330)
        #expect(root["west"]?.dateTime?.offsetMinutes == -240)
        #expect(root["utc"]?.dateTime?.offsetMinutes == 0)
        #expect(root["list"]?.array?.map { $0.string } == ["P7D", "P0D"])
        #expect(root["nested"]?.array?.map { $0.array?.map { $0.int } } == [[1, 2], [3]])
        let inline = try #require(root["inline"]?.table)
        #expect(inline["date"]?.date == TOMLDate(year: 2026, month: 2, day: 14))
        #expect(inline["basis"]?.string == "assumed")
        #expect(inline["missing"] == nil)
        #expect(root["clé"]?.string == "unicode key")
        #expect(root["cl"] == nil)
        #expect(root.count == 14)
        #expect(root.keys == root.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        #expect(Set(root.keys).count == 14)
        // Type names as error messages print them.
        #expect(
            ["\(TOMLType.int)", "\(TOMLType.double)", "\(TOMLType.dateTime)", "\(TOMLType.string)"]
                == ["integer", "floating-point number", "date-time", "string"])
    }

    /// Breadth-first flattening must keep each array's entries together and in order, and each
    /// entry's own keys with it, however many there are and however deep.
    @Test func arraysOfTablesKeepTheirOrderAndTheirOwnKeys() throws {
        var lines = ["[dialogue]", "id = \"d\""]
        for index in 0..<2_000 {
            lines += ["[[objective]]", "id = \"o\(index)\"", "due = 2017-01-\(String(format2(index % 28 + 1)))"]
            if index % 3 == 0 { lines += ["[objective.extra]", "n = \(index)", "tags = [\"t\(index)\", \"u\"]"] }
        }
        let root = try TOMLDocument(parsing: lines.joined(separator: "\n")).root
        let objectives = try #require(root["objective"]?.array)
        #expect(objectives.count == 2_000)
        for (index, objective) in objectives.enumerated() {
            let table = try #require(objective.table)
            #expect(table["id"]?.string == "o\(index)")
            #expect(table["due"]?.date?.day == index % 28 + 1)
            if index % 3 == 0 {
                #expect(table["extra"]?.table?["n"]?.int == index)
                #expect(table["extra"]?.table?["tags"]?.array?.first?.string == "t\(index)")
            } else {
                #expect(table["extra"] == nil)
            }
        }
        #expect(root["dialogue"]?.table?["id"]?.string == "d")
    }

    @Test func valuesKnowTheirLines() throws {
        let root = try TOMLDocument(parsing: "a = 1\n\n[t]\nb = \"x\"\n\n[[e]]\nc = 2\n[[e]]\nc = 3\n").root
        #expect(root["a"]?.line == 1)
        #expect(root["t"]?.table?["b"]?.line == 4)
        #expect(root["e"]?.array?.map { $0.table?["c"]?.line } == [7, 9])
    }

    @Test(arguments: [
        ("a = 1\nb = \n", 2),
        ("[*", 1),
        ("x = 1\nx = 2\n", 2),
        ("d = 2017-02-30\n", 1),
        ("[a]\n[a]\n", 2)
    ])
    func syntaxErrorsSayWhere(text: String, line: Int) {
        #expect {
            _ = try TOMLDocument(parsing: text)
        } throws: { error in
            guard let error = error as? TOMLParseError else { return false }
            return error.line == line && !error.description.isEmpty
        }
    }

    /// A value holds its document: it still reads after every other view of it is gone.
    @Test func aValueOutlivesTheViewsItCameFrom() throws {
        func firstTitle() throws -> TOMLValue? {
            let document = try TOMLDocument(parsing: "[[e]]\ntitle = \"a longer title than sixteen bytes\"\n")
            return document.root["e"]?.array?.first?.table?["title"]
        }
        #expect(try firstTitle()?.string == "a longer title than sixteen bytes")
    }

    @Test func anEmptyDocumentIsAnEmptyTable() throws {
        let root = try TOMLDocument(parsing: "").root
        #expect(root.count == 0)
        #expect(root.keys.isEmpty)
        #expect(root["anything"] == nil)
    }
}

private func format2(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
