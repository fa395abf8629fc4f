"""A Function App with the canonical Durable Functions patterns, run by devhost in tests.

Starters are HTTP functions with a durable client (the SDK's DurableOrchestrationClient
talks to devhost's Durable HTTP API); orchestrators and activities follow the samples.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

# Test switches: the non-determinism test changes what an orchestrator schedules.
BEHAVIOUR: dict[str, str] = {"first": "hello"}
_attempts: dict[str, int] = {}
_attempts_lock = threading.Lock()


# Starters and client operations -----------------------------------------------------------


@app.route(route="start/{orchestrator}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    payload = json.loads(body) if body else None
    instance_id = await client.start_new(
        req.route_params["orchestrator"], req.params.get("id"), payload
    )
    return client.create_check_status_response(req, instance_id)


@app.route(route="status/{instance_id}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    found = await client.get_status(req.route_params["instance_id"], show_history=True)
    if not found:
        return func.HttpResponse(json.dumps({"found": False}), status_code=404)
    payload = found.to_json()
    payload["found"] = True
    payload["historyLength"] = len(found.historyEvents or [])
    return func.HttpResponse(json.dumps(payload), mimetype="application/json")


@app.route(route="event/{instance_id}/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def raise_event(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    body = req.get_body()
    await client.raise_event(
        req.route_params["instance_id"], req.route_params["name"], json.loads(body or b"null")
    )
    return func.HttpResponse(status_code=202)


@app.route(route="terminate/{instance_id}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def terminate(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    await client.terminate(req.route_params["instance_id"], req.params.get("reason", "stop"))
    return func.HttpResponse(status_code=202)


@app.route(route="purge/{instance_id}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def purge(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    result = await client.purge_instance_history(req.route_params["instance_id"])
    return func.HttpResponse(json.dumps({"deleted": result.instances_deleted}))


@app.route(route="instances", methods=["GET"])
@app.durable_client_input(client_name="client")
async def instances(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    prefix = req.params.get("prefix")
    if prefix:
        statuses = await client.get_status_by(instance_id_prefix=prefix)
    else:
        statuses = await client.get_status_all()
    return func.HttpResponse(json.dumps(sorted(s.instance_id for s in statuses)))


@app.route(route="entity/{name}/{key}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def entity_state(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    entity = df.EntityId(req.route_params["name"], req.route_params["key"])
    try:
        state = await client.read_entity_state(entity)
    except Exception as exc:
        return func.HttpResponse(json.dumps({"error": str(exc)}), status_code=502)
    return func.HttpResponse(json.dumps({"exists": state.entity_exists}))


@app.route(route="ping", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def ping(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"pong {req.params.get('name', '')}".strip())


@app.function_name("AdminOnly")
@app.route(route="admin-only", auth_level=func.AuthLevel.ADMIN)
def admin_only(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("admin ok")


# Orchestrators ----------------------------------------------------------------------------


@app.orchestration_trigger(context_name="context")
def chaining(context: df.DurableOrchestrationContext) -> Any:
    name = context.get_input() or "world"
    first = yield context.call_activity("hello", f"{name}-1")
    second = yield context.call_activity("hello", f"{name}-2")
    third = yield context.call_activity("hello", f"{name}-3")
    return [first, second, third]


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext) -> Any:
    settings = context.get_input() or {}
    count = int(settings.get("count", 10))
    activity = str(settings.get("activity", "square"))
    tasks = [context.call_activity(activity, i) for i in range(count)]
    results = yield context.task_all(tasks)
    return {"count": len(results), "sum": sum(results), "results": results}


@app.orchestration_trigger(context_name="context")
def monitor(context: df.DurableOrchestrationContext) -> Any:
    settings = context.get_input()
    polls = 0
    while True:
        polls += 1
        state = yield context.call_activity(
            "check_job", {"poll": polls, "ready": settings["ready"]}
        )
        context.set_custom_status({"polls": polls, "state": state})
        if state == "done":
            return {"polls": polls}
        wake = context.current_utc_datetime + timedelta(milliseconds=settings["interval_ms"])
        yield context.create_timer(wake)


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext) -> Any:
    timeout_ms = (context.get_input() or {}).get("timeout_ms", 60_000)
    deadline = context.current_utc_datetime + timedelta(milliseconds=timeout_ms)
    timer = context.create_timer(deadline)
    decision = context.wait_for_external_event("Approval")
    winner = yield context.task_any([decision, timer])
    if winner == decision:
        timer.cancel()
        return {"outcome": "decided", "decision": decision.result}
    return {"outcome": "timed out"}


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext) -> Any:
    children = [
        context.call_sub_orchestrator("chaining", "a"),
        context.call_sub_orchestrator("chaining", "b", f"{context.instance_id}-named"),
    ]
    results = yield context.task_all(children)
    try:
        yield context.call_sub_orchestrator("failing", None)
        failure = None
    except Exception as exc:
        failure = str(exc)
    return {"children": results, "failure": failure}


@app.orchestration_trigger(context_name="context")
def failing(context: df.DurableOrchestrationContext) -> Any:
    yield context.call_activity("hello", "before failing")
    raise ValueError("the failing orchestrator failed on purpose")


@app.orchestration_trigger(context_name="context")
def retries(context: df.DurableOrchestrationContext) -> Any:
    key = context.instance_id
    options = df.RetryOptions(first_retry_interval_in_milliseconds=50, max_number_of_attempts=3)
    recovered = yield context.call_activity_with_retry(
        "flaky", options, {"key": f"{key}-ok", "fail_times": 2}
    )
    try:
        yield context.call_activity_with_retry(
            "flaky", options, {"key": f"{key}-never", "fail_times": 10}
        )
        exhausted = None
    except Exception as exc:
        exhausted = str(exc)
    after = yield context.call_activity("hello", "after retries")
    return {"recovered": recovered, "exhausted": exhausted, "after": after}


@app.orchestration_trigger(context_name="context")
def parallel_retries(context: df.DurableOrchestrationContext) -> Any:
    """Retries inside a fan-out: hidden retry tasks interleave with many completions."""
    options = df.RetryOptions(first_retry_interval_in_milliseconds=20, max_number_of_attempts=3)
    count = int(context.get_input() or 20)
    tasks = [
        context.call_activity_with_retry(
            "flaky", options, {"key": f"{context.instance_id}-{i}", "fail_times": i % 3}
        )
        for i in range(count)
    ]
    results = yield context.task_all(tasks)
    tail = yield context.call_activity("square", count)
    return {"results": results, "tail": tail}


@app.orchestration_trigger(context_name="context")
def sub_retries(context: df.DurableOrchestrationContext) -> Any:
    options = df.RetryOptions(first_retry_interval_in_milliseconds=20, max_number_of_attempts=2)
    try:
        yield context.call_sub_orchestrator_with_retry("failing", options, None)
        failure = None
    except Exception as exc:
        failure = str(exc)
    after = yield context.call_sub_orchestrator("chaining", "after")
    return {"failure": failure, "after": after}


@app.orchestration_trigger(context_name="context")
def counter(context: df.DurableOrchestrationContext) -> Any:
    value = int(context.get_input() or 0)
    value = yield context.call_activity("increment", value)
    if value < 5:
        context.continue_as_new(value)
        return None
    return value


@app.orchestration_trigger(context_name="context")
def eternal(context: df.DurableOrchestrationContext) -> Any:
    iteration = int(context.get_input() or 0)
    yield context.call_activity("hello", f"round {iteration}")
    context.set_custom_status({"iteration": iteration})
    yield context.create_timer(context.current_utc_datetime + timedelta(milliseconds=20))
    context.continue_as_new(iteration + 1)
    return None


@app.orchestration_trigger(context_name="context")
def changing(context: df.DurableOrchestrationContext) -> Any:
    yield context.call_activity(BEHAVIOUR["first"], "step one")
    yield context.wait_for_external_event("go")
    return "finished"


@app.orchestration_trigger(context_name="context")
def sleepy(context: df.DurableOrchestrationContext) -> Any:
    """Not replay-safe: sleeps in the orchestrator (and hides the error)."""
    first = yield context.call_activity("hello", "sleepy")
    with contextlib.suppress(Exception):
        time.sleep(0.01)
    return first


@app.orchestration_trigger(context_name="context")
def random_id(context: df.DurableOrchestrationContext) -> Any:
    """Not replay-safe: a random id in the orchestrator."""
    return str(uuid.uuid4())
    yield  # a generator, as orchestrators are


@app.orchestration_trigger(context_name="context")
def instant(context: df.DurableOrchestrationContext) -> Any:
    """Completes on its first replay."""
    return context.get_input()
    yield  # a generator, as orchestrators are


@app.orchestration_trigger(context_name="context")
def catches_missing(context: df.DurableOrchestrationContext) -> Any:
    """Calls a function that may not be registered, and tries to catch the failure."""
    call = context.get_input()
    try:
        if call["kind"] == "activity":
            yield context.call_activity(call["name"], None)
        else:
            yield context.call_sub_orchestrator(call["name"], None)
    except Exception as exc:
        return f"caught: {exc}"
    return "called"


@app.orchestration_trigger(context_name="context")
def reuses_own_id(context: df.DurableOrchestrationContext) -> Any:
    """Starts a sub-orchestration under its own instance id, and tries to catch the failure."""
    try:
        yield context.call_sub_orchestrator("instant", None, context.instance_id.upper())
    except Exception as exc:
        return f"caught: {exc}"
    return "called"


@app.orchestration_trigger(context_name="context")
def long_wait(context: df.DurableOrchestrationContext) -> Any:
    """A timer a week out: further than the Azure Storage provider's six days."""
    yield context.create_timer(context.current_utc_datetime + timedelta(days=7))
    return "woke"


