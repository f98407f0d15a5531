// accord_release_clean_code_pages: the process's resident code goes down, and the code still runs.
import CAccordShim
import Glibc
import Testing

@Suite struct CodePagesTests {
    /// RssFile from /proc/self/status, in kB.
    static func residentFilePages() -> Int {
        guard let file = fopen("/proc/self/status", "re") else { return -1 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("RssFile:") { return Int(text.split(separator: " ")[1]) ?? -1 }
        }
        return -1
    }

    @Test func residentCodeIsHandedBackAndStillRuns() {
        let before = Self.residentFilePages()
        let released = accord_release_clean_code_pages()
        let after = Self.residentFilePages()
        #expect(released > 0)
        // Other test threads fault some pages back in meanwhile: half of what was released
        // must still be gone.
        #expect(after <= before - Int(released) / 2, "RssFile \(before) kB before, \(after) kB after, \(released) kB released")
        // Code in the binary, libc and the Swift runtime, run again from the page cache.
        let words = (0..<1000).map { "word\($0)" }.sorted().joined(separator: ",")
        #expect(words.split(separator: ",").count == 1000)
        #expect(Self.residentFilePages() > after)
    }
}
