import Foundation
import TesseraCore
#if canImport(Glibc)
import Glibc
#endif

/// Country lookups for Actions' `event.request.geoip`, from Debian's offline GeoIP country databases
/// (`geoip-database`, read through `libGeoIP`). Both are optional and loaded at run time: without them the field is
/// absent, never made up. Only what a country database knows is given: code, three-letter code, name, continent.
public actor GeoLocation {
    private typealias Open = @convention(c) (UnsafePointer<CChar>, Int32) -> OpaquePointer?
    private typealias ByAddress = @convention(c) (OpaquePointer, UnsafePointer<CChar>) -> UnsafePointer<CChar>?
    private typealias IDByAddress = @convention(c) (OpaquePointer, UnsafePointer<CChar>) -> Int32
    private typealias ContinentByID = @convention(c) (Int32) -> UnsafePointer<CChar>?

    private struct Database {
        let handle: OpaquePointer
        let code: ByAddress, code3: ByAddress, name: ByAddress, id: IDByAddress
    }

    private let v4: Database?
    private let v6: Database?
    private let continent: ContinentByID?

    public static let directory = "/usr/share/GeoIP"

    /// Opens the databases when the library and files are there; a lookup on what is missing answers nil.
    public init(directory: String = GeoLocation.directory) {
        guard let library = dlopen("libGeoIP.so.1", RTLD_NOW | RTLD_LOCAL) else {
            (v4, v6, continent) = (nil, nil, nil)
            return
        }
        func symbol<T>(_ name: String, as type: T.Type) -> T? {
            dlsym(library, name).map { unsafeBitCast($0, to: type) }
        }
        continent = symbol("GeoIP_continent_by_id", as: ContinentByID.self)
        let open = symbol("GeoIP_open", as: Open.self)
        func database(_ file: String, suffix: String) -> Database? {
            guard let open, FileManager.default.isReadableFile(atPath: "\(directory)/\(file)"),
                  let code = symbol("GeoIP_country_code_by_addr\(suffix)", as: ByAddress.self),
                  let code3 = symbol("GeoIP_country_code3_by_addr\(suffix)", as: ByAddress.self),
                  let name = symbol("GeoIP_country_name_by_addr\(suffix)", as: ByAddress.self),
                  let id = symbol("GeoIP_id_by_addr\(suffix)", as: IDByAddress.self),
                  // GEOIP_MEMORY_CACHE: read once into memory; lookups then touch no file and no shared state.
                  let handle = open("\(directory)/\(file)", 1)
            else { return nil }
            return Database(handle: handle, code: code, code3: code3, name: name, id: id)
        }
        v4 = database("GeoIP.dat", suffix: "")
        v6 = database("GeoIPv6.dat", suffix: "_v6")
    }

    public var isAvailable: Bool { v4 != nil || v6 != nil }

    /// Auth0's `geoip` fields a country database can fill, or nil for an address it does not place (loopback,
    /// private networks) or when no database is installed.
    public func country(of ip: String) -> JSONValue? {
        guard let address = IPAddress(ip) else { return nil }
        guard let database = address.isIPv4 ? v4 : v6 else { return nil }
        return ip.withCString { text -> JSONValue? in
            guard let code = database.code(database.handle, text).map({ String(cString: $0) }), code.count == 2, code != "--" else { return nil }
            var fields: [String: JSONValue] = ["countryCode": .string(code)]
            if let code3 = database.code3(database.handle, text) { fields["countryCode3"] = .string(String(cString: code3)) }
            // libGeoIP's names are ISO 8859-1 ("Côte d'Ivoire").
            if let name = database.name(database.handle, text).flatMap({ String(cString: $0, encoding: .isoLatin1) }) {
                fields["countryName"] = .string(name)
            }
            if let continent, let value = continent(database.id(database.handle, text)) {
                let text = String(cString: value)
                if text.count == 2, text != "--" { fields["continentCode"] = .string(text) }
            }
            return .object(fields)
        }
    }
}
