"""Schemathesis checks of our own, loaded through SCHEMATHESIS_HOOKS by test/fuzz.test.ts.

Every refusal must come in the API's one error shape, { "error": { "code", "message", "details" } }; and every
response is logged (its endpoint, as `GET /v1/vms/{id}`, its status, and the operation it accepted) to $FUZZ_LOG, so that the test can compare what was accepted
with what the database holds afterwards.
"""
import json
import os

import schemathesis


@schemathesis.check
def error_shape(ctx, response, case):
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.text)
    except ValueError:
        raise AssertionError(f"a {response.status_code} that is not JSON: {response.text[:200]!r}")
    error = body.get("error") if isinstance(body, dict) else None
    if not (isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(error.get("message"), str)):
        raise AssertionError(f"a {response.status_code} not in the error shape: {response.text[:200]!r}")
    return None


@schemathesis.check
def logged(ctx, response, case):
    entry = {"endpoint": case.operation.label, "status": response.status_code}
    if response.status_code == 202:
        # The operation accepted: a request replayed with its Idempotency-Key answers with the same one.
        entry["operationId"] = json.loads(response.text).get("id")
    with open(os.environ["FUZZ_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")
    return None
