// Parallel.map hands results back by index, whichever thread finishes first.
import AccordDaemon
import Testing

@Suite struct ParallelTests {
    @Test(arguments: [0, 1, 2, 3, 7, 1000])
    func resultsComeBackInIndexOrder(count: Int) {
        #expect(Parallel.map(count) { $0 * $0 } == (0..<count).map { $0 * $0 })
    }

    @Test func unevenWorkStillComesBackInOrder() {
        // Early indices do the most work, so later ones finish first on a machine with 2+ cores.
        let sums = Parallel.map(8) { index in (0..<((8 - index) * 200_000)).reduce(0, &+) }
        #expect(sums == (0..<8).map { index in (0..<((8 - index) * 200_000)).reduce(0, &+) })
    }
}
