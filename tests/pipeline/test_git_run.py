"""A run over a Git configuration repository: the commit goes into the report and onto
every image the run makes."""

from __future__ import annotations

from pathlib import Path

from scripts.push_demo import init_repository
from shared.model import tags
from tests.pipeline.conftest import World, completed_run, git_host
from tests.pipeline.test_end_to_end import _labs


def test_the_commit_is_in_the_report_and_the_image_tags(fresh_world: World, tmp_path: Path) -> None:
    repository = tmp_path / "config.git"
    head = init_repository(repository)
    host = git_host(fresh_world, tmp_path / "host", repository)
    report = completed_run(host, images=["ubuntu2204-base"])["report"]
    assert report["commit"] == head
    assert [b["family"] for b in report["built"]] == ["ubuntu2204-base"]
    images = [
        image
        for lab in _labs(fresh_world).values()
        for image in lab["images"].values()
        if image["tags"].get(tags.FAMILY) == "ubuntu2204-base"
    ]
    assert len(images) == 2  # qa-weu and data-eus
    assert all(image["tags"][tags.COMMIT] == head for image in images)
