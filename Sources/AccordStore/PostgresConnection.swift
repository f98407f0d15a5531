import AccordCalendar
import AccordCore
import CLibpq
import Glibc

/// One libpq session, used from one thread at a time (the store serializes calls). Parameters
/// go separately from the SQL text (PQexecParams), so no value is ever spliced into a statement.
/// Values travel in text form: integers as decimal, and results come back as strings.
final class PostgresConnection {
    private let pq: UnsafePointer<accord_libpq>
    private var connection: OpaquePointer?
    /// The URL without a password, for messages.
    let location: String
    private let state: StateConfig
    private let applicationName: String
    /// false for the leader lock's session: a new session would not hold the lock, so a broken
    /// one must show as broken rather than be replaced behind the caller's back.
    private let reconnects: Bool
    /// libpq's connect_timeout, in seconds (libpq counts less than 2 as 2).
    private let connectTimeout: Int

    init(
        _ state: StateConfig, applicationName: String = "accordd", reconnects: Bool = true, connectTimeout: Int = 10
    ) throws(StoreError) {
        self.state = state
        self.applicationName = applicationName
        self.reconnects = reconnects
        self.connectTimeout = connectTimeout
        location = state.url
        var reason = [CChar](repeating: 0, count: 512)
        guard let pq = accord_libpq_load(&reason, reason.count) else {
            throw StoreError(path: state.url, operation: "connect", message: String(cString: reason))
        }
        self.pq = pq
        try connect()
    }

    deinit { if let connection { pq.pointee.finish!(connection) } }

    func finish() {
        if let connection { pq.pointee.finish!(connection) }
        connection = nil
    }

    /// Connects with the URL expanded by libpq, then the settings the URL must not carry:
    /// later keywords override the URL's (libpq processes them in order).
    private func connect() throws(StoreError) {
        var keywords = ["dbname", "application_name", "connect_timeout"]
        // 10 s for the store: a database that does not answer within it is down; the leader session, less.
        var values = [state.url, applicationName, String(connectTimeout)]
        if let sslMode = state.sslMode { keywords.append("sslmode"); values.append(sslMode) }
        if let file = state.passwordFile {
            keywords.append("password"); values.append(try PostgresConnection.readPassword(file, location: location))
        }
        let made: OpaquePointer? = withCStrings(keywords) { keywordPointers in
            withCStrings(values) { valuePointers in
                pq.pointee.connectdbParams!(keywordPointers, valuePointers, 1)
            }
        }
        guard let made else { throw StoreError(path: location, operation: "connect", message: "libpq could not allocate a connection") }
        if pq.pointee.status!(made) != CONNECTION_OK {
            let message = PostgresConnection.trimmed(pq.pointee.errorMessage!(made))
            pq.pointee.finish!(made)
            throw StoreError(path: location, operation: "connect", message: message)
        }
        // Notices (e.g. "relation already exists, skipping") are not for the operator's journal.
        pq.pointee.setNoticeProcessor!(made, { _, _ in }, nil)
        connection = made
    }

