import Foundation

/// Which characters a field may hold (Protocol/README.md §12, threat model). Text from a client ends up in terminals,
/// spreadsheets, e-mails and file systems; an invisible or reordering character there lets one
/// thing pass for another (`a\u{202E}gpj.exe` shows as `aexe.jpg`, `jo\u{200B}e@x` is not `joe@x`).
///
/// Every field refuses what cannot be seen or has no meaning yet: controls (Cc), default-ignorable
/// code points (format characters, variation selectors, Hangul fillers, CGJ: things that make two
/// strings that look the same differ), private-use and unassigned code points, noncharacters.
/// - Emails: all of that, whitespace, line separators, and the ASCII specials `"(),:;<>[\]`;
///   compared after NFC normalization and case folding (`emailKey`).
/// - Names (people, types, teams, tokens): all of that, bidi controls and line separators, but
///   the joiners U+200C and U+200D, which some scripts and emoji need, are kept; a name does not
///   start with a combining mark.
/// - File names: as names, minus the joiners, and no path separator of any script.
/// - Free text (descriptions, reasons): as names, plus tab and line breaks.
public enum TextRules {
    public static func isControl(_ s: Unicode.Scalar) -> Bool { s.properties.generalCategory == .control }
    public static func isFormat(_ s: Unicode.Scalar) -> Bool { s.properties.generalCategory == .format }

    /// Embeddings, overrides and isolates, and the marks LRM, RLM and ALM.
    public static func isBidiControl(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: return true
        default: return false
        }
    }

    /// Slashes and backslashes of any script, which a file system or a reader may take as a folder.
    public static func isPathSeparator(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x2F, 0x5C, 0x2044, 0x2215, 0x2216, 0x29F8, 0x29F9, 0xFE68, 0xFF0F, 0xFF3C: return true
        default: return false
        }
    }

    static func isJoiner(_ s: Unicode.Scalar) -> Bool { s.value == 0x200C || s.value == 0x200D }

    /// What no field takes: controls, default-ignorables (but the joiners, decided by each rule),
    /// private use, unassigned code points and noncharacters.
    static func isInvisibleOrMeaningless(_ s: Unicode.Scalar) -> Bool {
        let p = s.properties
        switch p.generalCategory {
        case .control, .format, .privateUse, .unassigned, .surrogate, .lineSeparator, .paragraphSeparator: return true
        default: return p.isDefaultIgnorableCodePoint || p.isNoncharacterCodePoint
        }
    }

    public static func allowedInEmail(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return allowedInEmail(ascii: UInt8(s.value)) }
        return !isInvisibleOrMeaningless(s) && !s.properties.isWhitespace
    }

    /// An ASCII byte of an email: printable, not a space, none of the specials `"(),:;<>[\]`.
    public static func allowedInEmail(ascii b: UInt8) -> Bool {
        switch b {
        case 0...0x20, 0x7F..., UInt8(ascii: "\""), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ","), UInt8(ascii: ":"),
             UInt8(ascii: ";"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "["), UInt8(ascii: "\\"), UInt8(ascii: "]"):
            return false
        default: return true
        }
    }

    public static func allowedInName(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return s.value >= 0x20 && s.value != 0x7F }  // the common case, decided fast
        if isJoiner(s) { return true }
        return !isInvisibleOrMeaningless(s) && !isBidiControl(s)
    }

    public static func allowedInFileName(_ s: Unicode.Scalar) -> Bool {
        !isJoiner(s) && allowedInName(s) && !isPathSeparator(s)
    }

    /// A name's first character is not a combining mark, which would attach to whatever is
    /// printed before it.
    public static func startsWithCombiningMark(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first else { return false }
        switch first.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    public static func allowedInText(_ s: Unicode.Scalar) -> Bool {
        s == "\n" || s == "\r" || s == "\t" || allowedInName(s)
    }

    /// Whether every scalar of `text` passes `rule` (each rule decides ASCII first, cheaply).
    public static func all(_ text: String, _ rule: (Unicode.Scalar) -> Bool) -> Bool {
        text.unicodeScalars.allSatisfy(rule)
    }

    /// The form an email is stored in: NFC, so one address typed two ways is stored one way.
    public static func canonical(_ text: String) -> String {
        text.utf8.allSatisfy({ $0 < 0x80 }) ? text : text.precomposedStringWithCanonicalMapping
    }

    /// The key emails are compared by: NFC, full Unicode case folding (`ß` and `ss`, `K` and the
    /// Kelvin sign are one), then NFC again, since folding can leave a decomposed form.
    public static func emailKey(_ email: String) -> String {
        if email.utf8.allSatisfy({ $0 < 0x80 }) { return email.lowercased() }
        return email.precomposedStringWithCanonicalMapping
            .folding(options: [.caseInsensitive], locale: nil)
            .precomposedStringWithCanonicalMapping
    }
}
