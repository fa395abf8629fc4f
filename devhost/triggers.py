"""Timer triggers (NCRONTAB) and queue triggers (polling Azure Storage queues, e.g. Azurite)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.functions as func
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.functions.queue import QueueMessage as FunctionsQueueMessage
from azure.functions.timer import TimerRequest
from azure.storage.queue import QueueClient, QueueMessage
from croniter import croniter

from devhost.engine import iso, parse_iso
from devhost.invoke import CallFunction
from devhost.loader import FunctionInfo
from devhost.settings import AppSettings, SettingsError
from devhost.store import Store

log = logging.getLogger("devhost.triggers")


class Schedule:
    """An NCRONTAB expression (six fields, seconds first) or a TimeSpan interval."""

    def __init__(self, function: str, expression: str) -> None:
        self.expression = expression.strip()
        self.interval: timedelta | None = None
        span = re.fullmatch(r"(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})", self.expression)
        if span:
            days, hours, minutes, seconds = (int(x or 0) for x in span.groups())
            self.interval = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
            if self.interval <= timedelta(0):
                raise SettingsError(f"Timer function '{function}': the interval must be positive.")
            return
        fields = self.expression.split()
        if len(fields) not in (5, 6):
            raise SettingsError(
                f"Timer function '{function}': schedule '{expression}' is not an NCRONTAB "
                "expression ({second} {minute} {hour} {day} {month} {day-of-week})."
            )
        self.with_seconds = len(fields) == 6
        try:
            croniter(self.expression, datetime.now(UTC), second_at_beginning=self.with_seconds)
        except (ValueError, KeyError) as exc:
            raise SettingsError(
                f"Timer function '{function}': schedule '{expression}' is invalid: {exc}."
            ) from exc

    def next_after(self, moment: datetime) -> datetime:
        if self.interval is not None:
            return moment + self.interval
        it = croniter(self.expression, moment, second_at_beginning=self.with_seconds)
        nxt = it.get_next(datetime)
        assert isinstance(nxt, datetime)
        return nxt if nxt.tzinfo else nxt.replace(tzinfo=UTC)


@dataclass
class TimerFunction:
    info: FunctionInfo
    schedule: Schedule
    next_fire: datetime
    last_fire: datetime | None
    past_due: bool = False


class TimerTriggers:
    """Fires timer-triggered functions on their schedule; one invocation at a time each.

    A function whose schedule does not parse is not run; `refused` says why, by name.
    """

    def __init__(
        self, functions: list[FunctionInfo], settings: AppSettings, store: Store, call: CallFunction
    ) -> None:
        self.store = store
        self.call = call
        self.timers: dict[str, TimerFunction] = {}
        self.refused: dict[str, str] = {}
        now = datetime.now(UTC)
        for info in functions:
            try:
                expression = settings.resolve(str(info.trigger["schedule"]))
                schedule = Schedule(info.name, expression)
            except SettingsError as exc:
                log.error("%s", exc)
                self.refused[info.name] = str(exc)
                continue
            stored = store.timer_trigger_last(info.name)
            last = parse_iso(stored) if stored else None
            next_fire = schedule.next_after(last or now)
            past_due = (
                last is not None and next_fire <= now and info.trigger.get("useMonitor", True)
            )
            if not past_due and next_fire <= now:
                next_fire = schedule.next_after(now)
            if info.trigger.get("runOnStartup"):
                next_fire = now
            self.timers[info.name] = TimerFunction(info, schedule, next_fire, last, past_due)
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._locks = {name: threading.Lock() for name in self.timers}
        self._thread = threading.Thread(target=self._loop, name="devhost-timers", daemon=True)

    def start(self) -> None:
        if self.timers:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def fire_now(self, name: str) -> bool:
        timer = self.timers.get(name)
        if timer is None:
            return False
        threading.Thread(
            target=self._fire, args=(timer, False), name=f"timer-{name}", daemon=True
        ).start()
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = datetime.now(UTC)
            for timer in self.timers.values():
                if timer.next_fire <= now:
                    past_due = timer.past_due
                    timer.past_due = False
                    timer.next_fire = timer.schedule.next_after(max(now, timer.next_fire))
                    threading.Thread(target=self._fire, args=(timer, past_due), daemon=True).start()
            soonest = min(t.next_fire for t in self.timers.values())
            wait = max(0.01, min(1.0, (soonest - datetime.now(UTC)).total_seconds()))
            with self._wake:
                self._wake.wait(wait)

    def _fire(self, timer: TimerFunction, past_due: bool) -> None:
        with self._locks[timer.info.name]:
            now = datetime.now(UTC)
            request = TimerRequest(
                past_due=past_due,
                schedule_status={
                    "Last": iso(timer.last_fire) if timer.last_fire else None,
                    "Next": iso(timer.next_fire),
                    "LastUpdated": iso(now),
                },
                schedule={"AdjustForDST": True},
            )
            try:
                self.call(timer.info, {str(timer.info.trigger["name"]): request})
            except Exception:
                log.exception("timer function %s failed", timer.info.name)
            finally:
                timer.last_fire = now
                self.store.set_timer_trigger_last(timer.info.name, iso(now))


def queue_client(
    settings: AppSettings, connection_setting: str | None, queue_name: str
) -> QueueClient:
    """A QueueClient for a binding's connection (a connection string setting)."""
    connection = settings.storage_connection(connection_setting)
    kwargs: dict[str, Any] = {}
    ca_bundle = (
        settings.get("DEVHOST_CA_BUNDLE")
        or settings.get("REQUESTS_CA_BUNDLE")
        or settings.get("SSL_CERT_FILE")
    )
    if ca_bundle:
        kwargs["connection_verify"] = ca_bundle
    return QueueClient.from_connection_string(connection, queue_name, **kwargs)


