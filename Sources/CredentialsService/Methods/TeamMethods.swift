import CredentialsCore
import CredentialsStore
import JSONRPC

/// `teams.*` (admins change, everyone signed in lists) and `compliance.*`.
enum TeamMethods {
    static let teamSchema: Schema = .named("Team", .object([
        Property("id", .string()), Property("name", .string()),
        Property("memberIds", .array(.string())), Property("requiredTypeIds", .array(.string())),
        Property("createdAt", UserJSON.timestamp), Property("updatedAt", UserJSON.timestamp),
    ]))
    static let complianceStatus = Schema.oneOf(Compliance.Status.allCases.map(\.rawValue))
    static let verdict = Schema.oneOf(Compliance.Verdict.allCases.map(\.rawValue))
    static let itemSchema: Schema = .named("ComplianceItem", .object([
        Property("typeId", .string()), Property("typeName", .string()), Property("status", complianceStatus),
        Property("credentialId", .nullable(.string()), "The credential that decides the status, when the caller may see it."),
    ]))
    static let checkSchema: Schema = .named("ComplianceCheck", .object([
        Property("userId", .string()), Property("asOf", CredentialJSON.date), Property("verdict", verdict),
        Property("items", .array(itemSchema), "One per required type, gaps first."),
    ]))
    static let memberSchema: Schema = .named("ComplianceMember", .object([
        Property("userId", .string()), Property("email", .string()), Property("firstName", .string()), Property("lastName", .string()),
        Property("verdict", verdict), Property("items", .array(itemSchema)),
    ]))
    static let reportSchema: Schema = .named("ComplianceReport", .object([
        Property("teamId", .string()), Property("teamName", .string()), Property("asOf", CredentialJSON.date),
        Property("summary", .object([Property("members", .integer(minimum: 0, maximum: nil)), Property("compliant", .integer(minimum: 0, maximum: nil)),
                                     Property("expiring", .integer(minimum: 0, maximum: nil)), Property("nonCompliant", .integer(minimum: 0, maximum: nil))])),
        Property("members", .array(memberSchema), "Non-compliant members first, then expiring, then compliant."),
    ]))
    static let teamID = Property("teamId", CredentialJSON.id)
    static let changeErrors = [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found")]

    static let all: [Method] = [
        Method("teams.create", summary: "Creates a team. Admin.", access: .ready,
               params: [Property("name", .string(minLength: 1, maxLength: CredentialFields.maxTypeNameLength))],
               result: "team", teamSchema, errors: [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.conflict, "name_taken")], run: create),
        Method("teams.list", summary: "Teams in creation order.", access: .ready, params: Page.params,
               result: "page", Page.schema("TeamPage", of: teamSchema)) { service, p in
            let page = try Page(p)
            let (teams, more) = try TeamStore(service.db).list(afterID: page.after, limit: page.limit)
            return Page.result(teams.map(json), lastKey: teams.last?.id, more: more)
        },
        Method("teams.addMember", summary: "Adds a user to a team (no change if already in). Admin.", access: .ready,
               params: [teamID, UserJSON.userID], result: "team", teamSchema, errors: changeErrors) { s, p in try membership(s, p, true) },
        Method("teams.removeMember", summary: "Removes a user from a team (no change if not in). Admin.", access: .ready,
               params: [teamID, UserJSON.userID], result: "team", teamSchema, errors: changeErrors) { s, p in try membership(s, p, false) },
        Method("teams.setRequiredTypes", summary: "Sets the credential types a team requires (replacing the list). Admin.",
               access: .ready, params: [teamID, Property("typeIds", .array(CredentialJSON.id, maxItems: 100, unique: true))],
               result: "team", teamSchema, errors: changeErrors + [ErrorDoc(.conflict, "type_archived")], run: setRequiredTypes),
        Method("compliance.check", summary: "Per type required by the user's teams: compliant, expiring, expired, not_approved or missing; and a verdict.",
               description: "Own, or another user's with viewReports. Several credentials of one type: the best counts.",
               access: .ready, params: [UserJSON.userID, CredentialJSON.asOf], result: "check", checkSchema,
               errors: changeErrors, run: check),
        Method("compliance.report", summary: "compliance.check for every member of a team, gaps first. Needs viewReports.",
               access: .ready, params: [teamID, CredentialJSON.asOf], result: "report", reportSchema, errors: changeErrors, run: report),
    ]

