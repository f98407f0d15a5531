// The free memory the daemon hands back after each calendar write, and the sorting that keeps
// the next reminder from paying for it.
import CAccordShim
import Glibc
import Testing

@Suite struct FreeMemoryTests {
    @Test(.enabled(if: accord_malloc_is_glibc() != 0, "a sanitizer's allocator replaces glibc's bins"))
    func handingBackFreeMemoryLeavesNoUnsortedChunksBehind() throws {
        // 400,000 blocks of 48 bytes, every other one freed: the freed ones have live neighbours
        // on both sides, so nothing merges them, and trimming moves them all into the
        // unsorted bin, where the next request the small bins cannot serve has to sort them.
        // Counting allocates too (malloc_info's report), and each of those few allocations
        // sorts up to 10,000 of them: of 200,000, well over half are still there.
        var blocks: [UnsafeMutableRawPointer] = []
        for _ in 0..<400_000 { blocks.append(try #require(malloc(48))) }
        for index in stride(from: 0, to: blocks.count, by: 2) { free(blocks[index]) }
        accord_trim_free_memory()
        let trimmed = accord_unsorted_free_chunks()
        accord_sort_unsorted_chunks()
        let released = accord_unsorted_free_chunks()
        for index in stride(from: 1, to: blocks.count, by: 2) { free(blocks[index]) }
        // The counts cover every arena, and sorting covers this thread's: tests on other threads
        // have their own unsorted chunks in both counts. Ours are what the difference is.
        #expect(trimmed >= 100_000, "trimming alone left \(trimmed) unsorted chunks")
        #expect(released >= 0 && trimmed - released >= 90_000, "\(trimmed) unsorted chunks before sorting, \(released) after")
    }
}
