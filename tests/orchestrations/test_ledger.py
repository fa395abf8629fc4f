"""The run's ledger and its jobs' inputs: the report's words for what ran, failed and was
skipped, and each job's payload and instance id, from a real plan."""

from __future__ import annotations

from orchestrations.job_inputs import JobInputs
from orchestrations.job_scheduler import JobId, Kind, Limits, Scheduler, jobs_of
from orchestrations.ledger import Ledger
from shared.model import tags
from shared.planning.plan import Trigger
from shared.planning.planner import plan as make_plan
from shared.run.payloads import MonitorTiming, StepResult
from tests import factories as f

CONFIG = f.factory(
    {
        "base": f.gallery() + "tags: {owner: team}\n",
        "child": f.layered("base"),
        "other": f.gallery("s2"),
    },
    {"dev": 'images: ["*"]\n'},
)
PLAN = make_plan(CONFIG, f.inventory([]), f.NOW, Trigger())
BUILDS = {b.family: JobId(Kind.BUILD, b.family, b.version) for b in PLAN.builds}


def _copy(family: str, lab: str) -> JobId:
    d = next(d for d in PLAN.distributions if d.family == family and d.lab.endswith(lab))
    return JobId(Kind.DISTRIBUTE, d.family, d.version, d.lab)


def _ok(job: JobId) -> StepResult:
    return StepResult(family=job.family, version=job.version, lab=job.lab or None, ok=True)


def test_a_failed_parent_is_named_by_what_it_blocked() -> None:
    scheduler = Scheduler(jobs_of(PLAN, f.FACTORY_LAB), Limits(4, 4, 4))
    ledger = Ledger(PLAN, f.FACTORY_LAB)
    scheduler.take()
    base = BUILDS["base"]
    failure = StepResult(
        family="base", version=base.version, ok=False, step="apply artifacts", reason="exit 1"
    )
    ledger.record(base, failure)
    for job in scheduler.release(base, False):
        ledger.block(job, scheduler.cause(job) or base)
    report = ledger.report(["a plan warning"])
    failed = {(r.family, r.lab or ""): r for r in report["failed"]}
    assert failed[("base", "")].step == "apply artifacts"
    assert failed[("child", "")].step == "skipped"
    assert failed[("child", "")].reason == "its parent base failed: exit 1"
    skipped = {(r.family, (r.lab or "").rsplit("/", 1)[-1]): r.reason for r in report["skipped"]}
    assert skipped == {
        ("base", "dev"): "the build failed at apply artifacts: exit 1",
        ("base", "factory"): "the build failed at apply artifacts: exit 1",
        ("child", "dev"): "the build failed at skipped: its parent base failed: exit 1",
    }
    assert report["built"] == [] and report["warnings"] == ["a plan warning"]


def test_a_failed_copy_into_the_factory_lab_skips_the_child() -> None:
    ledger = Ledger(PLAN, f.FACTORY_LAB)
    feed = _copy("base", "factory")
    ledger.record(BUILDS["base"], _ok(BUILDS["base"]))
    ledger.record(
        feed,
        StepResult(
            family="base",
            version=feed.version,
            lab=feed.lab,
            ok=False,
            step="copy VHD",
            reason="403",
        ),
    )
    ledger.block(BUILDS["child"], feed)
    report = ledger.report([])
    assert [r.reason for r in report["failed"] if r.family == "child"] == [
        "its parent base failed: 403"
    ]
    assert [r.lab for r in report["failed"] if r.family == "base"] == [feed.lab]


def test_a_vm_deletion_warning_joins_its_build() -> None:
    ledger = Ledger(PLAN, f.FACTORY_LAB)
    other = BUILDS["other"]
    ledger.record(other, _ok(other))
    ledger.vm_deleted(other, ["build VM x was not deleted in time"])
    report = ledger.report([])
    assert report["built"][0].warnings == ["build VM x was not deleted in time"]
    assert report["warnings"] == ["build VM x was not deleted in time"]
    assert ledger.counts()[Kind.BUILD] == (1, 0)


def test_job_inputs_carry_the_build_and_the_copy() -> None:
    inputs = JobInputs(CONFIG, MonitorTiming(poll_seconds=5, time_scale=0.5), PLAN, "manual-1")
    child = inputs.build(BUILDS["child"])
    base_version = BUILDS["base"].version
    assert child.parent_image == f"base-{base_version}"
    assert child.timeouts.vm_create == CONFIG.settings.timeouts.vm_create * 30
    assert child.poll_seconds == 5
    copy = inputs.distribute(_copy("base", "dev"))
    assert copy.image_tags[tags.VERSION] == base_version
    assert copy.image_tags["owner"] == "team"
    assert tags.DEFINITION_HASH in copy.image_tags  # built in this run
    build_id = next(b.build_id for b in PLAN.builds if b.family == "child")
    assert inputs.child_id(BUILDS["child"]) == f"manual-1:build:{build_id}"
    assert inputs.child_id(BUILDS["child"], role="vm-delete") == f"manual-1:vm-delete:{build_id}"
    ids = {inputs.child_id(_copy("base", lab)) for lab in ("dev", "factory")}
    assert len(ids) == 2 and all(i.startswith("manual-1:distribute:base-") for i in ids)


def test_a_batch_is_one_sub_orchestration_with_each_copy_its_own() -> None:
    inputs = JobInputs(CONFIG, MonitorTiming(), PLAN, "manual-1")
    batch = JobId(Kind.BATCH, "base", BUILDS["base"].version, subscription=f.SUB_A.lower())
    payload = inputs.batch(batch, concurrency=2)
    assert [c.distribution.lab for c in payload.copies] == [f.lab_id("dev")]
    assert payload.instance_ids == [inputs.child_id(_copy("base", "dev"))]
    assert payload.concurrency == 2
    assert inputs.child_id(batch).startswith("manual-1:distribute-to:base-")
    ledger = Ledger(PLAN, f.FACTORY_LAB)
    ledger.record_batch(batch, [_ok(_copy("base", "dev"))])
    assert [r.lab for r in ledger.distributed] == [f.lab_id("dev")]
    assert ledger.counts()[Kind.DISTRIBUTE] == (1, 0)
