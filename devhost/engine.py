"""The orchestration engine: histories in, the SDK's own replay, actions out.

Each step of an instance takes every event waiting in its inbox, appends them to the
history after an OrchestratorStarted event, calls the orchestrator function built by the
azure-functions-durable SDK with the context JSON the Durable extension would send, and
carries out the actions it returns, all in one SQLite transaction.

Sequence numbers. The SDK numbers the tasks an orchestrator yields in order and matches a
completion to its task by that number. Retries (`call_*_with_retry`) number hidden tasks
too: the SDK adds a retry timer when it replays a failure and a new attempt when it replays
that timer firing, with no action returned for either. So the engine puts such events first
in a step (they consume the next numbers, in order, before user code can resume) and gives
the orchestrator's new actions the numbers after them. The `tasks` table records every
number consumed, which is also what non-determinism is checked against.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
import unicodedata
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.functions as func
from azure.functions import _durable_functions as df_codec

from devhost import guard
from devhost.invoke import CallFunction
from devhost.loader import FunctionInfo, LoadedApp
from devhost.settings import HostOptions
from devhost.store import TERMINAL, Instance, Store, TaskRow

log = logging.getLogger("devhost.engine")

# HistoryEventType numbers (azure.durable_functions.models.history.HistoryEventType).
EXECUTION_STARTED = 0
EXECUTION_COMPLETED = 1
EXECUTION_FAILED = 2
EXECUTION_TERMINATED = 3
TASK_SCHEDULED = 4
TASK_COMPLETED = 5
TASK_FAILED = 6
SUB_CREATED = 7
SUB_COMPLETED = 8
SUB_FAILED = 9
TIMER_CREATED = 10
TIMER_FIRED = 11
ORCHESTRATOR_STARTED = 12
ORCHESTRATOR_COMPLETED = 13
EVENT_RAISED = 15
CONTINUE_AS_NEW = 16
EXECUTION_SUSPENDED = 19
EXECUTION_RESUMED = 20

EVENT_NAMES = {
    0: "ExecutionStarted",
    1: "ExecutionCompleted",
    2: "ExecutionFailed",
    3: "ExecutionTerminated",
    4: "TaskScheduled",
    5: "TaskCompleted",
    6: "TaskFailed",
    7: "SubOrchestrationInstanceCreated",
    8: "SubOrchestrationInstanceCompleted",
    9: "SubOrchestrationInstanceFailed",
    10: "TimerCreated",
    11: "TimerFired",
    12: "OrchestratorStarted",
    13: "OrchestratorCompleted",
    14: "EventSent",
    15: "EventRaised",
    16: "ContinueAsNew",
    17: "GenericEvent",
    18: "HistoryState",
    19: "ExecutionSuspended",
    20: "ExecutionResumed",
}

# ActionType numbers (azure.durable_functions.models.actions.ActionType).
CALL_ACTIVITY = 0
CALL_ACTIVITY_WITH_RETRY = 1
CALL_SUB = 2
CALL_SUB_WITH_RETRY = 3
CONTINUE_AS_NEW_ACTION = 4
CREATE_TIMER = 5
WAIT_FOR_EVENT = 6
CALL_ENTITY = 7
CALL_HTTP = 8
SIGNAL_ENTITY = 9
WHEN_ANY = 11
WHEN_ALL = 12

UNSUPPORTED_ACTIONS = {
    CALL_ENTITY: "durable entities (call_entity)",
    CALL_HTTP: "durable HTTP calls (call_http)",
    SIGNAL_ENTITY: "durable entities (signal_entity)",
}
# The context fields OrchestrationTriggerAttributeBindingProvider.OrchestrationContextToString
# sends besides the history: `upperSchemaVersion` V2 for old SDKs and `upperSchemaVersionNew`
# V3, which the SDK 1.7 takes (compound actions nest as WhenAll/WhenAny; a timer further
# out than `maximumShortTimerDuration` becomes a chain of `longRunningTimerIntervalDuration`
# timers). The durations are the Azure Storage provider's (AzureStorageDurabilityProvider:
# MaximumDelayTime 6 days, LongRunningTimerIntervalLength 3 days), as .NET TimeSpans.
REPLAY_SCHEMA = 1  # ReplaySchema.V2
REPLAY_SCHEMA_NEW = 2  # ReplaySchema.V3
CONTEXT_FIELDS = (
    f',"upperSchemaVersion":{REPLAY_SCHEMA},"upperSchemaVersionNew":{REPLAY_SCHEMA_NEW}'
    ',"longRunningTimerIntervalDuration":"3.00:00:00","maximumShortTimerDuration":"6.00:00:00"'
)
TIMER_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class EngineError(Exception):
    """A request to the engine that cannot be carried out; `status` is the HTTP status.

    The Durable HTTP API answers errors with `Message` (what the handler says) and, when
    an exception caused it, `ExceptionMessage` and `ExceptionType`
    (HttpRequestMessageExtensions.CreateErrorResponse in azure-functions-durable-extension).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        exception_message: str | None = None,
        exception_type: str | None = None,
    ) -> None:
        super().__init__(exception_message or message)
        self.status = status
        self.message = message
        self.exception_message = exception_message or message
        self.exception_type = exception_type


# HttpApiHandler.HandleRequestAsync turns an ArgumentException into 400 and any other
# exception into 500, each with its own fixed Message.
BAD_ARGUMENTS = "One or more of the arguments submitted is incorrect"
SOMETHING_WENT_WRONG = "Something went wrong while processing your request"
MAX_INSTANCE_ID_LENGTH = 256  # DurableClient.MaxInstanceIdLength
DEFAULT_PAGE_SIZE = 100  # OrchestrationStatusQueryCondition.PageSize


def check_instance_id(instance_id: str) -> None:
    """Refuse an instance id as DurableClient.StartNewAsync does (ArgumentException: 400).

    The texts are .NET's: for '@' and the characters the extension passes its two
    arguments to `ArgumentException(string message, string paramName)` the other way
    round, so the message reads "instanceId (Parameter '...')".
    """
    text: str | None = None
    if instance_id.startswith("@"):
        text = "instanceId (Parameter 'Orchestration instance ids must not start with @.')"
    elif any(c in "/\\?#" or unicodedata.category(c) == "Cc" for c in instance_id):
        text = (
            "instanceId (Parameter 'Orchestration instance ids must not contain /, \\, #, ?, "
            "or control characters.')"
        )
    elif len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        text = f"Instance ID lengths must not exceed {MAX_INSTANCE_ID_LENGTH} characters."
    if text is not None:
        raise EngineError(
            400,
            BAD_ARGUMENTS,
            exception_message=text,
            exception_type="System.ArgumentException",
        )


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    text = text.strip().replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def event(event_type: int, moment: datetime, event_id: int = -1, **fields: Any) -> dict[str, Any]:
    return {
        "EventType": event_type,
        "EventId": event_id,
        "IsPlayed": False,
        "Timestamp": iso(moment),
        **fields,
    }