    static func json(_ t: Team) -> JSON {
        ["id": .string(t.id), "name": .string(t.name), "memberIds": .array(t.memberIDs.map(JSON.string)),
         "requiredTypeIds": .array(t.requiredTypeIDs.map(JSON.string)),
         "createdAt": .string(Timestamp.format(millis: t.createdAt)), "updatedAt": .string(Timestamp.format(millis: t.updatedAt))]
    }

    static func find(_ service: Service, _ id: String, withMembers: Bool = true) throws -> Team {
        guard let t = try TeamStore(service.db).find(id: id, withMembers: withMembers) else { throw DomainError.notFound("No team \(id.prefix(100))") }
        return t
    }

    static func create(_ service: Service, _ p: Params) throws -> JSON {
        let actor = try service.requireActor()
        try UserRules.requireAdmin(actor)
        let name = try CredentialFields.typeName(p.required("name"))
        let id = service.deps.newID("team")
        try service.db.write {
            let teams = TeamStore(service.db)
            if try teams.nameTaken(name) { throw DomainError.conflict(reason: "name_taken", message: "Another team has this name") }
            try teams.insert(id: id, name: name, at: service.now)
            try service.audit("teams.create", target: id, actor: actor.id, detail: ["name": .string(name)])
        }
        return json(try find(service, id))
    }

    static func membership(_ service: Service, _ p: Params, _ member: Bool) throws -> JSON {
        let actor = try service.requireActor()
        try UserRules.requireAdmin(actor)
        let team = try find(service, p.required("teamId"))
        let userID = try p.required("userId")
        _ = try UserMethods.find(service, userID)
        try service.db.write {
            if try TeamStore(service.db).setMember(teamID: team.id, userID: userID, member, at: service.now) {
                try service.audit(member ? "teams.addMember" : "teams.removeMember", target: team.id, actor: actor.id, detail: ["userId": .string(userID)])
            }
        }
        return json(try find(service, team.id))
    }

    static func setRequiredTypes(_ service: Service, _ p: Params) throws -> JSON {
        let actor = try service.requireActor()
        try UserRules.requireAdmin(actor)
        let team = try find(service, p.required("teamId"))
        let typeIDs = p["typeIds"]?.arrayValue?.compactMap(\.stringValue) ?? []
        for (i, id) in typeIDs.enumerated() {
            guard let t = try CredentialStore(service.db).findType(id: id) else {
                throw DomainError.invalidField("typeIds[\(i)]", "names no credential type")
            }
            if t.archived && !team.requiredTypeIDs.contains(id) {
                throw DomainError.conflict(reason: "type_archived", message: "The credential type \(t.name) is archived")
            }
        }
        try service.db.write {
            try TeamStore(service.db).setRequiredTypes(teamID: team.id, typeIDs: typeIDs, at: service.now)
            try service.audit("teams.setRequiredTypes", target: team.id, actor: actor.id, detail: ["typeIds": .array(typeIDs.map(JSON.string))])
        }
        return json(try find(service, team.id))
    }

    /// Another user's compliance needs viewReports; one's own is always readable.
    static func requireViewReports(_ actor: User, for userID: String?) throws {
        if userID == actor.id { return }
        guard actor.permissions.has(.viewReports) else { throw DomainError.forbidden("Reading another user's compliance needs viewReports") }
    }

    typealias Holding = (typeID: String, credentialID: String, approval: ApprovalStatus, expiration: CalendarDate?)

    /// One required type of one user: its status, and the credential that decides it when the
    /// caller may see that credential.
    struct Item {
        var typeID, typeName: String
        var status: Compliance.Status
        var credentialID: String?

        var json: JSON {
            ["typeId": .string(typeID), "typeName": .string(typeName), "status": .string(status.rawValue), "credentialId": .optional(credentialID)]
        }

        func encode(into out: inout [UInt8]) {
            var o = JSONObjectBytes()
            o.add("typeId", typeID)
            o.add("typeName", typeName)
            o.add("status", status.rawValue)
            o.add("credentialId", credentialID)
            out += o.closed()
        }
    }

