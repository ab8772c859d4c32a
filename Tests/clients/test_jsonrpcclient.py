"""jsonrpcclient builds the requests and parses the answers: ids of every kind it makes come back,
results parse as Ok and errors as Error with their data."""

import json
import subprocess

from jsonrpcclient import Error, Ok, notification_json, parse, parse_json, request, request_json, request_random, request_uuid

import session


def exchange(executable, db, env, lines):
    """Sends the lines at once, closes stdin, returns the answer lines."""
    done = subprocess.run([executable, "--db", db], input="".join(line + "\n" for line in lines).encode(),
                          capture_output=True, env=env, timeout=60)
    assert done.returncode == 0 and done.stderr == b""
    return done.stdout.decode().splitlines()


def test_requests_built_by_jsonrpcclient_are_answered_and_parse(executable, db, env):
    admin = session.ADMIN
    sent = [
        request_json("setup.createAdmin", params=admin),
        request_json("session.login", params={"email": admin["email"], "password": admin["password"]}),
        notification_json("session.whoami"),
        json.dumps(request_uuid("users.list", params={"limit": 5})),
        json.dumps(request_random("credentialTypes.create", params={"name": "Forklift"})),
        request_json("credentialTypes.create", params={"name": "forklift"}),
        request_json("users.get", params={"userId": "usr_none"}),
        request_json("nope.nothing"),
    ]
    answers = exchange(executable, db, env, sent)
    assert len(answers) == len(sent) - 1, "the notification gets no answer"
    ids = [json.loads(s)["id"] for s in sent if "id" in json.loads(s)]
    parsed = [parse_json(a) for a in answers]
    assert [p.id for p in parsed] == ids
    assert [type(p) for p in parsed] == [Ok, Ok, Ok, Ok, Error, Error, Error]
    assert parsed[0].result["email"] == admin["email"] and "password" not in json.dumps(parsed[0].result)
    assert parsed[2].result["items"][0]["role"] == "admin"
    assert parsed[3].result["name"] == "Forklift"
    assert (parsed[4].code, parsed[4].data["reason"]) == (-32004, "name_taken")
    assert (parsed[5].code, parsed[5].data["reason"]) == (-32003, "not_found")
    assert (parsed[6].code, parsed[6].data["reason"]) == (-32601, "method_not_found")
    assert all(isinstance(p.message, str) and p.message for p in parsed[4:])


def test_a_batch_of_jsonrpcclient_requests_parses_as_a_list(executable, db, env):
    batch = [request("service.info"), request("session.whoami"), request("rpc.discover", params={"x": 1})]
    answers = exchange(executable, db, env, [json.dumps(batch)])
    assert len(answers) == 1
    parsed = list(parse(json.loads(answers[0])))
    assert [p.id for p in parsed] == [r["id"] for r in batch]
    assert isinstance(parsed[0], Ok) and parsed[0].result["name"] == "credentials-rpc"
    assert isinstance(parsed[1], Error) and parsed[1].data["reason"] == "unauthenticated"
    assert isinstance(parsed[2], Error) and parsed[2].code == -32602
    assert [f["field"] for f in parsed[2].data["fields"]] == ["x"]
