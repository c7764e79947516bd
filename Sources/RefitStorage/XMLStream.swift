import CLazyLibraries
import Foundation

/// One step through an XML document: what the listing readers need of it.
enum XMLEvent: Equatable {
    case start(String)
    /// A run of character data (text or CDATA), entities decoded; one element's text may come
    /// in several runs.
    case text(String)
    case end(String)
}

/// XML read with libxml2's streaming reader, which `CLazyLibraries` opens on first use: only the
/// S3 and Azure Blob listings are XML, so other commands do not load libxml2 (and the ICU, lzma
/// and zlib libraries behind it) at start, as linking Foundation's `XMLParser` made them do.
/// No network access, no external entities, nothing printed on errors.
enum XMLStream {
    /// libxml2 cannot be opened; `message` is one sentence naming the file and Debian's package.
    struct Unavailable: Error, Hashable { var message: String }

    /// Calls `handle` for every element start, character data and element end of `data`, in
    /// order (an empty element `<a/>` is a start and an end). Returns false when `data` is not
    /// well-formed XML; `handle` may have seen part of it by then.
    static func read(_ data: Data, _ handle: (XMLEvent) -> Void) throws(Unavailable) -> Bool {
        if let error = refit_xml_load() { throw Unavailable(message: String(cString: error)) }
        // An empty document is not well-formed XML either.
        guard !data.isEmpty, data.count <= Int(Int32.max) else { return false }
        return data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Bool in
            let options = Int32(REFIT_XML_PARSE_NONET | REFIT_XML_PARSE_NOERROR | REFIT_XML_PARSE_NOWARNING)
            guard let start = bytes.baseAddress?.assumingMemoryBound(to: CChar.self),
                  let reader = refit_xmlReaderForMemory(start, Int32(bytes.count), nil, nil, options) else { return false }
            defer { refit_xmlFreeTextReader(reader) }
            while true {
                switch refit_xmlTextReaderRead(reader) {
                case 1: break
                case 0: return true
                default: return false
                }
                switch Int(refit_xmlTextReaderNodeType(reader)) {
                case REFIT_XML_ELEMENT:
                    let name = string(refit_xmlTextReaderConstLocalName(reader))
                    handle(.start(name))
                    if refit_xmlTextReaderIsEmptyElement(reader) == 1 { handle(.end(name)) }
                case REFIT_XML_END_ELEMENT:
                    handle(.end(string(refit_xmlTextReaderConstLocalName(reader))))
                case REFIT_XML_TEXT, REFIT_XML_CDATA, REFIT_XML_WHITESPACE, REFIT_XML_SIGNIFICANT_WHITESPACE:
                    handle(.text(string(refit_xmlTextReaderConstValue(reader))))
                default:
                    continue
                }
            }
        }
    }

    /// `read` for documents whose values sit in leaf elements (the listings): `start` gets each
    /// element's name and the names of the elements around it, outermost first; `end` gets the
    /// same with the element's own character data.
    static func readElements(_ data: Data, start: (_ name: String, _ parents: [String]) -> Void,
                             end: (_ name: String, _ text: String, _ parents: [String]) -> Void) throws(Unavailable) -> Bool {
        var path: [String] = []
        var text = ""
        return try read(data) { event in
            switch event {
            case .start(let name):
                start(name, path)
                path.append(name)
                text = ""
            case .text(let run):
                text += run
            case .end(let name):
                path.removeLast()
                end(name, text, path)
                text = ""
            }
        }
    }

    private static func string(_ pointer: UnsafePointer<UInt8>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }
}
