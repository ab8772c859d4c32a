"""Every result of a full session matches the result schema the service's own OpenRPC document
gives for its method (jsonschema, draft 7 as OpenRPC 1.3 uses, formats checked)."""

import copy
import datetime
import re

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

import session
from lineclient import LineClient

BASE = "urn:credentials-rpc:openrpc"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

checker = jsonschema.FormatChecker(formats=())


@checker.checks("date", raises=ValueError)
def is_date(value):
    return not isinstance(value, str) or bool(datetime.date.fromisoformat(value)) and len(value) == 10


@checker.checks("date-time", raises=ValueError)
def is_timestamp(value):
    """RFC 3339 UTC with milliseconds, as the contract promises."""
    return not isinstance(value, str) or (TIMESTAMP.match(value) is not None and
                                          bool(datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))))


def validators(document):
    registry = Registry().with_resource(BASE, Resource(contents=document, specification=DRAFT7))
    return {m["name"]: jsonschema.Draft7Validator({"$ref": f"{BASE}#/methods/{i}/result/schema"}, registry=registry,
                                                  format_checker=checker)
            for i, m in enumerate(document["methods"])}


@pytest.fixture
def full_session(executable, db, env):
    client = LineClient(executable, db, env)
    try:
        calls = session.run(client.call)
    finally:
        assert client.close() == 0
    return calls


def test_every_result_of_a_full_session_matches_its_schema(full_session):
    document = next(result for method, _, result in full_session if method == "rpc.discover")
    check = validators(document)
    mismatches = []
    for method, params, result in full_session:
        for error in check[method].iter_errors(result):
            mismatches.append(f"{method} {params}: {error.json_path}: {error.message}")
    assert mismatches == []
    assert {m for m, _, _ in full_session} == set(check), "the session must call every method of the document"


def test_a_result_off_its_schema_is_caught(full_session):
    """The check is live: a missing field, an extra one, a bad date and a wrong enum all fail."""
    document = next(result for method, _, result in full_session if method == "rpc.discover")
    check = validators(document)
    credential = next(result for method, _, result in full_session if method == "credentials.get")
    assert check["credentials.get"].is_valid(credential)
    for spoil in (lambda c: c.pop("typeName"),
                  lambda c: c.update(extra=1),
                  lambda c: c["latestVersion"].update(issueDate="2026-02-30"),
                  lambda c: c["latestVersion"].update(createdAt="2026-01-01 00:00:00"),
                  lambda c: c["latestVersion"]["approval"].update(status="maybe")):
        spoiled = copy.deepcopy(credential)
        spoil(spoiled)
        assert not check["credentials.get"].is_valid(spoiled), spoiled
