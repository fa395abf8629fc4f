"""The retirement queue worker on devhost, against the emulator and Azurite: a message
names only what to re-check, so stale and crafted messages delete nothing the current
configuration keeps, and one that is not a request goes to the poison queue with why."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from shared.function_names import RETIREMENT_QUEUE
from shared.model import naming
from tests.pipeline.conftest import World
from tests.pipeline.test_end_to_end import _family_images, _labs
from tests.pipeline.test_retire_and_sweep import FACTORY, FACTORY_ID, _image, _owned, _versions
from tests.pipeline.world import FactoryHost

QA = FACTORY.labs["qa-weu"].lab
DEV = FACTORY.labs["dev-weu"].lab
DATA = FACTORY.labs["data-eus"].lab
OTHER = "another-factory"
DAY = datetime.now(UTC) - timedelta(days=30)


def _version(days: int, digest: str) -> str:
    return naming.version_for(DAY + timedelta(days=days), digest * 8)


U = [_version(d, h) for d, h in ((1, "1"), (2, "2"), (3, "3"), (4, "4"))]
W = [_version(d, h) for d, h in ((1, "a"), (2, "b"), (3, "c"))]
FUTURE = naming.version_for(datetime.now(UTC) + timedelta(days=365), "ffffffff")
BOGUS = [FUTURE, "latest", "zzzzzzzz"]


def _queue(world: World, name: str) -> QueueClient:
    return QueueClient.from_connection_string(
        world.queue_connection,
        name,
        message_encode_policy=TextBase64EncodePolicy(),
        message_decode_policy=TextBase64DecodePolicy(),
        connection_verify=world.info.ca_file,
    )


@pytest.fixture
def host(fresh_world: World, tmp_path: Path) -> Iterator[FactoryHost]:
    host = FactoryHost(fresh_world.info, fresh_world.queue_connection, tmp_path)
    try:
        yield host
    finally:
        host.stop()


def _seed(world: World) -> None:
    _versions(world, QA, "ubuntu2204-base", U)
    _image(world, QA, "ubuntu2204-base-theirs", _owned("ubuntu2204-base", U[0], OTHER))
    _versions(world, QA, "win2022-base", [*W, *BOGUS])
    # another factory's images of a family this one also builds
    _versions(world, DEV, "win2022-base", W, OTHER)
    only = naming.image_name("ubuntu2404-docker", U[0])
    _image(world, DATA, only, _owned("ubuntu2404-docker", U[0]))


def test_stale_and_crafted_messages_delete_nothing_the_configuration_keeps(
    fresh_world: World, host: FactoryHost
) -> None:
    _seed(fresh_world)
    queue = _queue(fresh_world, RETIREMENT_QUEUE)
    queue.create_queue()
    requests = [
        {"lab": QA, "family": "ubuntu2204-base", "runId": "schedule-20261201T020000Z"},
        {"lab": QA, "family": "win2022-base"},
        {"lab": DEV, "family": "win2022-base"},
        {"lab": DATA, "family": "ubuntu2404-docker"},
    ]
    crafted = [
        # The old form that carried the policy: keep 1 and no pins would delete a pin.
        {"lab": QA, "family": "ubuntu2204-base", "factoryId": FACTORY_ID, "selected": True,
         "defined": True, "keep": 1, "pinned": [], "retireRemoved": True},
        # Another factory's id, to delete its images in our name.
        {"lab": DEV, "family": "win2022-base", "factoryId": OTHER, "selected": True,
         "defined": True, "keep": 1},
        {"lab": "/subscriptions/x", "family": "Not A Family"},
    ]  # fmt: skip
    for body in [*requests, *crafted]:
        queue.send_message(json.dumps(body))
    queue.send_message("retire everything")
    # After queuing, an operator pins the oldest version in qa-weu.
    lab_file = host.config_dir / "labs" / "qa-weu.yaml"
    lab_file.write_text(lab_file.read_text() + f"pinned: {{ubuntu2204-base: [{U[0]}]}}\n")

    host.start()
    poison = _queue(fresh_world, RETIREMENT_QUEUE + "-poison")

    def settled() -> bool:
        if queue.get_queue_properties().approximate_message_count:
            return False
        try:
            return (poison.get_queue_properties().approximate_message_count or 0) >= 4
        except Exception:
            return False

    deadline = time.monotonic() + 120
    while not settled():
        assert time.monotonic() < deadline, host.log_tail()
        time.sleep(0.5)

    labs = _labs(fresh_world)
    qa, dev, data = labs["qa-weu"], labs["dev-weu"], labs["data-eus"]
    # qa-weu keeps 2 (its own retention), and the pin added after queuing.
    assert _family_images(qa, "ubuntu2204-base") == sorted(
        [
            "ubuntu2204-base-theirs",
            *(naming.image_name("ubuntu2204-base", v) for v in (U[0], *U[2:])),
        ]
    )
    # The real newest two stay; the unorderable ones are left alone, never counted.
    assert _family_images(qa, "win2022-base") == sorted(
        naming.image_name("win2022-base", v) for v in [*W[1:], *BOGUS]
    )
    # Another factory's images, and the only version of a selected family, stay.
    assert len(_family_images(dev, "win2022-base")) == 3
    assert _family_images(data, "ubuntu2404-docker") == [
        naming.image_name("ubuntu2404-docker", U[0])
    ]

    reasons = sorted(
        json.loads(m.content)["reason"] for m in poison.receive_messages(max_messages=32)
    )
    assert len(reasons) == 4, reasons
    assert all(r.startswith("not a retirement request: ") and "\n" not in r for r in reasons)
    assert sum("Extra inputs are not permitted" in r for r in reasons) == 2, reasons
    assert any("not JSON" in r for r in reasons), reasons
    assert any(r.startswith("not a retirement request: lab: ") for r in reasons), reasons

    # While the configuration does not validate, nothing is retired: the message goes to
    # the poison queue saying why, at once (retrying cannot help).
    poison.clear_messages()
    (host.config_dir / "images" / "broken.yaml").write_text("name: Not A Family\n")
    _image(
        fresh_world, QA, naming.image_name("ubuntu2204-base", U[1]), _owned("ubuntu2204-base", U[1])
    )
    queue.send_message(json.dumps({"lab": QA, "family": "ubuntu2204-base"}))
    deadline = time.monotonic() + 60
    while queue.get_queue_properties().approximate_message_count or not (
        poison.get_queue_properties().approximate_message_count
    ):
        assert time.monotonic() < deadline, host.log_tail()
        time.sleep(0.5)
    [message] = poison.receive_messages(max_messages=32)
    reason = json.loads(message.content)["reason"]
    assert reason.startswith("the configuration does not validate, so nothing is retired: ")
    assert "images/broken.yaml:1: " in reason and "\n" not in reason, reason
    assert naming.image_name("ubuntu2204-base", U[1]) in _family_images(
        _labs(fresh_world)["qa-weu"], "ubuntu2204-base"
    )
    assert "Traceback" not in host.log_tail()


def test_a_run_ignores_unorderable_versions_and_says_so(
    fresh_world: World, host: FactoryHost
) -> None:
    host.start()
    first = host.wait_run(host.start_run())
    assert first["status"] == "Completed" and not first["report"]["failed"], host.log_tail()
    real = {b["family"]: b["version"] for b in first["report"]["plan"]["builds"]}
    family = "ubuntu2204-base"
    # A hand-edited catalog entry dated next year, with another definition's hash, and two
    # images in qa-weu (keep 2) that claim to be newer than the real one.
    meta = {
        "imagefactoryid": FACTORY_ID,
        "family": family,
        "version": FUTURE,
        "definitionhash": "0" * 64,
        "base": "x@1",
        "commit": "",
        "buildid": naming.build_id(family, FUTURE),
        "created": datetime.now(UTC).isoformat(),
    }
    fresh_world.upload_vhd(
        FACTORY.settings.factory_lab, naming.catalog_blob_name(family, FUTURE), "Linux", meta
    )
    for version in (FUTURE, "latest"):
        _image(fresh_world, QA, naming.image_name(family, version), _owned(family, version))

    second = host.wait_run(host.start_run())
    assert second["status"] == "Completed", host.log_tail()
    report = second["report"]
    assert report["plan"]["builds"] == []  # not a reason to rebuild
    assert report["plan"]["retirements"] == []  # nor to retire the real newest
    assert any(
        f"catalog version of {family} ignored: version {FUTURE}" in w for w in report["warnings"]
    )
    for version in (FUTURE, "latest"):
        name = naming.image_name(family, version)
        assert any(name in w for w in report["plan"]["warnings"]), report["plan"]["warnings"]
    qa = _labs(fresh_world)["qa-weu"]
    assert naming.image_name(family, real[family]) in _family_images(qa, family)