    /// One user's status per required type, gaps first, and the verdict.
    static func evaluate(actor: User, userID: String, holdings: [Holding], types: [(id: String, name: String)], clock: ExpiryClock)
        -> (verdict: Compliance.Verdict, items: [Item])
    {
        var items: [Item] = []
        items.reserveCapacity(types.count)
        for t in types {
            let best = Compliance.best(holdings.lazy.filter { $0.typeID == t.id }) {
                Compliance.status(approval: $0.approval, expiration: $0.expiration, asOf: clock.asOf, windowDays: clock.windowDays)
            }
            // The credential that decides, when the caller may see it.
            let credentialID = best.item.flatMap { CredentialAccess.canView(actor, ownerID: userID, latestApproval: $0.approval) ? $0.credentialID : nil }
            let item = Item(typeID: t.id, typeName: t.name, status: best.status, credentialID: credentialID)
            // Stable: worst first, then in the types' name order.
            let at = items.firstIndex { Compliance.worstFirst(item.status, $0.status) } ?? items.count
            items.insert(item, at: at)
        }
        return (Compliance.verdict(items.lazy.map(\.status)), items)
    }

    static func check(_ service: Service, _ p: Params) throws -> JSON {
        let actor = try service.requireActor()
        let userID = try p.required("userId")
        try requireViewReports(actor, for: userID)
        _ = try UserMethods.find(service, userID)
        let clock = try CredentialMethods.expiryClock(service, p)
        let teams = TeamStore(service.db)
        let types = try teams.requiredTypes(userID: userID)
        let holdings = try teams.holdings(userID: userID, typeIDs: types.map(\.id))
        let (verdict, items) = evaluate(actor: actor, userID: userID, holdings: holdings, types: types, clock: clock)
        return ["userId": .string(userID), "asOf": .string(clock.asOf.description), "verdict": .string(verdict.rawValue), "items": .array(items.map(\.json))]
    }

    static func report(_ service: Service, _ p: Params) throws -> JSON {
        let actor = try service.requireActor()
        try requireViewReports(actor, for: nil)
        let team = try find(service, p.required("teamId"), withMembers: false)
        let clock = try CredentialMethods.expiryClock(service, p)
        let credentialTypes = CredentialStore(service.db)
        let types = try team.requiredTypeIDs.compactMap { id in try credentialTypes.findType(id: id).map { (id: $0.id, name: $0.name) } }
            .sorted { ($0.name, $0.id) < ($1.name, $1.id) }
        // One query for the whole team; each member is written straight to bytes, not as a tree:
        // a report can hold thousands of members.
        let rank: [Compliance.Verdict: UInt8] = [.nonCompliant: 0, .expiring: 1, .compliant: 2]
        var members: [(key: [UInt8], bytes: [UInt8])] = []
        var counts: [Compliance.Verdict: Int] = [:]
        for u in try TeamStore(service.db).memberHoldings(teamID: team.id, typeIDs: types.map(\.id)) {
            let (verdict, items) = evaluate(actor: actor, userID: u.id, holdings: u.holdings, types: types, clock: clock)
            counts[verdict, default: 0] += 1
            var o = JSONObjectBytes()
            o.add("userId", u.id)
            o.add("email", u.email)
            o.add("firstName", u.firstName)
            o.add("lastName", u.lastName)
            o.add("verdict", verdict.rawValue)
            var list: [UInt8] = [UInt8(ascii: "[")]
            list.reserveCapacity(128 * items.count + 2)
            for (i, item) in items.enumerated() {
                if i > 0 { list.append(UInt8(ascii: ",")) }
                item.encode(into: &list)
            }
            list.append(UInt8(ascii: "]"))
            o.add("items", encoded: list)
            // Gaps first, then by last name, first name (case-insensitive, in code point order) and id.
            let key = [rank[verdict]!] + Array(u.lastName.lowercased().utf8) + [0] + Array(u.firstName.lowercased().utf8) + [0] + Array(u.id.utf8)
            members.append((key, o.closed()))
        }
        members.sort { $0.key.lexicographicallyPrecedes($1.key) }
        return [
            "teamId": .string(team.id), "teamName": .string(team.name), "asOf": .string(clock.asOf.description),
            "summary": ["members": .int(members.count), "compliant": .int(counts[.compliant] ?? 0),
                        "expiring": .int(counts[.expiring] ?? 0), "nonCompliant": .int(counts[.nonCompliant] ?? 0)],
            "members": .encoded(JSONObjectBytes.array(members.map(\.bytes))),
        ]
    }
}
