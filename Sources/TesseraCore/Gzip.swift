import CZlib
import Foundation

/// gzip (RFC 1952) through the system zlib, a piece at a time: bulk user exports are written and read as gzipped
/// NDJSON, as Auth0 serves them, without holding the whole file uncompressed.
public final class GzipWriter {
    private var stream = z_stream()
    private var finished = false

    /// Level 6 is zlib's default balance; exports are written once and read once.
    public init(level: Int32 = 6) throws(DomainError) {
        // windowBits 15 + 16: a gzip header and trailer rather than zlib's.
        let status = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw DomainError(.unavailable, code: "gzip", "zlib could not start compressing (\(status))") }
    }

    deinit { deflateEnd(&stream) }

    /// Compresses `bytes`; the result may be empty (zlib holds input until it has a block's worth).
    public func compress(_ bytes: some Collection<UInt8>) -> [UInt8] {
        run(Array(bytes), flush: Z_NO_FLUSH)
    }

    /// The last compressed bytes and the gzip trailer.
    public func finish() -> [UInt8] {
        guard !finished else { return [] }
        finished = true
        return run([], flush: Z_FINISH)
    }

    private func run(_ input: [UInt8], flush: Int32) -> [UInt8] {
        var output: [UInt8] = []
        var input = input
        let chunk = 64 * 1024
        var buffer = [UInt8](repeating: 0, count: chunk)
        input.withUnsafeMutableBufferPointer { inputBytes in
            stream.next_in = inputBytes.baseAddress
            stream.avail_in = UInt32(inputBytes.count)
            repeat {
                buffer.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(chunk)
                    _ = deflate(&stream, flush)
                    output.append(contentsOf: out[0..<(chunk - Int(stream.avail_out))])
                }
            } while stream.avail_out == 0
        }
        return output
    }
}

/// Reads a gzip file (or several concatenated members) back.
public enum Gzip {
    /// The whole uncompressed content, refused past `limit` bytes (a small file can inflate without bound).
    public static func decompress(_ data: Data, limit: Int) throws(DomainError) -> Data {
        var stream = z_stream()
        // windowBits 15 + 32: zlib detects the gzip header.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DomainError(.unavailable, code: "gzip", "zlib could not start decompressing")
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        var input = [UInt8](data)
        let chunk = 256 * 1024
        var buffer = [UInt8](repeating: 0, count: chunk)
        var failure: DomainError?
        input.withUnsafeMutableBufferPointer { inputBytes in
            stream.next_in = inputBytes.baseAddress
            stream.avail_in = UInt32(inputBytes.count)
            while failure == nil {
                let status = buffer.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(chunk)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    output.append(contentsOf: out[0..<(chunk - Int(stream.avail_out))])
                    return status
                }
                if output.count > limit {
                    failure = DomainError.invalidBody("the gzip content is larger than \(limit) bytes")
                } else if status == Z_STREAM_END {
                    // Another member may follow (concatenated gzip files are one file).
                    if stream.avail_in == 0 { break }
                    inflateReset(&stream)
                } else if status != Z_OK {
                    failure = DomainError.invalidBody("not gzip data, or cut short (zlib \(status))")
                } else if stream.avail_in == 0 && stream.avail_out != 0 {
                    failure = DomainError.invalidBody("gzip data cut short")
                }
            }
        }
        if let failure { throw failure }
        return output
    }
}