def flatten_actions(actions: list[Any]) -> list[dict[str, Any]]:
    """The leaf actions in the order the SDK scheduled them (compound actions opened)."""
    out: list[dict[str, Any]] = []
    for item in actions:
        if isinstance(item, list):
            out.extend(flatten_actions(item))
        elif isinstance(item, dict):
            if item.get("actionType") in (WHEN_ALL, WHEN_ANY):
                out.extend(flatten_actions(item.get("compoundActions") or []))
            else:
                out.append(item)
    return out


def describe(kind: str, name: str, retry: bool = False) -> str:
    if kind == "activity":
        return f"activity '{name}'" + (" with retry" if retry else "")
    if kind == "suborchestration":
        return f"sub-orchestration '{name}'" + (" with retry" if retry else "")
    if kind == "timer":
        return "a timer"
    return kind


def action_kind(action: dict[str, Any]) -> tuple[str, str, bool]:
    kind = action.get("actionType")
    name = str(action.get("functionName") or "")
    if kind in (CALL_ACTIVITY, CALL_ACTIVITY_WITH_RETRY):
        return "activity", name, kind == CALL_ACTIVITY_WITH_RETRY
    if kind in (CALL_SUB, CALL_SUB_WITH_RETRY):
        return "suborchestration", name, kind == CALL_SUB_WITH_RETRY
    if kind == CREATE_TIMER:
        return "timer", "", False
    if kind == CONTINUE_AS_NEW_ACTION:
        return "continue-as-new", "", False
    return f"action {kind}", name, False


def retry_delay(retry_json: str | None, attempt: int) -> timedelta:
    options = json.loads(retry_json or "{}")
    first = float(options.get("firstRetryIntervalInMilliseconds", 1000))
    coefficient = float(options.get("backoffCoefficient", 1.0))
    delay = first * coefficient ** max(0, attempt - 1)
    maximum = options.get("maxRetryIntervalInMilliseconds")
    if maximum:
        delay = min(delay, float(maximum))
    return timedelta(milliseconds=delay)


def max_attempts(retry_json: str | None) -> int:
    return int(json.loads(retry_json or "{}").get("maxNumberOfAttempts", 1))


def json_or_none(text: str | None) -> Any:
    return None if text is None else json.loads(text)


@dataclass
class EngineStats:
    """Counters for benchmarks and `status`: replays and the cost they had."""

    replays: int = 0
    events_replayed: int = 0
    replay_cpu_seconds: float = 0.0
    activities_run: int = 0


@dataclass
class _Cached:
    execution_id: str
    history: list[str]
    tasks: dict[int, TaskRow]
    next_task_id: int


@dataclass
class _Plan:
    """What one step writes, collected before the transaction."""

    new_events: list[dict[str, Any]] = field(default_factory=list)
    scheduled: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[TaskRow] = field(default_factory=list)
    activities: list[tuple[int, str, str | None]] = field(default_factory=list)
    timers: list[tuple[int, datetime]] = field(default_factory=list)
    cancelled_timers: list[int] = field(default_factory=list)
    children: list[tuple[int, str, str, str | None]] = field(default_factory=list)


@dataclass
class _Step:
    """One step of one instance being worked out: what it reads, and its plan."""

    instance: Instance
    cached: _Cached
    inbox_ids: list[int]
    now: datetime
    plan: _Plan = field(default_factory=_Plan)


# An inbox row: its id, the execution it is for (None: whichever is current), the event.
InboxRow = tuple[int, str | None, dict[str, Any]]


def _row_ids(inbox: list[InboxRow]) -> list[int]:
    return [row_id for row_id, _, _ in inbox]


def context_json(instance: Instance, history: list[str], call_events: list[dict[str, Any]]) -> str:
    """The orchestration context the extension sends: the stored history as it is, the
    step's events after it, and the instance's input."""
    history_json = ",".join([*history, *(json.dumps(e) for e in call_events)])
    return (
        '{"history":['
        + history_json
        + '],"instanceId":'
        + json.dumps(instance.instance_id)
        + ',"isReplaying":'
        + ("true" if history else "false")
        + ',"parentInstanceId":'
        + json.dumps(instance.parent_instance_id)
        + ',"input":'
        + (instance.input if instance.input is not None else "null")
        + CONTEXT_FIELDS
        + "}"
    )


@dataclass
class _Replay:
    """What one call of the orchestrator function answered."""

    state: dict[str, Any]  # the SDK's answer: actions, isDone, output, customStatus
    error: str | None = None  # why it failed, in the words the extension keeps
    details: str = ""

    @classmethod
    def failed(cls, exc: Exception) -> _Replay:
        """An orchestrator that raised. The SDK reports `str(exception)` (its type when that
        is empty) as `error`, after its state; the extension's OutOfProcOrchestrationShim
        fails the instance with "Orchestrator function '<name>' failed: <error>", and DTFx
        keeps that message as the output (TaskOrchestrationContext.FailOrchestration)."""
        message = str(exc)
        state: dict[str, Any] = {}
        marker = "\n\n$OutOfProcData$:"
        if marker in message:
            message, _, data = message.partition(marker)
            try:
                state = json.loads(data)
            except json.JSONDecodeError:
                state = {}
        cause = exc.__cause__ or exc
        error = str(state.get("error") or message or type(cause))
        details = f"Message: {error}, StackTrace: " + "".join(traceback.format_exception(cause))
        return cls(state=state, error=error, details=details)

    def custom_status(self) -> str | None:
        value = self.state.get("customStatus")
        return json.dumps(value) if value is not None else None


@dataclass
class _Actions:
    """What the orchestrator's actions ask for, once checked against its history."""

    next_task_id: int
    continue_as_new: bool = False
    continue_input: str | None = None
    problem: str | None = None  # where the replay departs from the history
    refused: str | None = None  # what devhost will not run: fails the instance as is

    def continue_with(self, action: dict[str, Any]) -> None:
        self.continue_as_new = True
        self.continue_input = action.get("input")