    /// The password file holds the password alone (a trailing newline is dropped). Like libpq
    /// with ~/.pgpass, a file others may read is refused rather than used.
    static func readPassword(_ file: String, location: String) throws(StoreError) -> String {
        var info = stat()
        guard stat(file, &info) == 0 else {
            throw StoreError(
                path: location, operation: "connect",
                message: "password-file \(file): \(String(cString: strerror(errno)))")
        }
        if info.st_mode & 0o007 != 0 {
            throw StoreError(
                path: location, operation: "connect",
                message: "password-file \(file) may be read by any user (mode \(String(info.st_mode & 0o777, radix: 8))): chmod o-rwx it")
        }
        guard let handle = fopen(file, "r") else {
            throw StoreError(
                path: location, operation: "connect",
                message: "password-file \(file): \(String(cString: strerror(errno)))")
        }
        defer { fclose(handle) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, handle)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        var text = String(decoding: bytes, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        if text.isEmpty || text.contains("\n") {
            throw StoreError(
                path: location, operation: "connect",
                message: "password-file \(file) must hold the password alone, on one line")
        }
        return text
    }

    /// The rows of a statement's result, as text (nil for SQL NULL), and the affected row count.
    struct Result {
        var rows: [[String?]]
        var affected: Int
    }

    /// Runs one statement. A connection found broken is re-established once before the
    /// statement is sent (not after: a statement may have run before the link died).
    @discardableResult
    func execute(_ sql: String, _ parameters: [String?] = [], operation: String) throws(StoreError) -> Result {
        if connection == nil || pq.pointee.status!(connection) != CONNECTION_OK {
            guard reconnects else {
                throw StoreError(path: location, operation: operation, message: "the database session was lost")
            }
            finish()
            try connect()
        }
        let result: OpaquePointer? = withOptionalCStrings(parameters) { pointers in
            pq.pointee.execParams!(connection, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
        }
        defer { pq.pointee.clear!(result) }
        let status = pq.pointee.resultStatus!(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            var message = result.map { PostgresConnection.trimmed(pq.pointee.resultErrorMessage!($0)) } ?? ""
            if message.isEmpty { message = PostgresConnection.trimmed(pq.pointee.errorMessage!(connection)) }
            if let result, let state = pq.pointee.resultErrorField!(result, Int32(UInt8(ascii: "C"))) {
                message += " (SQLSTATE \(String(cString: state)))"
            }
            throw StoreError(path: location, operation: operation, message: message)
        }
        var rows: [[String?]] = []
        let rowCount = pq.pointee.ntuples!(result), columnCount = pq.pointee.nfields!(result)
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                values.append(
                    pq.pointee.getisnull!(result, row, column) == 1
                        ? nil
                        : pq.pointee.getvalue!(result, row, column).map { String(cString: $0) } ?? "")
            }
            rows.append(values)
        }
        let affected = pq.pointee.cmdTuples!(result).flatMap { Int(String(cString: $0)) } ?? 0
        return Result(rows: rows, affected: affected)
    }

    /// Drops the session and opens a new one.
    func reconnect() throws(StoreError) {
        finish()
        try connect()
    }

    /// Several statements without parameters (a migration), through PQexec, which accepts them.
    func executeScript(_ sql: String, operation: String) throws(StoreError) {
        guard connection != nil else { throw StoreError(path: location, operation: operation, message: "not connected") }
        let result = pq.pointee.exec!(connection, sql)
        defer { pq.pointee.clear!(result) }
        let status = pq.pointee.resultStatus!(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            var message = result.map { PostgresConnection.trimmed(pq.pointee.resultErrorMessage!($0)) } ?? ""
            if message.isEmpty { message = PostgresConnection.trimmed(pq.pointee.errorMessage!(connection)) }
            throw StoreError(path: location, operation: operation, message: message)
        }
    }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    func transaction<T>(
        _ operation: String, begin: String = "BEGIN",
        _ body: () throws(StoreError) -> T
    ) throws(StoreError) -> T {
        try execute(begin, operation: operation)
        do {
            let value = try body()
            try execute("COMMIT", operation: operation)
            return value
        } catch {
            _ = try? execute("ROLLBACK", operation: operation)
            throw error
        }
    }

    static func trimmed(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        var text = String(cString: pointer)
        while text.last?.isWhitespace == true { text.removeLast() }
        return text.replacingNewlines()
    }
}

extension String {
    /// libpq's messages run over several lines ("DETAIL: …"): one line for the journal.
    fileprivate func replacingNewlines() -> String {
        split(separator: "\n").map { $0.trimmingSpaces() }.joined(separator: "; ")
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" })
    }
}

/// A NULL-terminated array of C strings alive for the duration of `body`.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    withOptionalCStrings(strings.map { Optional($0) }) { pointers in body(pointers) }
}

private func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    var copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } ?? nil }
    copies.append(nil)
    defer { for copy in copies { free(copy) } }
    return copies.withUnsafeBufferPointer { buffer in
        buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { body($0) }
    }
}
