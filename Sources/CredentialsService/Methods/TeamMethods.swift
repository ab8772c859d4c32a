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
    static let name = Property("name", .string(minLength: 1, maxLength: CredentialFields.maxTypeNameLength))
    static let typeIDs = Property("typeIds", .array(CredentialJSON.id, maxItems: 100, unique: true))
    static let changeErrors = [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found")]

    static let all: [Method] = [
        Method("teams.create", summary: "Creates a team. Admin.", effect: .changes, access: .admin,
               params: [name],
               result: "team", teamSchema, errors: [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.conflict, "name_taken")], run: create),
        Method("teams.list", summary: "Teams in creation order.", effect: .reads, access: .ready, params: Page.params,
               result: "page", Page.schema("TeamPage", of: teamSchema), errors: Page.errors) { ctx, p in
            let page = try Page(p, key: .id(prefix: "team"), seal: ctx.cursorSeal("teams.list"))
            let (teams, more) = try ctx.store.teams.list(afterID: page.after, limit: page.limit)
            return page.result(teams.map(json), lastKey: teams.last?.id, more: more)
        },
        Method("teams.addMember", summary: "Adds a user to a team (no change if already in). Admin.", effect: .changes, idempotent: true, access: .admin,
               params: [teamID, UserJSON.userID], result: "team", teamSchema, errors: changeErrors) { s, p in try membership(s, p, true) },
        Method("teams.removeMember", summary: "Removes a user from a team (no change if not in). Admin.", effect: .destroys, idempotent: true, access: .admin,
               params: [teamID, UserJSON.userID], result: "team", teamSchema, errors: changeErrors) { s, p in try membership(s, p, false) },
        Method("teams.setRequiredTypes", summary: "Sets the credential types a team requires (replacing the list). Admin.", effect: .changes, idempotent: true,
               access: .admin, params: [teamID, typeIDs],
               result: "team", teamSchema, errors: changeErrors + [ErrorDoc(.conflict, "type_archived")], run: setRequiredTypes),
        Method("compliance.check", summary: "Per type required by the user's teams: compliant, expiring, expired, not_approved or missing; and a verdict.", effect: .reads,
               description: "Own, or another user's with viewReports. Several credentials of one type: the best counts.",
               access: .ready, params: [UserJSON.userID, CredentialJSON.asOf], result: "check", checkSchema,
               errors: changeErrors, run: check),
        Method("compliance.report", summary: "compliance.check for every member of a team, gaps first. Needs viewReports.", effect: .reads,
               access: .ready, params: [teamID, CredentialJSON.asOf], result: "report", reportSchema, errors: changeErrors, run: report),
    ]

    static func json(_ t: Team) -> JSON {
        ["id": .string(t.id), "name": .string(t.name), "memberIds": .array(t.memberIDs.map(JSON.string)),
         "requiredTypeIds": .array(t.requiredTypeIDs.map(JSON.string)),
         "createdAt": .string(Timestamp.format(millis: t.createdAt)), "updatedAt": .string(Timestamp.format(millis: t.updatedAt))]
    }

    static func find(_ ctx: Context, _ id: String, withMembers: Bool = true) throws -> Team {
        guard let t = try ctx.store.teams.find(id: id, withMembers: withMembers) else { throw DomainError.notFound("No team \(id.prefix(100))") }
        return t
    }

    static func create(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let name = try CredentialFields.typeName(p.required(Self.name))
        let id = ctx.deps.newID("team")
        try ctx.write {
            let teams = ctx.store.teams
            if try teams.nameTaken(name) { throw DomainError.conflict(reason: "name_taken", message: "Another team has this name") }
            try teams.insert(id: id, name: name, at: ctx.now)
            try ctx.audit("teams.create", target: id, actor: actor.id, detail: ["name": .string(name)])
        }
        return json(try find(ctx, id))
    }

    static func membership(_ ctx: Context, _ p: Params, _ member: Bool) throws -> JSON {
        let actor = try ctx.user
        let team = try find(ctx, p.required(teamID))
        let userID = try p.required(UserJSON.userID)
        _ = try UserMethods.find(ctx, userID)
        try ctx.write {
            if try ctx.store.teams.setMember(teamID: team.id, userID: userID, member, at: ctx.now) {
                try ctx.audit(member ? "teams.addMember" : "teams.removeMember", target: team.id, actor: actor.id, detail: ["userId": .string(userID)])
            }
        }
        return json(try find(ctx, team.id))
    }

    static func setRequiredTypes(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let team = try find(ctx, p.required(teamID))
        let typeIDs = p[Self.typeIDs]?.arrayValue?.compactMap(\.stringValue) ?? []
        for (i, id) in typeIDs.enumerated() {
            guard let t = try ctx.store.credentials.findType(id: id) else {
                throw DomainError.invalidField("\(Self.typeIDs.name)[\(i)]", "names no credential type")
            }
            if t.archived && !team.requiredTypeIDs.contains(id) {
                throw DomainError.conflict(reason: "type_archived", message: "The credential type \(t.name) is archived")
            }
        }
        try ctx.write {
            try ctx.store.teams.setRequiredTypes(teamID: team.id, typeIDs: typeIDs, at: ctx.now)
            try ctx.audit("teams.setRequiredTypes", target: team.id, actor: actor.id, detail: ["typeIds": .array(typeIDs.map(JSON.string))])
        }
        return json(try find(ctx, team.id))
    }

    /// Another user's compliance needs viewReports; one's own is always readable.
    static func requireViewReports(_ actor: User, for userID: String?) throws {
        if userID == actor.id { return }
        guard actor.permissions.has(.viewReports) else { throw DomainError.forbidden("Reading another user's compliance needs viewReports") }
    }

    /// One required type of one user: its status, and which holding decides it when the caller
    /// may see that credential.
    struct Decision {
        var typeIndex: Int
        var status: Compliance.Status
        var decider: Int?
    }

    /// One user's status per required type (`typeCount` of them), into `items`: gaps first
    /// (worst first), then in the types' order. Returns the verdict. `idPrecedes` orders two
    /// credential ids, for `Compliance.decidesBefore`.
    static func evaluate<ID>(actor: User, isOwner: Bool, holdings: [TeamStore.Holding<ID>], typeCount: Int, clock: ExpiryClock,
                             idPrecedes: (ID, ID) -> Bool, into items: inout [Decision]) -> Compliance.Verdict {
        items.removeAll(keepingCapacity: true)
        for index in 0..<typeCount {
            let best = Compliance.best(holdings.indices.lazy.filter { holdings[$0].typeIndex == index }, status: {
                Compliance.status(approval: holdings[$0].approval, expiration: holdings[$0].expiration, asOf: clock.asOf, windowDays: clock.windowDays)
            }, decidesBefore: { a, b in
                Compliance.decidesBefore((holdings[a].expiration, holdings[a].credentialID), (holdings[b].expiration, holdings[b].credentialID),
                                         idPrecedes: idPrecedes)
            })
            let decider = best.item.flatMap { CredentialAccess.canView(actor, isOwner: isOwner, latestApproval: holdings[$0].approval) ? $0 : nil }
            let item = Decision(typeIndex: index, status: best.status, decider: decider)
            // Stable: worst first, then in the types' name order.
            let at = items.firstIndex { Compliance.worstFirst(item.status, $0.status) } ?? items.count
            items.insert(item, at: at)
        }
        return Compliance.verdict(items.lazy.map(\.status))
    }

    static func check(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let userID = try p.required(UserJSON.userID)
        try requireViewReports(actor, for: userID)
        _ = try UserMethods.find(ctx, userID)
        let clock = try CredentialMethods.expiryClock(ctx, p)
        let teams = ctx.store.teams
        let types = try teams.requiredTypes(userID: userID)
        let holdings = try teams.holdings(userID: userID, typeIDs: types.map(\.id))
        var items: [Decision] = []
        let verdict = evaluate(actor: actor, isOwner: userID == actor.id, holdings: holdings, typeCount: types.count, clock: clock,
                               idPrecedes: { $0.utf8.lexicographicallyPrecedes($1.utf8) }, into: &items)
        return ["userId": .string(userID), "asOf": .string(clock.asOf.description), "verdict": .string(verdict.rawValue),
                "items": .array(items.map { d in
                    ["typeId": .string(types[d.typeIndex].id), "typeName": .string(types[d.typeIndex].name), "status": .string(d.status.rawValue),
                     "credentialId": .optional(d.decider.map { holdings[$0].credentialID })]
                })]
    }

    static func report(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        try requireViewReports(actor, for: nil)
        let team = try find(ctx, p.required(teamID), withMembers: false)
        let clock = try CredentialMethods.expiryClock(ctx, p)
        let credentialTypes = ctx.store.credentials
        let types = try team.requiredTypeIDs.compactMap { id in try credentialTypes.findType(id: id).map { (id: $0.id, name: $0.name) } }
            .sorted { ($0.name, $0.id) < ($1.name, $1.id) }
        // One query for the whole team, one member at a time. A report can hold thousands of
        // members, so each is written straight to bytes (not as a `JSON` tree) into one buffer,
        // with its sort key into another; then the members are copied out once, in report order.
        // Each required type's item with each status, up to its credential, and each verdict with
        // what follows it, are encoded once for every member.
        let statuses = Compliance.Status.allCases
        let itemHeads: [[[UInt8]]] = types.map { t in
            var head = Array(#"{"typeId":"#.utf8)
            JSONWriter.writeString(t.id, into: &head)
            head += #","typeName":"#.utf8
            JSONWriter.writeString(t.name, into: &head)
            return statuses.map { head + #","status":""#.utf8 + $0.rawValue.utf8 + #"","credentialId":"#.utf8 }
        }
        let verdictParts = Compliance.Verdict.allCases.map { (verdict: $0, bytes: Array(#","verdict":""#.utf8) + $0.rawValue.utf8 + #"","items":["#.utf8) }
        let out = ByteWriter(capacity: 1 << 16), keys = ByteWriter(capacity: 1 << 14)
        var members: [(key: Range<Int>, bytes: Range<Int>)] = []
        var counts = [0, 0, 0]  // by rank
        var items: [Decision] = []
        let actorID = Array(actor.id.utf8)
        try ctx.store.teams.forEachMember(teamID: team.id, typeIDs: types.map(\.id)) { u in
            u.text.withUnsafeBufferPointer { text in
                func field(_ r: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: text[r]) }
                let verdict = evaluate(actor: actor, isOwner: field(u.id).elementsEqual(actorID), holdings: u.holdings,
                                       typeCount: types.count, clock: clock, idPrecedes: { field($0).lexicographicallyPrecedes(field($1)) },
                                       into: &items)
                counts[Int(Compliance.ReportOrder.rank(verdict))] += 1
                let start = out.count
                out.append(#"{"userId":"#)
                out.appendString(bytes: field(u.id))
                out.append(#","email":"#)
                out.appendString(bytes: field(u.email))
                out.append(#","firstName":"#)
                out.appendString(bytes: field(u.firstName))
                out.append(#","lastName":"#)
                out.appendString(bytes: field(u.lastName))
                out.append(verdictParts.first { $0.verdict == verdict }!.bytes)
                for (i, item) in items.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    out.append(itemHeads[item.typeIndex][statuses.firstIndex(of: item.status)!])
                    if let d = item.decider { out.appendString(bytes: field(u.holdings[d].credentialID)) } else { out.append("null") }
                    out.append(UInt8(ascii: "}"))
                }
                out.append("]}")
                let keyStart = keys.count
                Compliance.ReportOrder.appendKey(verdict: verdict, lastName: field(u.lastName), firstName: field(u.firstName),
                                                 id: field(u.id), to: keys)
                members.append((keyStart..<keys.count, start..<out.count))
            }
        }
        members.sort { keys.precedes($0.key, $1.key) }
        var list: [UInt8] = [UInt8(ascii: "[")]
        list.reserveCapacity(out.count + members.count + 2)
        for (i, m) in members.enumerated() {
            if i > 0 { list.append(UInt8(ascii: ",")) }
            list.append(contentsOf: out.bytes(m.bytes))
        }
        list.append(UInt8(ascii: "]"))
        return [
            "teamId": .string(team.id), "teamName": .string(team.name), "asOf": .string(clock.asOf.description),
            "summary": ["members": .int(members.count), "compliant": .int(counts[Int(Compliance.ReportOrder.rank(.compliant))]),
                        "expiring": .int(counts[Int(Compliance.ReportOrder.rank(.expiring))]),
                        "nonCompliant": .int(counts[Int(Compliance.ReportOrder.rank(.nonCompliant))])],
            "members": .encoded(list),
        ]
    }
}

extension ByteWriter: ByteSink {}
