import CredentialsCore
import CredentialsStore
import JSONRPC

/// `credentials.export` and `compliance.export` (Protocol/README.md §8, Exports): CSV out, through the one writer
/// every CSV of the service uses (`CSV.line`, which escapes formula cells).
enum ExportMethods {
    /// The import's columns first, so a page uploads again as it is (the import skips the rest).
    static let credentialColumns = ImportMethods.required + ImportMethods.optional + ImportMethods.exportOnly
    static let maxRows = 5000
    static let defaultRows = 1000

    static let all: [Method] = [
        Method("credentials.export", summary: "The latest version of every credential the caller may view, as CSV, a page at a time.", effect: .reads,
               description: "The same filters and visibility as credentials.list, plus teamId. Columns: \(credentialColumns.joined(separator: ", ")); the first five are the import's, so a page re-imports unchanged. A cell that would start with =, +, -, @, a tab or a CR is written with a leading '. Rows in the order of credentials.list.",
               access: .ready,
               params: [UserJSON.userID.notRequired, CredentialTypeMethods.typeID.notRequired,
                        TeamMethods.teamID.notRequired.described("Only the credentials of this team's members."),
                        CredentialMethods.expiryStatus, CredentialMethods.approvalStatus, CredentialJSON.asOf, limit, Page.cursorParam],
               result: "export", .named("CredentialExport", .object([
                   Property("csv", .string(), "RFC 4180, CRLF line ends, a header row first."),
                   Property("rows", .integer(minimum: 0, maximum: nil), "Data rows in this page."),
                   Property("nextCursor", .nullable(.string()), "Pass as cursor for the next page; null on the last page."),
               ])),
               errors: [ErrorDoc(.notFound, "not_found")] + Page.errors, run: exportCredentials),
        Method("compliance.export", summary: "A team's skills matrix as CSV: one row per member, one column per required type. Needs viewReports.", effect: .reads,
               description: "Columns: email, first_name, last_name, then each required type by name (in compliance.report's order of types), then overall. Each cell is the status compliance.check gives (compliant, expiring, expired, not_approved, missing); overall is the verdict. Rows in compliance.report's order.",
               access: .ready, params: [TeamMethods.teamID, CredentialJSON.asOf],
               result: "export", .named("ComplianceExport", .object([Property("csv", .string(), "RFC 4180, CRLF line ends, a header row first.")])),
               errors: [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found")], run: exportCompliance),
    ]

    static let limit = Property.optional("limit", .integer(1...maxRows), "Rows per page (default \(defaultRows), at most \(maxRows)).")

    static func exportCredentials(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let page = try Page(p, key: .checkedByList, seal: ctx.cursorSeal("credentials.export"))
        let limit = p.int(Self.limit) ?? defaultRows
        let clock = try CredentialMethods.expiryClock(ctx, p)
        if let team = p.string(TeamMethods.teamID) { _ = try TeamMethods.find(ctx, team, withMembers: false) }
        let filter = CredentialFilter(userID: p.string(UserJSON.userID), typeID: p.string(CredentialTypeMethods.typeID), teamID: p.string(TeamMethods.teamID),
                                      approval: p.string(CredentialMethods.approvalStatus).flatMap(ApprovalStatus.init(rawValue:)),
                                      expiry: p.string(CredentialMethods.expiryStatus).flatMap(ExpiryStatus.init(rawValue:)),
                                      asOf: clock.asOf, windowDays: clock.windowDays)
        let (credentials, next): ([Credential], String?)
        do {
            (credentials, next) = try ctx.store.credentials.list(filter, visibility: Visibility(actor), after: page.after,
                                                                      limit: limit, withMedia: false)
        } catch is CursorError {
            throw Page.invalidCursor
        }
        let users = try ctx.store.users.users(ids: credentials.map(\.userID))
        var csv = CSV.line(credentialColumns)
        csv.reserveCapacity(credentials.count * 160)
        for c in credentials {
            let u = users[c.userID]
            let v = c.latest
            csv += CSV.line([
                u?.email ?? "", c.typeName, v.issueDate.description, v.expirationDate?.description ?? "", v.documentNumber ?? "",
                u?.firstName ?? "", u?.lastName ?? "", String(v.number), v.approval.status.rawValue,
                ExpiryStatus.of(expiration: v.expirationDate, asOf: clock.asOf, windowDays: clock.windowDays).rawValue, c.id,
            ])
        }
        let more = next != nil
        return ["csv": .string(csv), "rows": .int(credentials.count), "nextCursor": more ? .optional(next.map(page.seal.seal)) : .null]
    }

    /// The matrix is compliance.report's answer laid out as a table, so its rows, order and
    /// statuses cannot differ from the report's (nor, cell by cell, from compliance.check's).
    static func exportCompliance(_ ctx: Context, _ p: Params) throws -> JSON {
        // The same params as the report's. The report is written as bytes (parts of it
        // pre-encoded): read back as a value.
        let report = try JSONParser.parse(JSONWriter.encode(TeamMethods.report(ctx, p))).value
        let members = report["members"]?.arrayValue ?? []
        // The columns: the types every member's items name (the report's own, so a type set
        // changed meanwhile cannot split them), by name then id; a team with no member reads them
        // from the team.
        var types: [(id: String, name: String)] = (members.first?["items"]?.arrayValue ?? []).compactMap { item in
            guard let id = item["typeId"]?.stringValue, let name = item["typeName"]?.stringValue else { return nil }
            return (id, name)
        }
        if members.isEmpty {
            let team = try TeamMethods.find(ctx, p.required(TeamMethods.teamID), withMembers: false)
            types = try team.requiredTypeIDs.compactMap { try ctx.store.credentials.findType(id: $0).map { ($0.id, $0.name) } }
        }
        types.sort { ($0.name, $0.id) < ($1.name, $1.id) }
        var csv = CSV.line(["email", "first_name", "last_name"] + types.map(\.name) + ["overall"])
        for m in members {
            var status: [String: String] = [:]
            for item in m["items"]?.arrayValue ?? [] {
                if let id = item["typeId"]?.stringValue, let s = item["status"]?.stringValue { status[id] = s }
            }
            csv += CSV.line([m["email"]?.stringValue ?? "", m["firstName"]?.stringValue ?? "", m["lastName"]?.stringValue ?? ""]
                            + types.map { status[$0.id] ?? "" } + [m["verdict"]?.stringValue ?? ""])
        }
        return ["csv": .string(csv)]
    }
}
