"""No secret in the orchestration store: the build VMs' generated passwords reached the
emulator, and appear nowhere in devhost's SQLite files (history, inputs, outputs, work)."""

from __future__ import annotations

from pathlib import Path

from tests.pipeline.conftest import World
from tests.pipeline.world import running_host


def test_generated_passwords_never_reach_the_orchestration_store(
    fresh_world: World, tmp_path: Path
) -> None:
    for host in running_host(fresh_world.info, fresh_world.queue_connection, tmp_path / "host"):
        status = host.wait_run(host.start_run())
        assert status["status"] == "Completed", (status, host.log_tail())
        state_dir = host.state_dir
    passwords = fresh_world.admin("GET", "secrets")["passwords"]
    # One build VM per image, and a test VM for each of the two images with a test gate,
    # each with its own password.
    assert len(passwords) == 6
    assert len(set(passwords)) == 6
    stores = [p for p in state_dir.rglob("*") if p.is_file()]
    assert any(p.suffix in (".sqlite", ".db") or "sqlite" in p.name for p in stores), stores
    for path in stores:
        data = path.read_bytes()
        for password in passwords:
            assert password.encode() not in data, f"a generated password is in {path.name}"
