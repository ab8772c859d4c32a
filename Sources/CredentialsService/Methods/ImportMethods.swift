import CredentialsCore
import CredentialsStore
import JSONRPC

/// `credentials.import`: CSV bulk upload, checked row by row with the rules of `credentials.add`.
enum ImportMethods {
    static let maxRows = 20_000
    static let required = ["email", "credential_type", "issue_date"]
    static let optional = ["expiration_date", "document_number"]
    /// The column `failedRowsCsv` adds; ignored on import so a fixed file can be uploaded as it is.
    static let errorColumn = "error"
    /// The columns `credentials.export` adds after the import's; ignored on import, so an
    /// exported page uploads again as it is.
    static let exportOnly = ["first_name", "last_name", "version", "approval_status", "expiry_status", "credential_id"]

    static let resultSchema: Schema = .named("ImportResult", .object([
        Property("dryRun", .boolean), Property("mode", .oneOf(["all_or_nothing", "valid_rows"])),
        Property("created", .integer(minimum: 0, maximum: nil), "Credentials created (with dryRun: that would be)."),
        Property("failed", .integer(minimum: 0, maximum: nil), "Rows that failed."),
        Property("errors", .array(.named("ImportError", .object([
            Property("line", .integer(minimum: 1, maximum: nil), "The physical line where the record starts (the header is line 1)."),
            Property("column", .nullable(.string()), "The column at fault, or null for the whole row."),
            Property("reason", .string()), Property("message", .string()),
        ])))),
        Property("failedRowsCsv", .nullable(.string()), "The failed rows as CSV, with an error column, ready to fix and upload again; null when none failed."),
    ]))

    static let csv = Property("csv", .string())
    static let dryRun = Property.optional("dryRun", .boolean)
    static let mode = Property.optional("mode", .oneOf(["all_or_nothing", "valid_rows"]))
    static let approve = Property.optional("approve", .boolean, "Approve what it adds.")

