/// Expiry reminders and compliance (Protocol/README.md §8).
public enum Reminders {
    public static let defaultDaysBefore = [30, 7, 1]
    public static let maxOffsets = 10
    public static let maxDaysBefore = 365

    /// One reminder of a credential version: `d` days before expiry, or the one after it.
    public enum Offset: Hashable, Sendable {
        case daysBefore(Int)
        case expired

        public var key: String {
            switch self {
            case .daysBefore(let d): return String(d)
            case .expired: return "expired"
            }
        }

        public init?(key: String) {
            if key == "expired" { self = .expired; return }
            guard let d = Int(key), d >= 1, d <= Reminders.maxDaysBefore, String(d) == key else { return nil }
            self = .daysBefore(d)
        }
    }

    /// The reminders due by `asOf` for an expiration date, before removing those already sent.
    /// Before or on the expiration day: each offset `d` with `expiration - d <= asOf`. After it, the
    /// single `expired` reminder replaces them (nobody needs "30 days left" after the fact).
    public static func due(expiration: CalendarDate, offsets: [Int], asOf: CalendarDate) -> [(Offset, CalendarDate)] {
        if expiration < asOf { return [(.expired, expiration.adding(days: 1))] }
        return offsets.sorted(by: >).compactMap { d in
            let dueOn = expiration.adding(days: -d)
            return dueOn <= asOf ? (.daysBefore(d), dueOn) : nil
        }
    }
}

/// Compliance with the credential types a user's teams require.
public enum Compliance {
    public enum Status: String, CaseIterable, Sendable {
        /// Best first. A pending or rejected credential ranks above an expired one: it is a renewal
        /// on its way, while an expired one is certainly out of date.
        case compliant, expiring, notApproved = "not_approved", expired, missing

        /// Better statuses first: a user with several credentials of one type is judged by the best.
        var rank: Int {
            switch self {
            case .compliant: 0
            case .expiring: 1
            case .notApproved: 2
            case .expired: 3
            case .missing: 4
            }
        }

        public func isBetter(than other: Status) -> Bool { rank < other.rank }
    }

    public enum Verdict: String, CaseIterable, Sendable {
        case compliant, expiring
        case nonCompliant = "non_compliant"
    }

    /// The status one credential gives, from its latest version.
    public static func status(approval: ApprovalStatus, expiration: CalendarDate?, asOf: CalendarDate, windowDays: Int) -> Status {
        guard approval == .approved else { return .notApproved }
        switch ExpiryStatus.of(expiration: expiration, asOf: asOf, windowDays: windowDays) {
        case .valid: return .compliant
        case .expiring: return .expiring
        case .expired: return .expired
        }
    }

    /// The best status among one required type's credentials, and the credential that decides
    /// it: of those with that status, the one `decidesBefore` puts first (else the first given);
    /// `missing` and nil when there are none.
    @inlinable public static func best<S: Sequence>(_ items: S, status: (S.Element) -> Status,
                                                   decidesBefore: (S.Element, S.Element) -> Bool = { _, _ in false })
        -> (status: Status, item: S.Element?)
    {
        var best: (status: Status, item: S.Element?) = (.missing, nil)
        for item in items {
            let s = status(item)
            guard let current = best.item else { best = (s, item); continue }
            if s.isBetter(than: best.status) || (s == best.status && decidesBefore(item, current)) { best = (s, item) }
        }
        return best
    }

    /// Which of two credentials of one type with the same status decides it: the one that
    /// expires later (no expiration is latest of all), so the report names what keeps the member
    /// where they are longest (or, expired, what lapsed last); then the smaller id. The order
    /// rows come in from the store's index is no part of it.
    @inlinable public static func decidesBefore<ID>(_ a: (expiration: CalendarDate?, id: ID), _ b: (expiration: CalendarDate?, id: ID),
                                                    idPrecedes: (ID, ID) -> Bool) -> Bool {
        switch (a.expiration, b.expiration) {
        case (nil, nil): return idPrecedes(a.id, b.id)
        case (nil, _): return true
        case (_, nil): return false
        case (let x?, let y?): return x != y ? x > y : idPrecedes(a.id, b.id)
        }
    }

    /// All compliant: compliant; nothing worse than expiring: expiring; else non-compliant.
    /// No required type at all is compliant.
    @inlinable public static func verdict<C: Collection<Status>>(_ statuses: C) -> Verdict {
        if statuses.allSatisfy({ $0 == .compliant }) { return .compliant }
        if statuses.allSatisfy({ $0 == .compliant || $0 == .expiring }) { return .expiring }
        return .nonCompliant
    }

    /// Gaps first: worst status first.
    public static func worstFirst(_ a: Status, _ b: Status) -> Bool { a.rank > b.rank }
}

/// Where a sort key is written: the service's byte buffer conforms.
public protocol ByteSink {
    func append(_ byte: UInt8)
    func append(_ bytes: UnsafeBufferPointer<UInt8>)
}

extension Compliance {
    /// The order of a team's report, the one place it is decided: gaps first (non-compliant
    /// members, then expiring, then compliant), then by last name, first name (case-insensitive,
    /// in code point order) and id. Written as a byte key, so that a report of thousands of
    /// members sorts with `memcmp` instead of comparing Strings.
    public enum ReportOrder {
        public static func rank(_ verdict: Verdict) -> UInt8 {
            switch verdict {
            case .nonCompliant: 0
            case .expiring: 1
            case .compliant: 2
            }
        }

        /// Appends the member's key to `key`; keys compare as bytes (shorter first on a tie).
        @inlinable public static func appendKey<Sink: ByteSink>(verdict: Verdict, lastName: UnsafeBufferPointer<UInt8>,
                                                                firstName: UnsafeBufferPointer<UInt8>, id: UnsafeBufferPointer<UInt8>,
                                                                to key: Sink) {
            key.append(rank(verdict))
            appendLowercased(lastName, to: key)
            key.append(0)
            appendLowercased(firstName, to: key)
            key.append(0)
            key.append(id)
        }

        /// The UTF-8 of `s.lowercased()`, where `s` is UTF-8; without making a String when `s` is
        /// ASCII (the usual name).
        @inlinable static func appendLowercased<Sink: ByteSink>(_ s: UnsafeBufferPointer<UInt8>, to key: Sink) {
            guard s.allSatisfy({ $0 < 0x80 }) else {
                var lower = String(decoding: s, as: UTF8.self).lowercased()
                lower.withUTF8 { key.append($0) }
                return
            }
            for b in s { key.append(b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b + 32 : b) }
        }
    }
}