class Engine:
    """Runs orchestrations and activities of one app against one store."""

    def __init__(
        self,
        app: LoadedApp,
        store: Store,
        options: HostOptions,
        invoke: CallFunction,
        determinism_guard: bool = True,
    ) -> None:
        self.app = app
        self.guard = determinism_guard
        if determinism_guard:
            guard.install()
        self.store = store
        self.options = options
        self.invoke = invoke
        self.stats = EngineStats()
        self.replay_delay_factor = 1.0
        self._wake = threading.Condition()
        self._activity_wake = threading.Condition()
        self._timer_wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool = ThreadPoolExecutor(
            max_workers=options.max_concurrent_activities, thread_name_prefix="devhost-activity"
        )
        self._running_activities = 0
        self._cache: dict[str, _Cached] = {}
        self._next_allowed: dict[str, float] = {}

    # Lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        recovered = self.store.reset_running_work()
        if recovered:
            log.info("resuming %d work item(s) left running by a previous process", recovered)
        for target, name in (
            (self._dispatch_loop, "devhost-orchestrations"),
            (self._activity_loop, "devhost-activities"),
            (self._timer_loop, "devhost-durable-timers"),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for condition in (self._wake, self._activity_wake, self._timer_wake):
            self._notify(condition)
        for thread in self._threads:
            thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _notify(self, condition: threading.Condition) -> None:
        with condition:
            condition.notify_all()

    # Client operations (the Durable HTTP API calls these) -------------------------------

    def start_new(
        self,
        name: str,
        instance_id: str | None = None,
        input_text: str | None = None,
        version: str | None = None,
    ) -> str:
        """Start `name`; an instance id that is Pending or Running is refused.

        The extension's default `overridableExistingInstanceStates` makes the Azure Storage
        provider throw OrchestrationAlreadyExistsException (an InvalidOperationException),
        which HttpApiHandler answers with 500; a finished instance is replaced.
        """
        info = self.app.get(name, "orchestrationTrigger")
        if info is None:
            raise EngineError(
                400,
                BAD_ARGUMENTS,
                exception_message=self.missing_function(name, "orchestrationTrigger"),
                exception_type="System.ArgumentException",
            )
        if instance_id:
            check_instance_id(instance_id)
        instance_id = instance_id or uuid.uuid4().hex
        if input_text is not None:
            json.loads(input_text)  # the caller validated it; fail loudly if not
        with self.store.transaction() as conn:
            existing = self.store.instance(instance_id, conn)
            if existing is not None and not existing.is_terminal:
                raise EngineError(
                    500,
                    SOMETHING_WENT_WRONG,
                    exception_message=(
                        f"An Orchestration instance with the status {existing.status} already "
                        "exists."
                    ),
                    exception_type="DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException",
                )
            if existing is not None:
                Store.delete_instance(conn, instance_id)
            self._create_instance(conn, instance_id, info.name, input_text, version or "")
        self._cache.pop(instance_id, None)
        self._notify(self._wake)
        return instance_id

    def _create_instance(
        self,
        conn: Any,
        instance_id: str,
        name: str,
        input_text: str | None,
        version: str,
        parent: tuple[str, str, int] | None = None,
    ) -> None:
        now = utcnow()
        execution_id = uuid.uuid4().hex
        conn.execute(
            "INSERT INTO instances(instance_id, name, status, execution_id, input, version, "
            "created_at, updated_at, parent_instance_id, parent_execution_id, parent_task_id) "
            "VALUES (?, ?, 'Pending', ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                instance_id,
                name,
                execution_id,
                input_text,
                version,
                iso(now),
                iso(now),
                *(parent or (None, None, None)),
            ),
        )
        started = event(
            EXECUTION_STARTED,
            now,
            Name=name,
            Version=version,
            Input=input_text,
            OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
            ParentInstance=(
                {"OrchestrationInstance": {"InstanceId": parent[0], "ExecutionId": parent[1]}}
                if parent
                else None
            ),
        )
        conn.execute(
            "INSERT INTO inbox(instance_id, execution_id, event) VALUES (?, ?, ?)",
            (instance_id, execution_id, json.dumps(started)),
        )

    def restart(self, instance_id: str, new_id: bool = True) -> str:
        """Start the instance's orchestrator again with its input (DurableClient.RestartAsync):
        under a new instance id unless `new_id` is False; returns the id started."""
        instance = self.store.instance(instance_id)
        if instance is None:
            raise EngineError(
                400,
                "InstanceId does not match a valid orchestration instance.",
                exception_message=(
                    f"An orchestrastion with the instanceId {instance_id} was not found."
                ),
                exception_type="System.ArgumentException",
            )
        return self.start_new(
            instance.name, None if new_id else instance_id, instance.input, instance.version
        )

    def missing_function(self, name: str, trigger_type: str) -> str:
        """The extension's message for a name that is not a function of this kind
        (DurableTaskExtension.GetInvalidActivityFunctionMessage and its orchestrator twin),
        with devhost's hint when `name` is a Python name registered under another name."""
        kind = "activity" if trigger_type == "activityTrigger" else "orchestrator"
        known = sorted(f.name for f in self.app.of_type(trigger_type))
        message = (
            f"The function '{name}' doesn't exist, is disabled, or is not an {kind} function. "
            "Additional info: "
        )
        if known:
            listed = "', '".join(known)
            message += f"The following are the known {kind} functions: '{listed}'."
        else:
            message += f"No {kind} functions are currently registered!"
        return message + self.app.hint_for(name, trigger_type)

    def raise_event(self, instance_id: str, event_name: str, input_text: str | None) -> None:
        with self.store.transaction() as conn:
            instance = self._require(instance_id, conn)
            if instance.is_terminal:
                raise EngineError(
                    410, f"Instance '{instance_id}' is {instance.status}; it takes no events."
                )
            raised = event(EVENT_RAISED, utcnow(), Name=event_name, Input=input_text)
            conn.execute(
                "INSERT INTO inbox(instance_id, execution_id, event) VALUES (?, NULL, ?)",
                (instance_id, json.dumps(raised)),
            )
        self._notify(self._wake)

    def terminate(self, instance_id: str, reason: str | None) -> None:
        self._control(instance_id, "terminate", reason)

    def suspend(self, instance_id: str, reason: str | None) -> None:
        """Hold the instance: events wait in its inbox until it is resumed."""
        self._control(instance_id, "suspend", reason)

    def resume(self, instance_id: str, reason: str | None) -> None:
        self._control(instance_id, "resume", reason)

    def _control(self, instance_id: str, operation: str, reason: str | None) -> None:
        """Queue a terminate, suspend or resume request; the dispatcher applies it in order."""
        with self.store.transaction() as conn:
            instance = self._require(instance_id, conn)
            if instance.is_terminal:
                raise EngineError(410, f"Instance '{instance_id}' is already {instance.status}.")
            # DurableClient.SuspendAsync/ResumeAsync: only a Running, Pending or ContinuedAsNew
            # instance can be suspended, only a Suspended one resumed. They throw an
            # InvalidOperationException, which HttpApiHandler answers with 500.
            suspended = instance.status == "Suspended"
            if (operation == "suspend" and suspended) or (operation == "resume" and not suspended):
                raise EngineError(
                    500,
                    SOMETHING_WENT_WRONG,
                    exception_message=(
                        f"Cannot {operation} the orchestration instance {instance_id} because "
                        f"instance is in the {instance.status} state."
                    ),
                    exception_type="System.InvalidOperationException",
                )
            conn.execute(
                "INSERT INTO inbox(instance_id, execution_id, event) VALUES (?, NULL, ?)",
                (instance_id, json.dumps({"devhost": operation, "reason": reason or ""})),
            )
        self._notify(self._wake)

    def purge(self, instance_id: str) -> int:
        """Delete one instance whatever its status, as the Azure Storage provider does
        (AzureTableTrackingStore.PurgeInstanceHistoryAsync(instanceId) checks none): a
        running instance is gone, and its pending work with it."""
        with self.store.transaction() as conn:
            self._require(instance_id, conn)
            Store.delete_instance(conn, instance_id)
        self._cache.pop(instance_id, None)
        return 1

    def purge_many(
        self, created_from: str, created_to: str | None, statuses: list[str] | None
    ) -> int:
        """Purge every instance created in the window, whatever its status, unless the
        filter names terminal statuses (DTFx AzureTableTrackingStore.PurgeInstanceHistoryAsync
        keeps only Completed, Terminated, Canceled and Failed from the filter; what is left
        empty filters nothing, so running instances go too)."""
        wanted = [s for s in (statuses or []) if s in TERMINAL]
        candidates = self.store.instances(
            statuses=wanted or None,
            created_from=created_from,
            created_to=created_to,
        )
        deleted = 0
        with self.store.transaction() as conn:
            for instance in candidates:
                Store.delete_instance(conn, instance.instance_id)
                self._cache.pop(instance.instance_id, None)
                deleted += 1
        return deleted

    def _require(self, instance_id: str, conn: Any) -> Instance:
        instance = self.store.instance(instance_id, conn)
        if instance is None:
            raise EngineError(404, f"No instance with ID '{instance_id}' found.")
        return instance

    def status(
        self,
        instance: Instance,
        *,
        show_input: bool = True,
        show_history: bool = False,
        show_history_output: bool = False,
    ) -> dict[str, Any]:
        """The status payload of the Durable HTTP API for one instance."""
        payload: dict[str, Any] = {
            "name": instance.name,
            "instanceId": instance.instance_id,
            "runtimeStatus": instance.status,
            "input": json_or_none(instance.input) if show_input else None,
            "customStatus": json_or_none(instance.custom_status),
            "output": json_or_none(instance.output),
            "createdTime": instance.created_at[:19] + "Z",
            "lastUpdatedTime": instance.updated_at[:19] + "Z",
        }
        if show_history and instance.status != "Pending":
            payload["historyEvents"] = fold_history(
                self.store.history(instance.instance_id), show_input, show_history_output
            )
        return payload

    # The orchestration dispatcher ----------------------------------------------------

    def _dispatch_loop(self) -> None:
        while not self._stop.is_set():
            try:
                waiting = self.store.instances_with_inbox()
            except Exception:
                log.exception("reading the inbox failed")
                waiting = []
            now = time.monotonic()
            ran = False
            soonest: float | None = None
            for instance_id in waiting:
                if self._stop.is_set():
                    return
                allowed = self._next_allowed.get(instance_id, 0.0)
                if allowed > now:
                    soonest = allowed if soonest is None else min(soonest, allowed)
                    continue
                started = time.monotonic()
                try:
                    progressed = self.step(instance_id)
                except Exception:
                    log.exception("step of instance %s failed; it will be retried", instance_id)
                    self._cache.pop(instance_id, None)
                    self._next_allowed[instance_id] = time.monotonic() + 1.0
                    continue
                if not progressed:  # suspended: look again later (a resume wakes it)
                    self._next_allowed[instance_id] = time.monotonic() + 0.5
                    continue
                took = time.monotonic() - started
                self._next_allowed[instance_id] = time.monotonic() + (
                    took * self.replay_delay_factor
                )
                ran = True
                now = time.monotonic()
            if ran:
                continue
            timeout = 0.5 if soonest is None else max(0.001, min(0.5, soonest - time.monotonic()))
            with self._wake:
                self._wake.wait(timeout)

    def _load(self, instance: Instance) -> _Cached:
        cached = self._cache.get(instance.instance_id)
        if (
            cached is not None
            and cached.execution_id == instance.execution_id
            and len(cached.history) == instance.history_len
        ):
            return cached
        cached = _Cached(
            execution_id=instance.execution_id,
            history=self.store.history_texts(instance.instance_id),
            tasks=self.store.tasks(instance.instance_id, instance.execution_id),
            next_task_id=instance.next_task_id,
        )
        self._cache[instance.instance_id] = cached
        return cached

    def step(self, instance_id: str) -> bool:
        """Deliver every waiting event of one instance and replay it once.

        Returns False when nothing could be done (a suspended instance holds its events).
        """
        inbox = self.store.inbox(instance_id)
        if not inbox:
            return False
        instance = self.store.instance(instance_id)
        if instance is None or instance.is_terminal:
            self._discard_inbox(_row_ids(inbox))
            return True
        terminate = next((e for _, _, e in inbox if e.get("devhost") == "terminate"), None)
        if terminate is not None:
            self._terminate(instance, _row_ids(inbox), terminate["reason"])
            return True
        controls = [(row_id, e) for row_id, _, e in inbox if "devhost" in e]
        if controls:
            instance = self._suspend_or_resume(instance, controls)
            inbox = [row for row in inbox if "devhost" not in row[2]]
        if instance.status == "Suspended":
            return bool(controls)
        if inbox:
            self._replay_step(instance, inbox)
        return True

    def _replay_step(self, instance: Instance, inbox: list[InboxRow]) -> None:
        """Replay the orchestrator over its history and these events; carry out what it asks
        for, or fail the instance as the real host would."""
        ids = _row_ids(inbox)
        info = self.app.get(instance.name, "orchestrationTrigger")
        if info is None:
            message = f"The orchestrator function '{instance.name}' is not in this app."
            self._fail(instance, ids, _Plan(), message, "", None)
            return
        step = _Step(instance, self._load(instance), ids, utcnow())
        plan = step.plan
        first_new_task = self._arrange_events(step, inbox)
        started = event(ORCHESTRATOR_STARTED, step.now)
        replay = self._replay(instance, info, step.cached, [started, *plan.new_events])
        custom_text = replay.custom_status()
        if replay.error is not None:
            message = f"Orchestrator function '{instance.name}' failed: {replay.error}"
            self._fail(instance, ids, plan, message, replay.details, custom_text, started)
            return
        taken = self._take_actions(step, replay.state, first_new_task)
        if taken.refused is not None:
            log.error("instance %s: %s", instance.instance_id, taken.refused)
            self._fail(instance, ids, plan, taken.refused, "", custom_text, started)
            return
        if taken.problem is not None:
            message = f"Non-deterministic orchestrator '{instance.name}': {taken.problem}."
            self._fail(instance, ids, plan, message, "", custom_text, started)
            return
        self._commit(step, started, replay, taken)

    # Events in, in the order the SDK numbers their tasks ---------------------------------

    def _arrange_events(self, step: _Step, inbox: list[InboxRow]) -> int:
        """Put the step's events in `plan.new_events`; the first task number left for the
        orchestrator's new actions.

        ExecutionStarted opens an execution's history (the SDK reads it at index 1). Events
        that make the SDK add a hidden task come next, each taking the next number; then
        the rest in the order they came. A result for an execution that ended
        (continue-as-new, restart) is dropped.
        """
        next_task = step.cached.next_task_id
        hidden_first: list[dict[str, Any]] = []
        rest: list[dict[str, Any]] = []
        for _, execution_id, ev in inbox:
            if execution_id is not None and execution_id != step.instance.execution_id:
                continue
            if self._add_hidden_task(step, ev, next_task):
                next_task += 1
                hidden_first.append(ev)
            else:
                rest.append(ev)
        starts = [e for e in rest if e["EventType"] == EXECUTION_STARTED]
        rest = [e for e in rest if e["EventType"] != EXECUTION_STARTED]
        step.plan.new_events = starts + hidden_first + rest
        return next_task

    def _add_hidden_task(self, step: _Step, ev: dict[str, Any], task_id: int) -> bool:
        """Plan, as `task_id`, the task the SDK adds unseen when it replays `ev`, if it adds
        one: a retry timer after a failed call with retry; the next attempt when that timer
        fires and attempts are left."""
        cached, now, plan = step.cached, step.now, step.plan
        kind = ev["EventType"]
        if kind in (TASK_FAILED, SUB_FAILED):
            task = cached.tasks.get(ev["TaskScheduledId"])
            if task is None or task.retry is None:
                return False
            fire_at = now + retry_delay(task.retry, task.attempt)
            plan.tasks.append(
                TaskRow(
                    task_id,
                    "retry-timer",
                    task.name,
                    True,
                    task.retry,
                    task.attempt,
                    task.kind,
                    task.input,
                )
            )
            plan.timers.append((task_id, fire_at))
            plan.scheduled.append(event(TIMER_CREATED, now, task_id, FireAt=iso(fire_at)))
            return True
        if kind == TIMER_FIRED:
            task = cached.tasks.get(ev["TimerId"])
            if (
                task is None
                or task.kind != "retry-timer"
                or task.attempt >= max_attempts(task.retry)
            ):
                return False
            again = TaskRow(
                task_id,
                task.target or "activity",
                task.name,
                True,
                task.retry,
                task.attempt + 1,
                None,
                task.input,
            )
            plan.tasks.append(again)
            self._schedule(step.instance, again, now, plan)
            return True
        return False

    # One call of the orchestrator function -----------------------------------------------

    def _replay(
        self,
        instance: Instance,
        info: FunctionInfo,
        cached: _Cached,
        call_events: list[dict[str, Any]],
    ) -> _Replay:
        """Call the orchestrator function once with the context JSON the extension sends."""
        context = context_json(instance, cached.history, call_events)
        cpu_before = time.thread_time()
        violations: list[str] = []
        try:
            if self.guard:
                with guard.guarding(instance.name) as violations:
                    result = info.func(func.OrchestrationContext(context))
            else:
                result = info.func(func.OrchestrationContext(context))
            replay = _Replay(state=json.loads(result))
        except Exception as exc:
            replay = _Replay.failed(exc)
        if violations:
            # A guarded call is not replay-safe even when the orchestrator caught its error.
            replay.error = f"{guard.NonDeterministicCall.__name__}: {violations[0]}"
        self.stats.replays += 1
        self.stats.events_replayed += len(cached.history) + len(call_events)
        self.stats.replay_cpu_seconds += time.thread_time() - cpu_before
        return replay

    # Actions out: the recorded ones matched, the new ones planned ------------------------

    def _take_actions(self, step: _Step, state: dict[str, Any], first_new_task: int) -> _Actions:
        """Match the actions against the tasks the history holds, in order (a difference is
        non-determinism), and plan the actions beyond them."""
        actions = flatten_actions(state.get("actions") or [])
        consuming = [a for a in actions if a.get("actionType") != WAIT_FOR_EVENT]
        tasks = step.cached.tasks.values()
        recorded = [t for t in sorted(tasks, key=lambda t: t.task_id) if not t.hidden]
        taken = _Actions(next_task_id=first_new_task)
        for task, action in zip(recorded, consuming, strict=False):
            taken.problem = self._match_recorded(task, action, taken, step.plan)
            if taken.problem is not None:
                return taken
        for action in consuming[len(recorded) :]:
            self._plan_new(step, action, taken)
            if taken.refused is not None or taken.problem is not None:
                return taken
        if len(consuming) < len(recorded):
            missing = recorded[len(consuming)]
            taken.problem = (
                f"step {missing.task_id}: history has "
                f"{describe(missing.kind, missing.name, missing.retry is not None)} but the "
                "orchestrator no longer schedules it"
            )
        return taken

    def _match_recorded(
        self, task: TaskRow, action: dict[str, Any], taken: _Actions, plan: _Plan
    ) -> str | None:
        """Where an action differs from the task it replays, if it does."""
        kind, name, with_retry = action_kind(action)
        recorded_retry = task.retry is not None
        if (task.kind, task.name, recorded_retry) != (kind, name, with_retry):
            return (
                f"step {task.task_id}: history has "
                f"{describe(task.kind, task.name, recorded_retry)} but the "
                f"orchestrator now schedules {describe(kind, name, with_retry)}"
            )
        if kind == "timer" and action.get("isCanceled"):
            plan.cancelled_timers.append(task.task_id)
        if kind == "continue-as-new":
            taken.continue_with(action)
        return None

    def _plan_new(self, step: _Step, action: dict[str, Any], taken: _Actions) -> None:
        """Plan an action the history does not hold yet under the next task number, or say
        in `taken` why it cannot run."""
        instance, now, plan = step.instance, step.now, step.plan
        kind, name, with_retry = action_kind(action)
        action_type = action.get("actionType")
        if action_type in UNSUPPORTED_ACTIONS:
            taken.refused = (
                f"Orchestrator function '{instance.name}' failed: devhost does not support "
                f"{UNSUPPORTED_ACTIONS[action_type]}."
            )
            return
        if kind in ("activity", "suborchestration"):
            taken.refused = self._unschedulable(instance, kind, name, action.get("instanceId"))
            if taken.refused is not None:
                return
        task_id = taken.next_task_id
        taken.next_task_id += 1
        if kind == "continue-as-new":
            plan.tasks.append(TaskRow(task_id, kind))
            taken.continue_with(action)
        elif kind == "timer":
            fire_at = parse_iso(str(action["fireAt"]))
            plan.tasks.append(TaskRow(task_id, "timer"))
            plan.scheduled.append(event(TIMER_CREATED, now, task_id, FireAt=iso(fire_at)))
            if not action.get("isCanceled"):
                plan.timers.append((task_id, fire_at))
        elif kind in ("activity", "suborchestration"):
            retry = action.get("retryOptions")
            row = TaskRow(
                task_id,
                kind,
                name,
                False,
                json.dumps(retry) if with_retry else None,
                1,
                None,
                action.get("input"),
            )
            plan.tasks.append(row)
            self._schedule(instance, row, now, plan, action.get("instanceId"))
        else:
            taken.problem = f"step {task_id}: devhost does not understand the action {action!r}"

    def _unschedulable(
        self, instance: Instance, kind: str, name: str, child_id: str | None
    ) -> str | None:
        """Why the real host would never schedule this call, if it would not.

        DurableOrchestrationContext.CallDurableTaskFunctionAsync refuses a function name
        that is not registered (DurableTaskExtension.ThrowIfFunctionDoesNotExist) and a
        sub-orchestration whose instance id is the caller's or its parent's, or starts
        with '@'; OutOfProcOrchestrationShim.ProcessAsyncActionsV2 swallows that
        exception, so the task stays open and the instance Running forever, silently.
        devhost fails the instance instead, without an event the orchestrator could catch.
        """
        trigger = "activityTrigger" if kind == "activity" else "orchestrationTrigger"
        stuck = "in Azure the call is never scheduled and the instance stays Running forever"
        if self.app.get(name, trigger) is None:
            what = "activity" if kind == "activity" else "sub-orchestrator"
            return (
                f"Orchestrator '{instance.name}' calls the {what} '{name}', which is not "
                f"registered; {stuck}, so devhost fails it. {self.missing_function(name, trigger)}"
            )
        if kind != "suborchestration" or not child_id:
            return None
        own = {instance.instance_id.lower(), (instance.parent_instance_id or "").lower()}
        reason: str | None = None
        if child_id.lower() in own:
            reason = (
                "The instance ID of a sub-orchestration must be different than the instance ID "
                "of a parent orchestration."
            )
        elif child_id.startswith("@"):
            reason = "Orchestration instance ids must not start with @"
        if reason is None:
            return None
        return (
            f"Orchestrator '{instance.name}' starts the sub-orchestrator '{name}' with instance "
            f"ID '{child_id}', which the extension refuses ({reason}); {stuck}, so devhost "
            "fails it."
        )

    def _suspend_or_resume(
        self, instance: Instance, controls: list[tuple[int, dict[str, Any]]]
    ) -> Instance:
        """Apply suspend and resume requests in order; record them in the history."""
        status = instance.status
        events: list[dict[str, Any]] = []
        now = utcnow()
        for _, control in controls:
            if control["devhost"] == "suspend" and status != "Suspended":
                status = "Suspended"
                events.append(event(EXECUTION_SUSPENDED, now, Reason=control.get("reason")))
            elif control["devhost"] == "resume" and status == "Suspended":
                status = "Running"
                events.append(event(EXECUTION_RESUMED, now, Reason=control.get("reason")))
        with self.store.transaction() as conn:
            self._delete_inbox(conn, [row_id for row_id, _ in controls])
            self._append_history(conn, instance, instance.history_len, events)
            conn.execute(
                "UPDATE instances SET status = ?, updated_at = ?, history_len = history_len + ? "
                "WHERE instance_id = ?",
                (status, iso(now), len(events), instance.instance_id),
            )
        self._cache.pop(instance.instance_id, None)
        log.info("instance %s is %s", instance.instance_id, status)
        updated = self.store.instance(instance.instance_id)
        assert updated is not None
        return updated

    def _schedule(
        self,
        instance: Instance,
        task: TaskRow,
        now: datetime,
        plan: _Plan,
        child_id: str | None = None,
    ) -> None:
        if task.kind == "activity":
            plan.activities.append((task.task_id, task.name, task.input))
            plan.scheduled.append(
                event(TASK_SCHEDULED, now, task.task_id, Name=task.name, Input=task.input)
            )
            return
        child = child_id or f"{instance.instance_id}:{task.task_id}"
        child_input = json.dumps(task.input) if task.input is not None else None
        plan.children.append((task.task_id, child, task.name, child_input))
        plan.scheduled.append(
            event(
                SUB_CREATED,
                now,
                task.task_id,
                Name=task.name,
                InstanceId=child,
                Input=task.input,
            )
        )

    # Committing a step --------------------------------------------------------------------

    def _append_history(
        self, conn: Any, instance: Instance, start: int, events: list[dict[str, Any]]
    ) -> list[str]:
        texts = [json.dumps({**e, "IsPlayed": True}) for e in events]
        conn.executemany(
            "INSERT INTO history(instance_id, seq, execution_id, event) VALUES (?, ?, ?, ?)",
            [
                (instance.instance_id, start + offset, instance.execution_id, text)
                for offset, text in enumerate(texts)
            ],
        )
        return texts

    def _commit(
        self, step: _Step, started: dict[str, Any], replay: _Replay, taken: _Actions
    ) -> None:
        """Write the step in one transaction: the history, the work it starts, and the
        instance completed, continued as new or still running."""
        instance, cached, plan, now = step.instance, step.cached, step.plan, step.now
        completed = bool(replay.state.get("isDone")) and not taken.continue_as_new
        output_text = json.dumps(replay.state.get("output")) if completed else None
        custom_text = replay.custom_status()
        events = [started, *plan.new_events, *plan.scheduled, event(ORCHESTRATOR_COMPLETED, now)]
        if completed:
            events.append(
                event(EXECUTION_COMPLETED, now, OrchestrationStatus="Completed", Result=output_text)
            )
        if taken.continue_as_new:
            events.append(event(CONTINUE_AS_NEW, now, Input=taken.continue_input))
        with self.store.transaction() as conn:
            current = self.store.instance(instance.instance_id, conn)
            if current is None or current.execution_id != instance.execution_id:
                return  # purged or restarted while replaying: drop this step
            self._delete_inbox(conn, step.inbox_ids)
            texts = self._append_history(conn, instance, len(cached.history), events)
            self._write_plan(conn, instance, plan)
            if completed:
                self._finish(conn, instance, "Completed", output_text, custom_text, now)
                self._notify_parent(
                    conn, instance, event(SUB_COMPLETED, now, Result=output_text), now
                )
            elif taken.continue_as_new:
                self._continue_as_new(conn, instance, taken.continue_input, custom_text, now)
            else:
                conn.execute(
                    "UPDATE instances SET status = 'Running', custom_status = ?, "
                    "updated_at = ?, history_len = history_len + ?, next_task_id = ?, "
                    "replays = replays + 1 WHERE instance_id = ?",
                    (custom_text, iso(now), len(texts), taken.next_task_id, instance.instance_id),
                )
        if completed:
            log.info("instance %s (%s) completed", instance.instance_id, instance.name)
        if completed or taken.continue_as_new:
            self._cache.pop(instance.instance_id, None)
        else:
            cached.history.extend(texts)
            for row in plan.tasks:
                cached.tasks[row.task_id] = row
            cached.next_task_id = taken.next_task_id
        self._after_write(plan)

    def _after_write(self, plan: _Plan) -> None:
        if plan.activities:
            self._notify(self._activity_wake)
        if plan.timers:
            self._notify(self._timer_wake)
        self._notify(self._wake)

    def _write_plan(self, conn: Any, instance: Instance, plan: _Plan) -> None:
        key = (instance.instance_id, instance.execution_id)
        conn.executemany(
            "INSERT INTO tasks(instance_id, execution_id, task_id, kind, name, hidden, retry, "
            "attempt, target, input) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    *key,
                    t.task_id,
                    t.kind,
                    t.name,
                    int(t.hidden),
                    t.retry,
                    t.attempt,
                    t.target,
                    t.input,
                )
                for t in plan.tasks
            ],
        )
        conn.executemany(
            "INSERT INTO work(kind, instance_id, execution_id, task_id, name, input) "
            "VALUES ('activity', ?, ?, ?, ?, ?)",
            [(*key, task_id, name, text) for task_id, name, text in plan.activities],
        )
        conn.executemany(
            "INSERT INTO work(kind, instance_id, execution_id, task_id, fire_at) "
            "VALUES ('timer', ?, ?, ?, ?)",
            [(*key, task_id, fire_at.timestamp()) for task_id, fire_at in plan.timers],
        )
        for task_id in plan.cancelled_timers:
            conn.execute(
                "DELETE FROM work WHERE kind = 'timer' AND instance_id = ? AND execution_id = ? "
                "AND task_id = ?",
                (*key, task_id),
            )
        for task_id, child_id, name, child_input in plan.children:
            self._start_child(conn, instance, task_id, child_id, name, child_input)

    def _start_child(
        self,
        conn: Any,
        instance: Instance,
        task_id: int,
        child_id: str,
        name: str,
        child_input: str | None,
    ) -> None:
        now = utcnow()
        info = self.app.get(name, "orchestrationTrigger")
        reason: str | None = None
        if info is None:
            reason = (
                f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator "
                "function." + self.app.hint_for(name, "orchestrationTrigger")
            )
        else:
            existing = self.store.instance(child_id, conn)
            if existing is not None and not existing.is_terminal:
                reason = f"An orchestration with instance ID '{child_id}' is already running."
            elif existing is not None:
                Store.delete_instance(conn, child_id)
        if reason is not None:
            failed = event(SUB_FAILED, now, TaskScheduledId=task_id, Reason=reason, Details="")
            conn.execute(
                "INSERT INTO inbox(instance_id, execution_id, event) VALUES (?, ?, ?)",
                (instance.instance_id, instance.execution_id, json.dumps(failed)),
            )
            return
        assert info is not None
        self._create_instance(
            conn,
            child_id,
            info.name,
            child_input,
            "",
            parent=(instance.instance_id, instance.execution_id, task_id),
        )

    def _notify_parent(
        self, conn: Any, instance: Instance, outcome: dict[str, Any], now: datetime
    ) -> None:
        if instance.parent_instance_id is None or instance.parent_task_id is None:
            return
        outcome["TaskScheduledId"] = instance.parent_task_id
        conn.execute(
            "INSERT INTO inbox(instance_id, execution_id, event) VALUES (?, ?, ?)",
            (instance.parent_instance_id, instance.parent_execution_id, json.dumps(outcome)),
        )

    def _finish(
        self,
        conn: Any,
        instance: Instance,
        status: str,
        output_text: str | None,
        custom_text: str | None,
        now: datetime,
    ) -> None:
        conn.execute(
            "UPDATE instances SET status = ?, output = ?, custom_status = ?, updated_at = ?, "
            "history_len = (SELECT COUNT(*) FROM history WHERE instance_id = ?), "
            "replays = replays + 1 WHERE instance_id = ?",
            (
                status,
                output_text,
                custom_text,
                iso(now),
                instance.instance_id,
                instance.instance_id,
            ),
        )
        conn.execute(
            "DELETE FROM work WHERE instance_id = ? AND state = 'ready'", (instance.instance_id,)
        )

    def _continue_as_new(
        self,
        conn: Any,
        instance: Instance,
        continue_input: str | None,
        custom_text: str | None,
        now: datetime,
    ) -> None:
        """Start a new execution of the same instance with a fresh history."""
        execution_id = uuid.uuid4().hex
        input_text = json.dumps(continue_input) if continue_input is not None else None
        for table in ("history", "tasks", "work"):
            conn.execute(f"DELETE FROM {table} WHERE instance_id = ?", (instance.instance_id,))
        conn.execute(
            "UPDATE instances SET status = 'Running', execution_id = ?, input = ?, output = NULL, "
            "custom_status = ?, updated_at = ?, history_len = 0, next_task_id = 0, "
            "replays = replays + 1, generation = generation + 1 WHERE instance_id = ?",
            (execution_id, input_text, custom_text, iso(now), instance.instance_id),
        )
        started = event(
            EXECUTION_STARTED,
            now,
            Name=instance.name,
            Version=instance.version,
            Input=input_text,
            OrchestrationInstance={
                "InstanceId": instance.instance_id,
                "ExecutionId": execution_id,
            },
        )
        conn.execute(
            "INSERT INTO inbox(instance_id, execution_id, event) VALUES (?, ?, ?)",
            (instance.instance_id, execution_id, json.dumps(started)),
        )

    def _fail(
        self,
        instance: Instance,
        inbox_ids: list[int],
        plan: _Plan,
        message: str,
        details: str,
        custom_text: str | None,
        started: dict[str, Any] | None = None,
    ) -> None:
        now = utcnow()
        log.warning("instance %s failed: %s", instance.instance_id, message)
        events = [*([started] if started else []), *plan.new_events]
        events.append(
            event(
                EXECUTION_COMPLETED,
                now,
                OrchestrationStatus="Failed",
                Result=json.dumps(message),
                FailureDetails={"ErrorMessage": message, "StackTrace": details},
            )
        )
        with self.store.transaction() as conn:
            current = self.store.instance(instance.instance_id, conn)
            if current is None or current.execution_id != instance.execution_id:
                return
            self._delete_inbox(conn, inbox_ids)
            self._append_history(conn, instance, instance.history_len, events)
            self._finish(conn, instance, "Failed", json.dumps(message), custom_text, now)
            self._notify_parent(
                conn,
                instance,
                event(SUB_FAILED, now, Reason=message, Details=details),
                now,
            )
        self._cache.pop(instance.instance_id, None)
        self._notify(self._wake)

    def _terminate(self, instance: Instance, inbox_ids: list[int], reason: str) -> None:
        log.info("instance %s (%s) terminated: %s", instance.instance_id, instance.name, reason)
        now = utcnow()
        with self.store.transaction() as conn:
            self._delete_inbox(conn, inbox_ids)
            self._append_history(
                conn,
                instance,
                instance.history_len,
                [event(EXECUTION_TERMINATED, now, Input=reason)],
            )
            self._finish(
                conn, instance, "Terminated", json.dumps(reason), instance.custom_status, now
            )
        self._cache.pop(instance.instance_id, None)

    def _delete_inbox(self, conn: Any, ids: list[int]) -> None:
        conn.executemany("DELETE FROM inbox WHERE id = ?", [(i,) for i in ids])

    def _discard_inbox(self, ids: list[int]) -> None:
        with self.store.transaction() as conn:
            self._delete_inbox(conn, ids)

    # Activities ---------------------------------------------------------------------------

    def _activity_loop(self) -> None:
        size = self.options.max_concurrent_activities
        while not self._stop.is_set():
            free = size - self._running_activities
            claimed: list[Any] = []
            if free > 0:
                try:
                    claimed = self.store.claim_activities(free)
                except Exception:
                    log.exception("claiming activities failed")
                    claimed = []
            for row in claimed:
                with self._activity_wake:
                    self._running_activities += 1
                self._pool.submit(self._run_activity, dict(row))
            with self._activity_wake:
                if claimed and self._running_activities < size:
                    continue
                self._activity_wake.wait(0.5)

    def _run_activity(self, item: dict[str, Any]) -> None:
        try:
            outcome = self._execute_activity(item)
            if self._stop.is_set():
                return
            with self.store.transaction() as conn:
                self.store.deliver(conn, item, json.dumps(outcome))
            self.stats.activities_run += 1
        except Exception:
            log.exception("recording the result of activity %s failed", item.get("name"))
        finally:
            with self._activity_wake:
                self._running_activities -= 1
                self._activity_wake.notify_all()
            self._notify(self._wake)

    def _execute_activity(self, item: dict[str, Any]) -> dict[str, Any]:
        name = str(item["name"])
        task_id = int(item["task_id"])
        info = self.app.get(name, "activityTrigger")
        if info is None:
            return event(
                TASK_FAILED,
                utcnow(),
                TaskScheduledId=task_id,
                Reason=(
                    f"The function '{name}' doesn't exist, is disabled, or is not an activity "
                    "function." + self.app.hint_for(name, "activityTrigger")
                ),
                Details="",
            )
        try:
            value = df_codec.df_loads(item["input"]) if item["input"] is not None else None
        except Exception:
            value = item["input"]
        try:
            result = self.invoke(info, {str(info.trigger["name"]): value})
            return event(
                TASK_COMPLETED, utcnow(), TaskScheduledId=task_id, Result=df_codec.df_dumps(result)
            )
        except Exception as exc:
            log.warning(
                "activity %s (task %d) failed: %s: %s", info.name, task_id, type(exc).__name__, exc
            )
            return event(
                TASK_FAILED,
                utcnow(),
                TaskScheduledId=task_id,
                Reason=f"Activity function '{info.name}' failed: {type(exc).__name__}: {exc}",
                Details="".join(traceback.format_exception(exc)),
            )

    # Durable timers -----------------------------------------------------------------------

    def _timer_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._fire_due_timers()
                upcoming = self.store.next_timer()
            except Exception:
                log.exception("firing durable timers failed")
                upcoming = None
            timeout = 0.5
            if upcoming is not None:
                timeout = max(0.0, min(0.5, upcoming - time.time()))
            if timeout > 0:
                with self._timer_wake:
                    self._timer_wake.wait(timeout)

    def _fire_due_timers(self) -> None:
        now = time.time()
        with self.store.transaction() as conn:
            due = self.store.due_timers(conn, now)
            for row in due:
                fire_at = datetime.fromtimestamp(row["fire_at"], UTC)
                fired = event(TIMER_FIRED, utcnow(), TimerId=row["task_id"], FireAt=iso(fire_at))
                self.store.deliver(conn, row, json.dumps(fired))
        if due:
            self._notify(self._wake)

    # Waiting (tests, CLI) -----------------------------------------------------------------

    def wait_for(
        self, instance_id: str, timeout: float = 60.0, statuses: tuple[str, ...] | None = None
    ) -> Instance:
        """Block until the instance reaches one of `statuses` (default: any terminal one)."""
        wanted = statuses or ("Completed", "Failed", "Terminated", "Canceled")
        deadline = time.monotonic() + timeout
        while True:
            instance = self.store.instance(instance_id)
            if instance is not None and instance.status in wanted:
                return instance
            if time.monotonic() > deadline:
                state = instance.status if instance else "missing"
                raise TimeoutError(
                    f"Instance '{instance_id}' is {state} after {timeout:.0f} s; "
                    f"expected {', '.join(wanted)}."
                )
            time.sleep(0.02)