    static let all: [Method] = [
        Method("credentials.import", summary: "Adds credentials from CSV. Admin with createReports.", effect: .changes,
               description: "RFC 4180 CSV (BOM, CRLF or LF, quotes) with the header email, credential_type, issue_date, expiration_date, document_number in any order and case, up to 20,000 rows. Users are matched by email (active users only), types by name (any case). A row for another user needs orderIndividualChecks (and viewApplications with approve: true), else it fails as forbidden. A cell written as ' before =, +, -, @, a tab or a CR is read without the '. all_or_nothing (default) writes nothing when any row fails; valid_rows writes the good rows. Row failures are a result, not an error.",
               access: .adminWith(.createReports),
               params: [csv, dryRun, mode, approve],
               result: "result", resultSchema, errors: [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.conflict, "type_archived"), ErrorDoc(.conflict, "user_deactivated")],
               run: importCSV),
    ]

    /// Rows between two progress notifications: 20,000 rows send about 160, not 40,000.
    static let progressStep = 250

    struct RowError {
        var line: Int
        var column: String?
        var reason: String
        var message: String
    }

    struct GoodRow {
        var userID: String
        var typeID: String
        var fields: (CalendarDate, CalendarDate?, String?)
    }

    /// A row that failed, as read (its formula escapes undone), with why: each row keeps its
    /// own reasons, so writing the failed rows back is one pass in file order.
    struct FailedRow {
        var fields: [String]
        var errors: [RowError]
        /// The record as it came, when it could not be read as CSV (`CSV.Record.text`).
        var unreadable: String? = nil
    }

    struct RowErrors: Error {
        var list: [RowError]
    }

    /// Checks rows with the rules of `credentials.add`, remembering users and types already looked up.
    struct RowChecker {
        let ctx: Context
        let actor: User
        /// `approve: true`: each row's new version is approved as it is added.
        let approve: Bool
        let header: [String]
        let columns: [String: Int]
        var users: [String: String?] = [:]
        var types: [String: CredentialType?] = [:]

        mutating func check(_ row: CSV.Record) throws -> Result<GoodRow, RowErrors> {
            var problems: [RowError] = []
            func fail(_ column: String?, _ reason: String, _ message: String) {
                problems.append(RowError(line: row.line, column: column, reason: reason, message: message))
            }
            if let problem = row.problem {
                fail(nil, "malformed_row", "the row is not valid CSV: \(problem)")
                return .failure(RowErrors(list: problems))
            }
            if row.fields.count != header.count {
                fail(nil, "field_count", "has \(row.fields.count) fields; the header has \(header.count)")
                return .failure(RowErrors(list: problems))
            }
            let columns = self.columns
            // Spaces around a cell are not part of it; a formula escape is read after them, so
            // `" '=1"` and `"'=1"` are one value.
            func value(_ name: String) -> String { columns[name].map { CSV.unescapeFormula(CSV.trimmingSpaces(row.fields[$0])) } ?? "" }
            // The user: active, by email.
            var userID: String? = nil
            if let key = try? UserFields.email(value("email"), toFind: true).key {
                if users[key] == nil {
                    users[key] = try ctx.store.users.find(emailKey: key).flatMap { $0.user.status == .active ? $0.user.id : nil }
                }
                userID = users[key] ?? nil
            }
            if userID == nil { fail("email", "unknown_user", "no active user has this email") }
            // For another user a row needs what credentials.add needs, and with approve: true what
            // credentials.approve needs on the pending version it adds (Protocol/README.md §6, who may call what).
            if let owner = userID, owner != actor.id {
                if (try? CredentialAccess.checkEdit(actor, ownerID: owner)) == nil {
                    fail("email", "forbidden", "adding credentials for another user needs an admin with orderIndividualChecks")
                } else if approve && !CredentialAccess.canView(actor, ownerID: owner, latestApproval: .pending) {
                    fail("email", "forbidden", "approving another user's new credential needs viewApplications")
                }
            }
            // The type: by name in any case, not archived.
            let typeName = value("credential_type").trimmingBlanks().lowercased()
            if types[typeName] == nil { types[typeName] = try ctx.store.credentials.findType(name: typeName) }
            let type = types[typeName] ?? nil
            if type == nil { fail("credential_type", "unknown_type", "no credential type has this name") }
            if let type, type.archived { fail("credential_type", "type_archived", "the credential type is archived") }
            // Dates, then the document number: each column's problem is reported.
            func record(_ error: DomainError) {
                if case .invalid(let reason, let issues) = error { for i in issues { fail(i.field, reason, i.message) } }
            }
            var dates: (CalendarDate, CalendarDate?)? = nil
            do {
                let issue = try CredentialFields.date(value("issue_date").trimmingBlanks(), field: "issue_date")
                let expText = value("expiration_date").trimmingBlanks()
                let expiration = expText.isEmpty ? nil : try CredentialFields.date(expText, field: "expiration_date")
                try CredentialFields.checkDates(issue: issue, expiration: expiration, requiresExpiration: type?.requiresExpiration ?? false,
                                                expirationField: "expiration_date")
                dates = (issue, expiration)
            } catch { record(error) }
            var document: String? = nil
            do { document = try CredentialFields.documentNumber(value("document_number"), field: "document_number") } catch { record(error) }
            guard problems.isEmpty, let userID, let type, let dates else { return .failure(RowErrors(list: problems)) }
            return .success(GoodRow(userID: userID, typeID: type.id, fields: (dates.0, dates.1, document)))
        }
    }

    static func importCSV(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let dryRun = p.bool(Self.dryRun) ?? false
        let mode = p.string(Self.mode) ?? "all_or_nothing"
        let text = try p.required(csv)
        let records: [CSV.Record]
        do { records = try CSV.read(text) } catch {
            guard case .unterminatedQuote(let line) = error else { throw DomainError.invalidField("csv", "cannot be read") }
            throw DomainError.invalidField("csv", "the quoted field starting on line \(line) never closes")
        }
        guard let header = records.first else { throw DomainError.invalidField("csv", "is empty: it needs a header row") }
        let columns = try columnIndex(header.fields)
        let rows = records.dropFirst()
        if rows.count > maxRows { throw DomainError.invalidField("csv", "has \(rows.count) rows; at most \(maxRows) at a time") }

        let approve = p.bool(Self.approve) == true
        var checker = RowChecker(ctx: ctx, actor: actor, approve: approve, header: header.fields, columns: columns)
        var errors: [RowError] = []
        var good: [GoodRow] = []
        var failed: [FailedRow] = []  // in file order
        // Progress (an MCP tool call that asked for it): checking each row is the first half of
        // the work, writing the good ones the second; reported every `progressStep` rows.
        let total = rows.count * 2
        // Every row checked against one snapshot, which on SQLite is also one read lock, not two
        // system calls for each row's own email.
        try ctx.store.reading {
            for (i, row) in rows.enumerated() {
                if i % progressStep == 0 { ctx.progress?(i, total) }
                switch try checker.check(row) {
                case .success(let g): good.append(g)
                case .failure(let problems):
                    errors += problems.list
                    failed.append(FailedRow(fields: row.fields.map(CSV.unescapeFormula), errors: problems.list, unreadable: row.text))  // written escaped again
                }
            }
        }

        let write = !dryRun && (mode == "valid_rows" || errors.isEmpty)
        let created = mode == "valid_rows" || errors.isEmpty ? good.count : 0
        if write && !good.isEmpty {
            let approval: Approval? = approve ? Approval(status: .approved, reviewedBy: actor.id, reviewedAt: ctx.now) : nil
            try ctx.write {
                // Again under the write lock: a type archived since the rows were checked wins.
                for typeID in Set(good.map(\.typeID)) where try CredentialTypeMethods.find(ctx, typeID).archived {
                    throw DomainError.conflict(reason: "type_archived", message: "A credential type of the import was archived while it ran: nothing was imported")
                }
                // And the holders: a row names an active user, so one deactivated since gets nothing.
                for ownerID in Set(good.map(\.userID)) where try ctx.store.users.find(id: ownerID)?.user.status != .active {
                    throw DomainError.conflict(reason: "user_deactivated", message: "A user of the import was deactivated while it ran: nothing was imported")
                }
                for (i, row) in good.enumerated() {
                    if i % progressStep == 0 { ctx.progress?(rows.count + i, total) }
                    let id = ctx.deps.newID("cred")
                    _ = try CredentialMethods.storeVersion(ctx, credentialID: id, ownerID: row.userID, typeID: row.typeID, replacing: nil,
                                                       fields: row.fields, media: [], actor: actor.id, approval: approval)
                    try ctx.audit("credentials.import", target: id, actor: actor.id, detail: ["userId": .string(row.userID), "typeId": .string(row.typeID)])
                }
            }
        }
        ctx.progress?(total, total)
        return [
            "dryRun": .bool(dryRun), "mode": .string(mode), "created": .int(created), "failed": .int(failed.count),
            "errors": errorsJSON(errors),
            "failedRowsCsv": failed.isEmpty ? .null : failedRowsCSV(header: header.fields, rows: failed),
        ]
    }

    /// The rows' errors, written straight to bytes: a file of failing rows has one or more a
    /// row, and as a `JSON` tree they cost more than checking the rows did.
    static func errorsJSON(_ errors: [RowError]) -> JSON {
        let out = ByteWriter(capacity: 128 * errors.count + 2)
        out.append(UInt8(ascii: "["))
        for (i, e) in errors.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            var o = JSONObjectBytes(into: out)
            o.add("line", int: e.line)
            o.add("column", e.column)
            o.add("reason", e.reason)
            o.add("message", e.message)
            o.close()
        }
        out.append(UInt8(ascii: "]"))
        return .encoded(out.array)
    }

    /// Header names to their positions. Unknown or repeated columns, or a missing required one, fail the whole file.
    static func columnIndex(_ header: [String]) throws -> [String: Int] {
        var index: [String: Int] = [:]
        for (i, raw) in header.enumerated() {
            let name = raw.trimmingBlanks().lowercased()
            if name == errorColumn || exportOnly.contains(name) { continue }
            guard required.contains(name) || optional.contains(name) else {
                throw DomainError.invalidField("csv", "has an unknown column \"\(raw.prefix(100))\"; the columns are \((required + optional).joined(separator: ", "))")
            }
            if index[name] != nil { throw DomainError.invalidField("csv", "has the column \(name) twice") }
            index[name] = i
        }
        for name in required where index[name] == nil {
            throw DomainError.invalidField("csv", "has no \(name) column")
        }
        return index
    }

    /// The failed rows in their original columns, plus an `error` column saying why, as the
    /// JSON string the answer carries. Cell by cell into one buffer, then escaped once: with an
    /// array of cells and a String of reasons per row, and the whole made a String to be escaped
    /// again, writing a failed row back cost 6,900 instructions, a sixth of a failed import.
    static func failedRowsCSV(header: [String], rows: [FailedRow]) -> JSON {
        let keep = header.indices.filter { header[$0].trimmingBlanks().lowercased() != errorColumn }
        var csv: [UInt8] = []
        csv.reserveCapacity(64 + rows.count * 128)
        CSV.appendLine(keep.map { header[$0] } + [errorColumn], to: &csv)
        func cell(_ text: String) {
            CSV.appendCell(text, to: &csv)
            csv.append(UInt8(ascii: ","))
        }
        // A file that has an error column already is one of these uploaded again.
        let reuploaded = keep.count != header.count
        for row in rows {
            let fields = row.fields
            // A row that is not valid CSV, or has the wrong field count, is written as it came:
            // mended (its fields as the parser read them, or cut or padded to fit), it would
            // upload again as a good row without having been fixed.
            if let text = row.unreadable {
                CSV.appendUnmended(text, to: &csv)
                csv.append(UInt8(ascii: ","))
            } else if fields.count == header.count {
                for k in keep { cell(fields[k]) }
            } else {
                fields.forEach(cell)
            }
            if reuploaded && (row.unreadable != nil || fields.count != header.count) {
                // In a file uploaded again such a row gets no reason cell: one appended could make
                // a row one field short fit the header, and the reason of the round before would
                // be read as its last field (a document number). Its reason is in `errors`, by line.
                csv.removeLast()
                csv += [0x0D, 0x0A]
                continue
            }
            var reasons = ""
            for (i, e) in row.errors.enumerated() {
                if i > 0 { reasons += "; " }
                if let column = e.column { reasons += column + ": " }
                reasons += e.message
            }
            CSV.appendCell(reasons, to: &csv)
            csv.append(0x0D)
            csv.append(0x0A)
        }
        let out = ByteWriter(capacity: csv.count + csv.count / 8 + 2)
        csv.withUnsafeBufferPointer { out.appendString(bytes: $0) }
        return .encoded(out.array)
    }
}