@app.orchestration_trigger(context_name="context")
def uses_entity(context: df.DurableOrchestrationContext) -> Any:
    value = yield context.call_entity(df.EntityId("counter", "one"), "add", 1)
    return value


@app.orchestration_trigger(context_name="context")
def uses_http(context: df.DurableOrchestrationContext) -> Any:
    response = yield context.call_http("GET", "https://example.invalid/")
    return response


# Activities -------------------------------------------------------------------------------


@app.activity_trigger(input_name="name")
def hello(name: str) -> str:
    return f"Hello {name}!"


@app.activity_trigger(input_name="value")
def other(value: str) -> str:
    return f"other {value}"


@app.activity_trigger(input_name="number")
def square(number: int) -> int:
    return number * number


@app.activity_trigger(input_name="number")
def slow_square(number: int) -> int:
    """Square slowly and record the call in DEVHOST_TEST_CALLS (the crash test counts them)."""
    time.sleep(float(os.environ.get("DEVHOST_TEST_DELAY", "0.02")))
    calls = os.environ.get("DEVHOST_TEST_CALLS")
    if calls:
        with Path(calls).open("a", encoding="utf-8") as handle:
            handle.write(f"{number}\n")
    return number * number


@app.activity_trigger(input_name="job")
def check_job(job: dict[str, int]) -> str:
    return "done" if job["poll"] >= job["ready"] else "running"


