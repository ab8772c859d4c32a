"""rpc.discover's document is a valid OpenRPC document by the `openrpc` package's models, holds
nothing those models do not know, and is Protocol/openrpc.json."""

import json

import openrpc
from jsonrpcclient import Ok, parse_json, request_json

from conftest import ROOT
from lineclient import LineClient


def discover(executable, db, env):
    client = LineClient(executable, db, env)
    client.process.stdin.write(request_json("rpc.discover").encode() + b"\n")
    client.process.stdin.flush()
    answer = parse_json(client.process.stdout.readline().decode())
    assert client.close() == 0
    assert isinstance(answer, Ok)
    return answer.result


def test_rpc_discover_is_a_valid_openrpc_document(executable, db, env):
    document = discover(executable, db, env)
    model = openrpc.OpenRPC.model_validate(document)
    assert model.openrpc.startswith("1.")
    names = [m.name for m in model.methods]
    assert len(names) == len(set(names)) and "credentials.add" in names
    assert all(m.param_structure == openrpc.ParamStructure.BY_NAME for m in model.methods)
    assert all(m.result is not None for m in model.methods)
    # Dumped back, the model gives the same document: every member is one OpenRPC defines.
    assert model.model_dump(mode="json", by_alias=True, exclude_unset=True) == document


def test_rpc_discover_is_the_document_in_the_repository(executable, db, env):
    with open(ROOT / "Protocol" / "openrpc.json", encoding="utf-8") as f:
        assert discover(executable, db, env) == json.load(f)


def test_every_reference_in_the_document_resolves(executable, db, env):
    document = discover(executable, db, env)
    refs = []

    def walk(value):
        if isinstance(value, dict):
            if isinstance(value.get("$ref"), str):
                refs.append(value["$ref"])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(document)
    assert refs, "the document uses component schemas"
    for ref in set(refs):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.split("/")[-1] in document["components"]["schemas"], ref
