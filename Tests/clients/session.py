"""A full session that calls every method of the service once on its main path.

`run(call)` drives it through any client: `call(method, params)` returns the result, or raises
`Failure` with the error. It returns [(method, params, result)] for every call made, so a test can
check each result against the document's schema for that method.
"""

import base64
import struct
import zlib

ADMIN = {"email": "ada@example.com", "firstName": "Ada", "lastName": "Admin", "password": "Admin#1234"}


def pdf():
    """A one-page PDF with what readers (and the service) need: the header, the objects, the
    cross-reference table at the offset startxref gives, the trailer, and %%EOF."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>"]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def png():
    """A 1x1 grey PNG: signature, IHDR, IDAT and IEND chunks, each with its CRC-32."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


PDF = pdf()
PNG = png()


class Failure(Exception):
    def __init__(self, method, code, data):
        super().__init__(f"{method}: {code} {data}")
        self.code, self.data = code, data or {}
        self.reason = self.data.get("reason")


def media(name, content_type, data):
    return {"fileName": name, "contentType": content_type, "dataBase64": base64.b64encode(data).decode()}


def run(call):
    done = []

    def ok(method, **params):
        result = call(method, params)
        done.append((method, params, result))
        return result

    def refused(method, reason, **params):
        try:
            call(method, params)
        except Failure as e:
            assert e.reason == reason, f"{method}: {e.reason}, expected {reason}"
            return e
        raise AssertionError(f"{method} succeeded; expected {reason}")

    ok("rpc.discover")
    ok("service.info")
    admin = ok("setup.createAdmin", **ADMIN)
    ok("session.login", email=ADMIN["email"], password=ADMIN["password"])
    ok("session.whoami")
    ok("session.changePassword", currentPassword=ADMIN["password"], newPassword="Admin#5678")
    sam = ok("users.add", email="sam@example.com", firstName="Sam", lastName="Smith", role="support",
             permissions={"shareReports": False}, temporaryPassword="Temp#1234")
    ok("users.get", userId=sam["id"])
    ok("users.list", query="smith", limit=10)
    ok("users.update", userId=sam["id"], lastName="Smythe", permissions={"shareReports": True})
    ok("users.invitation", userId=sam["id"])
    ok("users.resetPassword", userId=sam["id"], temporaryPassword="Reset#1234")
    ok("users.deactivate", userId=sam["id"])
    ok("users.reactivate", userId=sam["id"])

    licence = ok("credentialTypes.create", name="Forklift", description="Counterbalance", requiresExpiration=True)
    ok("credentialTypes.update", typeId=licence["id"], description="Counterbalance and reach")
    old = ok("credentialTypes.create", name="Old")
    ok("credentialTypes.archive", typeId=old["id"])
    ok("credentialTypes.list", includeArchived=True)

    c = ok("credentials.add", userId=sam["id"], typeId=licence["id"], issueDate="2026-01-01", expirationDate="2026-12-31",
           documentNumber="FL-1", media=[media("card.pdf", "application/pdf", PDF)])
    ok("credentials.addVersion", credentialId=c["id"], issueDate="2026-02-01", expirationDate="2027-01-31",
       media=[media("photo.png", "image/png", PNG)])
    edited = ok("credentials.editLatestVersion", credentialId=c["id"], documentNumber="FL-2",
                addMedia=[media("back.pdf", "application/pdf", PDF)])
    ok("credentials.get", credentialId=c["id"], asOf="2026-03-01")
    ok("credentials.getVersion", credentialId=c["id"], version=1)
    ok("credentials.list", userId=sam["id"], expiryStatus="valid", asOf="2026-03-01")
    ok("credentials.history", credentialId=c["id"])
    ok("credentials.activity", credentialId=c["id"])
    ok("credentials.reject", credentialId=c["id"], version=1, reason="Blurry photo")
    ok("credentials.approve", credentialId=c["id"])
    media_id = edited["latestVersion"]["media"][0]["id"]
    ok("media.get", mediaId=media_id)
    ok("credentials.deleteMedia", credentialId=c["id"], version=2, mediaIds=[media_id])
    ok("credentials.import", csv="email,credential_type,issue_date,expiration_date,document_number\r\n"
                                 "sam@example.com,forklift,2026-01-05,2027-01-04,FL-9\r\n", dryRun=False)

    ok("settings.get")
    ok("settings.update", expiringWindowDays=45)
    ok("notifications.getSettings", userId=sam["id"])
    ok("notifications.updateSettings", userId=sam["id"], daysBefore=[60, 14])
    # An API token (its 7-day reminder is due on 2026-12-15 when made in early December), and
    # the rest of the session signed in with it.
    token = ok("tokens.create", name="nightly", expiresInDays=20)
    ok("tokens.list")
    ok("session.login", token=token["secret"])
    due = ok("notifications.due", asOf="2026-12-15")
    ok("notifications.markSent", ids=[r["id"] for r in due["items"]][:1])
    ok("audit.list", limit=5)

    team = ok("teams.create", name="Warehouse")
    ok("teams.addMember", teamId=team["id"], userId=sam["id"])
    ok("teams.addMember", teamId=team["id"], userId=admin["id"])
    ok("teams.setRequiredTypes", teamId=team["id"], typeIds=[licence["id"]])
    ok("teams.list")
    ok("compliance.check", userId=sam["id"], asOf="2026-03-01")
    ok("compliance.report", teamId=team["id"], asOf="2026-03-01")
    ok("compliance.export", teamId=team["id"], asOf="2026-03-01")
    ok("credentials.export", userId=sam["id"], limit=10)
    # Following Sam's team: his reminders come to the admin too, and into the admin's digest.
    ok("teams.follow", teamId=team["id"])
    followed = ok("notifications.due", asOf="2026-12-15")
    assert any(r["recipient"]["reason"] == "team_follower" for r in followed["items"]), followed
    digest = ok("notifications.digest", days=60, asOf="2026-12-15")
    assert [t["teamName"] for t in digest["teams"]] == ["Warehouse"] and digest["teams"][0]["items"], digest
    ok("teams.unfollow", teamId=team["id"], userId=admin["id"])
    ok("teams.removeMember", teamId=team["id"], userId=admin["id"])

    preview = refused("credentials.delete", "confirmation_required", credentialId=c["id"])
    assert preview.data["preview"]["versions"] == 2
    ok("credentials.delete", credentialId=c["id"], confirm=True)
    ok("tokens.revoke", tokenId=token["token"]["id"])
    ok("session.logout")
    return done