@app.activity_trigger(input_name="request")
def flaky(request: dict[str, Any]) -> str:
    with _attempts_lock:
        _attempts[request["key"]] = attempt = _attempts.get(request["key"], 0) + 1
    if attempt <= request["fail_times"]:
        raise RuntimeError(f"attempt {attempt} failed")
    return f"succeeded on attempt {attempt}"


@app.activity_trigger(input_name="value")
def increment(value: int) -> int:
    return value + 1


@app.function_name("Renamed")
@app.activity_trigger(input_name="value")
def renamed_activity(value: int) -> int:
    """Registered as 'Renamed': `call_activity(renamed_activity)` sends the Python name."""
    return value


# Timer and queue triggers -----------------------------------------------------------------

TIMER_CALLS: list[bool] = []
QUEUE_SEEN: list[str] = []


@app.timer_trigger(schedule="%TEST_TIMER_SCHEDULE%", arg_name="timer", run_on_startup=False)
def every_hour(timer: func.TimerRequest) -> None:
    TIMER_CALLS.append(timer.past_due)


@app.queue_trigger(arg_name="message", queue_name="%TEST_QUEUE%", connection="TestStorage")
def work_item(message: func.QueueMessage) -> None:
    body = message.get_body().decode("utf-8")
    QUEUE_SEEN.append(f"{body}#{message.dequeue_count}")
    if body.startswith("fail"):
        raise RuntimeError(f"cannot process {body}")