def summarize_event(ev: dict[str, Any], with_output: bool) -> dict[str, Any]:
    """A history event as the status API shows it (EventType as a name)."""
    out: dict[str, Any] = {
        "EventType": EVENT_NAMES.get(ev["EventType"], str(ev["EventType"])),
        "Timestamp": ev.get("Timestamp"),
    }
    for key in ("EventId", "Name", "InstanceId", "TaskScheduledId", "TimerId", "FireAt"):
        if ev.get(key) not in (None, -1):
            out[key] = ev[key]
    for key in ("Reason", "Details", "OrchestrationStatus"):
        if ev.get(key):
            out[key] = ev[key]
    if with_output:
        for key in ("Input", "Result"):
            if ev.get(key) is not None:
                out[key] = ev[key]
    return out


def _json_token(text: Any) -> Any:
    """DurableClient.ParseToJToken: JSON when it parses, else the text itself."""
    if not isinstance(text, str):
        return text
    stripped = text.strip()
    if not stripped:
        return ""
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        return stripped


def fold_history(
    events: list[dict[str, Any]], show_input: bool, show_history_output: bool
) -> list[dict[str, Any]]:
    """The history as the status API returns it with `showHistory=true`.

    The rules of DurableClient.GetDurableOrchestrationStatusAsync: event types by name;
    a completion or failure takes its scheduling event's `FunctionName`, `ScheduledTime`
    (and `Input`) and the scheduling event itself goes; OrchestratorStarted and
    OrchestratorCompleted go; `EventId`, `IsPlayed`, `Version`, `TimerId` and
    `TaskScheduledId` go; results only with `showHistoryOutput`, inputs only with
    `showInput`; ExecutionStarted names the orchestrator in `FunctionName`.
    """
    folder = _HistoryFolder(show_input, show_history_output)
    for raw in events:
        folder.add(raw)
    return [item for item in folder.folded if item is not None]