def encode_message(settings: AppSettings, body: bytes) -> str:
    if settings.host.queue_message_encoding == "base64":
        return base64.b64encode(body).decode("ascii")
    return body.decode("utf-8")


def send_messages(settings: AppSettings, binding: dict[str, Any], value: Any) -> None:
    """Write a queue output binding's value: a message or a list of messages."""
    if value is None:
        return
    items = value if isinstance(value, list) else [value]
    client = queue_client(
        settings, binding.get("connection"), settings.resolve(binding["queueName"])
    )
    with contextlib.suppress(ResourceExistsError):
        client.create_queue()
    for item in items:
        if isinstance(item, func.QueueMessage):
            body = item.get_body()
        elif isinstance(item, bytes):
            body = item
        else:
            body = str(item).encode("utf-8")
        client.send_message(encode_message(settings, body))


class QueuePoller:
    """Polls one queue for one function, as the Functions queue listener does.

    A message is received invisible for 10 minutes; on success it is deleted; on failure it
    becomes visible again after host.json `visibilityTimeout`, and once its dequeue count
    reaches `maxDequeueCount` it is moved to `<queue>-poison`.
    """

    def __init__(self, info: FunctionInfo, settings: AppSettings, call: CallFunction) -> None:
        self.info = info
        self.call = call
        self.queue_name = settings.resolve(str(info.trigger["queueName"]))
        connection = info.trigger.get("connection")
        self.client = queue_client(settings, connection, self.queue_name)
        self.poison = queue_client(settings, connection, self.queue_name + "-poison")
        options = settings.host
        self.base64 = options.queue_message_encoding == "base64"
        self.max_dequeue = options.max_dequeue_count
        self.visibility = int(options.queue_visibility_timeout.total_seconds())
        self.batch = options.queue_batch_size
        self.max_interval = max(0.1, options.queue_max_polling_interval.total_seconds())
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"devhost-queue-{self.queue_name}", daemon=True
        )
        self.processed = 0
        self.poisoned = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        interval = 0.1
        while not self._stop.is_set():
            try:
                messages = list(
                    self.client.receive_messages(
                        messages_per_page=self.batch,
                        visibility_timeout=600,
                        max_messages=self.batch,
                    )
                )
            except ResourceNotFoundError:
                messages = []
            except Exception as exc:
                log.warning("polling queue %s failed: %s", self.queue_name, exc)
                messages = []
            for message in messages:
                if self._stop.is_set():
                    return
                self._process(message)
            if messages:
                interval = 0.1
                continue
            self._stop.wait(interval)
            interval = min(self.max_interval, interval * 2)

    def _process(self, message: QueueMessage) -> None:
        if message.dequeue_count is not None and message.dequeue_count > self.max_dequeue:
            self._to_poison(message)
            return
        try:
            body = self._decode(message.content)
            self.call(self.info, {str(self.info.trigger["name"]): self._argument(message, body)})
        except Exception as exc:
            log.warning(
                "queue function %s failed on message %s (dequeue count %s): %s",
                self.info.name,
                message.id,
                message.dequeue_count,
                exc,
            )
            try:
                if (message.dequeue_count or 0) >= self.max_dequeue:
                    self._to_poison(message)
                else:
                    self.client.update_message(message, visibility_timeout=self.visibility)
            except Exception as inner:
                log.warning("releasing message %s failed: %s", message.id, inner)
            return
        self.client.delete_message(message)
        self.processed += 1

    def _decode(self, content: Any) -> bytes:
        raw = content if isinstance(content, bytes) else str(content or "").encode("utf-8")
        if not self.base64:
            return raw
        try:
            return base64.b64decode(raw, validate=True)
        except binascii.Error as exc:
            raise ValueError(
                f"Message on queue '{self.queue_name}' is not base64; host.json "
                "extensions.queues.messageEncoding is 'base64'."
            ) from exc

    def _argument(self, message: QueueMessage, body: bytes) -> Any:
        annotation = self.info.annotation(str(self.info.trigger["name"]))
        if annotation is str:
            return body.decode("utf-8")
        if annotation is bytes:
            return body
        return FunctionsQueueMessage(
            id=message.id,
            body=body,
            dequeue_count=message.dequeue_count,
            expiration_time=message.expires_on,
            insertion_time=message.inserted_on,
            time_next_visible=message.next_visible_on,
            pop_receipt=message.pop_receipt,
        )

    def _to_poison(self, message: QueueMessage) -> None:
        with contextlib.suppress(ResourceExistsError):
            self.poison.create_queue()
        self.poison.send_message(message.content)
        self.client.delete_message(message)
        self.poisoned += 1
        log.warning(
            "message %s moved to %s-poison after %s dequeues",
            message.id,
            self.queue_name,
            message.dequeue_count,
        )


def enqueue_now(call: CallFunction, info: FunctionInfo, text: str) -> None:
    """The admin API's "run now" for a queue function: invoke it with `text` as the body."""
    message = FunctionsQueueMessage(
        id="admin", body=text.encode("utf-8"), dequeue_count=1, insertion_time=datetime.now(UTC)
    )
    try:
        call(info, {str(info.trigger["name"]): message})
    except Exception:
        log.exception("queue function %s failed (admin invocation)", info.name)
