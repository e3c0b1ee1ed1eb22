import Foundation
import Testing

/// A request sent with curl from a file, and the answer as it came over the wire.
struct UploadResponse {
    var code: Int
    /// Lowercased names; every value of each.
    var headers: [String: [String]]
    var body: Data
    /// curl's complaints, if any (a reset while sending, for example).
    var stderr: String

    func header(_ name: String) -> String? { self.headers[name]?.joined(separator: ", ") }
    var text: String { String(decoding: self.body, as: UTF8.self) }
}

/// POSTs the bytes of `file` with `headers` (curl `--data-binary`, so nothing is changed on the way).
/// Waits off the pool: a large upload takes a while.
func upload(
    _ gateway: TestGateway, _ path: String, file: String, headers: [String] = [], extra: [String] = []
) async throws -> UploadResponse {
    let directory = gateway.directory
    let url = gateway.url(path)
    let caPath = gateway.caPath
    return try await offThePool {
        let name = UUID().uuidString
        let headerPath = directory.appendingPathComponent("\(name).headers").path
        let bodyPath = directory.appendingPathComponent("\(name).body").path
        var arguments = [
            "-sS", "--cacert", caPath, "--max-time", "30", "-D", headerPath, "-o", bodyPath, "-w", "%{http_code}",
            "-X", "POST", "--data-binary", "@" + file,
        ]
        for header in headers { arguments += ["-H", header] }
        let result = try run("/usr/bin/curl", arguments + extra + [url])
        var fields: [String: [String]] = [:]
        let head = (try? String(contentsOfFile: headerPath, encoding: .utf8)) ?? ""
        // The last head: a `100 Continue` may come first.
        let lastHead = head.components(separatedBy: "\r\n\r\n").filter { !$0.isEmpty }.last ?? ""
        for line in lastHead.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            fields[line[..<colon].lowercased(), default: []].append(value)
        }
        let body = (try? Data(contentsOf: URL(fileURLWithPath: bodyPath))) ?? Data()
        try? FileManager.default.removeItem(atPath: headerPath)
        try? FileManager.default.removeItem(atPath: bodyPath)
        return UploadResponse(code: Int(result.stdout) ?? 0, headers: fields, body: body, stderr: result.stderr)
    }
}

/// Writes `data` into the gateway's directory and returns the path.
func writeFile(_ gateway: TestGateway, _ name: String, _ data: Data) throws -> String {
    let path = gateway.directory.appendingPathComponent(name).path
    try data.write(to: URL(fileURLWithPath: path))
    return path
}

/// `gzip -c` of a file, made by the system's gzip (not by the code under test).
func gzipFile(_ path: String) throws -> String {
    let result = try run("/bin/sh", ["-c", "/bin/gzip -c \"$0\" > \"$0.gz\"", path])
    #expect(result.status == 0, "gzip: \(result.stderr)")
    return path + ".gz"
}