# What completes what: a completion or failure names its opener's EventId.
_OPENERS = {
    TASK_COMPLETED: "TaskScheduled",
    TASK_FAILED: "TaskScheduled",
    SUB_COMPLETED: "SubOrchestrationInstanceCreated",
    SUB_FAILED: "SubOrchestrationInstanceCreated",
}


@dataclass
class _HistoryFolder:
    show_input: bool
    show_history_output: bool
    # None where a scheduling event was folded into its completion.
    folded: list[dict[str, Any] | None] = field(default_factory=list)
    # (opener's type, EventId) -> (index in `folded`, name, timestamp, input), as the
    # extension's eventMapper keeps them.
    opened: dict[tuple[str, Any], tuple[int, Any, Any, Any]] = field(default_factory=dict)

    def add(self, raw: dict[str, Any]) -> None:
        item = dict(raw)
        kind = int(item["EventType"])
        name = EVENT_NAMES.get(kind, str(kind))
        item["EventType"] = name
        if kind in (ORCHESTRATOR_STARTED, ORCHESTRATOR_COMPLETED):
            return
        if kind in (TASK_SCHEDULED, SUB_CREATED):
            self.opened[(name, raw.get("EventId"))] = (
                len(self.folded),
                raw.get("Name"),
                raw.get("Timestamp"),
                raw.get("Input"),
            )
            item.pop("Version", None)
        elif kind in _OPENERS:
            self._complete(item, kind)
        elif kind == EXECUTION_STARTED:
            item["FunctionName"] = item.pop("Name", None)
            for key in ("OrchestrationInstance", "ParentInstance", "Version", "Tags"):
                item.pop(key, None)
        elif kind == EXECUTION_COMPLETED:
            self._result_if_shown(item)
        elif kind == TIMER_FIRED:
            item.pop("TimerId", None)
        if not self.show_input:
            item.pop("Input", None)
        item.pop("EventId", None)
        item.pop("IsPlayed", None)
        self.folded.append(item)

    def _complete(self, item: dict[str, Any], kind: int) -> None:
        """A completion or failure takes over its scheduling event, which goes."""
        found = self.opened.get((_OPENERS[kind], item.pop("TaskScheduledId", None)))
        if found is not None:
            index, function_name, scheduled_time, scheduled_input = found
            item["ScheduledTime"] = scheduled_time
            item["FunctionName"] = function_name
            if self.show_input:
                item["Input"] = scheduled_input
            self.folded[index] = None
        if kind in (TASK_COMPLETED, SUB_COMPLETED):
            self._result_if_shown(item)

    def _result_if_shown(self, item: dict[str, Any]) -> None:
        """The result as a JSON value with `showHistoryOutput`; otherwise none."""
        if self.show_history_output:
            item["Result"] = _json_token(item.get("Result"))
        else:
            item.pop("Result", None)
