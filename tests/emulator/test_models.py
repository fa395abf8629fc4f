"""Model-level rules that need no HTTP: VHD headers, fault matching, operation pruning."""

from __future__ import annotations

from emulator import vhd
from emulator.core import MAX_OPERATIONS, Core
from emulator.faults import Faults, RequestKind
from emulator.scenario import FaultSpec, load_scenario


def test_vhd_header_round_trip_and_nesting() -> None:
    parent = vhd.header(vhd.render([("lab-vm", "/a"), ("generalized", "sysprep")]))
    data = vhd.render([("lab-vm", "/b")], parent)
    assert len(data) % vhd.SECTOR == 0 and len(data) >= vhd.MIN_SIZE
    text = vhd.header(data)
    assert vhd.field(text, "lab-vm") == "/b"
    assert vhd.field(text, "generalized") is None  # only inside parent:
    assert "  lab-vm: /a" in text
    assert vhd.header(b"\x01\x02not ours").startswith(f"{vhd.MAGIC}\nforeign-content: sha256=")


def test_fault_rules_match_count_and_rate() -> None:
    faults = Faults(seed=1)
    get_labs = RequestKind("GET", "Microsoft.DevTestLab/labs", "x/read", "/subscriptions/s/labs")
    put_vm = RequestKind("PUT", "Microsoft.DevTestLab/labs/virtualmachines", "x/write", "/vm")
    faults.add(FaultSpec(kind="error", method="get", count=2))
    assert faults.on_request(put_vm) is None
    assert faults.on_request(get_labs) is not None
    assert faults.on_request(get_labs) is not None
    assert faults.on_request(get_labs) is None
    faults.add(FaultSpec(kind="throttle", rate=0.5))
    fired = sum(faults.on_request(get_labs) is not None for _ in range(200))
    assert 60 < fired < 140
    faults.clear()
    faults.add(FaultSpec(kind="artifact_failure", artifact="windows-git"))
    assert faults.on_artifact(put_vm, "windows-7zip") is None
    assert faults.on_artifact(put_vm, "Windows-Git") is not None


def test_finished_operations_are_pruned() -> None:
    core = Core(load_scenario(), clock_scale=6000)
    sub = load_scenario().subscriptions[0].id
    running = core.start_operation("Microsoft.DevTestLab", "westeurope", "create", "/r", sub)
    for _ in range(MAX_OPERATIONS + 5):
        operation = core.start_operation("Microsoft.DevTestLab", "westeurope", "x", "/r", sub)
        operation.succeed(core.now())
    core.advance()
    assert len(core.world.operations) <= MAX_OPERATIONS // 2 + 1
    assert running.id in core.world.operations
