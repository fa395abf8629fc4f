"""A retirement message carries no authority: it names a lab and a family (and the run, for
the logs). Anything more, or anything malformed, is refused in one sentence; the policy
comes from the configuration the worker reads."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.azure.retirement import InvalidMessage, parse_request, retire
from shared.planning.plan import Trigger
from shared.planning.planner import plan, retention_policy, retirement_requests
from shared.run.payloads import RetirementRequest, StepResult
from tests.factories import (
    FACTORY_ID,
    FACTORY_LAB,
    NOW,
    built,
    factory,
    gallery,
    image,
    lab_id,
)
from tests.factories import inventory as make_inventory

QA = lab_id("qa")


def _message(**fields: object) -> bytes:
    return json.dumps({"lab": QA, "family": "app", **fields}).encode()


def test_a_request_names_only_a_lab_a_family_and_a_run() -> None:
    request = parse_request(_message(runId="push-abc"))
    assert request == RetirementRequest(lab=QA, family="app", run_id="push-abc")
    assert parse_request(_message()).run_id is None


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"factoryId": "other-factory"}, "factoryId: Extra inputs are not permitted"),
        ({"keep": 0}, "keep: Extra inputs are not permitted"),
        ({"pinned": []}, "pinned: Extra inputs are not permitted"),
        ({"selected": True, "defined": True}, "Extra inputs are not permitted (and 1 more)"),
        ({"retireRemoved": True}, "retireRemoved: Extra inputs are not permitted"),
        ({"lab": "/subscriptions/x/resourceGroups/y"}, "lab: Value error"),
        ({"family": "Not A Family"}, "family: String should match pattern"),
        ({"family": None}, "family: Input should be a valid string"),
    ],
)
def test_a_message_with_authority_or_bad_fields_is_refused(
    fields: dict[str, object], why: str
) -> None:
    with pytest.raises(InvalidMessage) as refused:
        parse_request(_message(**fields))
    assert why in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"not json", "the message is not JSON"),
        (b"\xff\xfe{}", "the message is not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "a request is at most 4096"),
        (b"[" * 1500 + b"]" * 1500, "nested too deeply"),
        (b'["lab", "family"]', "not a JSON object"),
        (b"{}", "lab: Field required (and 1 more)"),
    ],
)
def test_a_message_that_is_not_a_request_is_refused_in_one_sentence(body: bytes, why: str) -> None:
    with pytest.raises(InvalidMessage) as refused:
        parse_request(body)
    assert why in str(refused.value), str(refused.value)
    assert "\n" not in str(refused.value)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.sampled_from(["lab", "family", "runId", "keep"]), inner)
            ),
            max_leaves=20,
        ).map(lambda value: json.dumps(value).encode()),
    )
)
def test_any_message_is_a_request_or_one_sentence(body: bytes) -> None:
    try:
        parse_request(body)
    except InvalidMessage as exc:
        assert str(exc) and "\n" not in str(exc)


CONFIG = factory(
    {"app": gallery(), "tool": gallery("tool") + "retention: {keep: 3}\n"},
    {
        "qa": "images: [app, tool]\nretention: {keep: 2}\n"
        "pinned: {app: [20261101000000-aaaaaaaa]}\n",
        "dev": "images: [tool]\n",
    },
    "retention: {keep: 4}\n",
)


def test_the_worker_policy_comes_from_the_configuration_as_a_run_plans_it() -> None:
    qa = retention_policy(CONFIG, QA.upper(), NOW)  # ARM ids compare case-insensitively
    assert qa is not None
    assert qa.factory_id == FACTORY_ID
    assert qa.keep_for("app") == 2 and qa.keep_for("tool") == 2  # the lab's keep wins
    assert qa.pinned["app"] == frozenset({"20261101000000-aaaaaaaa"})
    assert qa.selected == frozenset({"app", "tool"}) and qa.now == NOW
    dev = retention_policy(CONFIG, lab_id("dev"), NOW)
    assert dev is not None
    assert dev.keep_for("tool") == 3  # the image's keep, then the factory's
    assert dev.selected == frozenset({"tool"})
    assert retention_policy(CONFIG, FACTORY_LAB, NOW) is not None
    # A lab this configuration does not distribute to is none of its business.
    assert retention_policy(CONFIG, lab_id("elsewhere"), NOW) is None


def test_the_run_queues_only_what_to_re_check() -> None:
    old = [built(CONFIG, "app", NOW - timedelta(days=d), {"pub/ofr/sku": "1"}) for d in (3, 2, 1)]
    labs = {QA: [image("app", e.version) for e in old]}
    result = plan(
        CONFIG,
        make_inventory(old, labs, gallery={"pub/ofr/sku": "1", "pub/ofr/tool": "1"}),
        NOW,
        Trigger(kind="schedule"),
    )
    assert result.retirements  # app in qa is beyond keep 2
    distributed = [StepResult(family="tool", version="v", lab=lab_id("dev"), ok=True)]
    messages = retirement_requests(CONFIG, result, distributed)
    assert {(m.lab, m.family) for m in messages} == {(QA, "app"), (lab_id("dev"), "tool")}
    for message in messages:
        assert set(json.loads(message.model_dump_json(by_alias=True, exclude_none=True))) == {
            "lab",
            "family",
        }


def test_a_lab_the_configuration_does_not_distribute_to_is_left_alone() -> None:
    # Before the lab is even read: nothing there is this configuration's to retire.
    outcome = retire(RetirementRequest(lab=lab_id("elsewhere"), family="app"), CONFIG, NOW)
    assert outcome.deleted == []
    assert outcome.skipped == "the configuration does not distribute to this lab"
