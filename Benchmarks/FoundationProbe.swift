// The anchor of accordd's idle memory (issue 15): the smallest Swift program that imports
// Foundation, built the way accordd is (-static-stdlib), touching Foundation once so that its
// start-up runs, then sleeping. accordd's idle VmRSS is compared with this one's.
import Foundation

let started = Date()
FileHandle.standardOutput.write("foundation probe up at \(started.timeIntervalSince1970)\n".data(using: .utf8)!)
while true { sleep(3600) }
