"""The online checks as a pure function of the configuration and a lab's offer."""

from __future__ import annotations

from shared.config.loading import load_files
from shared.config.online import ArtifactOffer, LabOffer, check_online
from tests.factories import FACTORY_ID, FACTORY_LAB

IMAGE = """name: app
os: Linux
base:
  gallery: {publisher: Canonical, offer: Ubuntu, sku: 22_04-LTS}
artifacts:
  - name: LINUX-APT
    parameters:
      Packages: curl
  - name: run-shell
    source: team repo
testArtifacts:
  - name: linux-apt
"""
FILES = {
    "factory.yaml": f"factoryId: {FACTORY_ID}\nfactoryLab: {FACTORY_LAB}\n",
    "images/app.yaml": IMAGE,
}
APT = ArtifactOffer("linux-apt", frozenset({"packages", "update"}), frozenset({"packages"}))
OFFER = LabOffer(
    lab=FACTORY_LAB,
    sources={"Public Repo": {"linux-apt": APT}, "team-repo": {}},
    gallery=frozenset({("canonical", "ubuntu", "22_04-lts")}),
)


def test_names_match_case_insensitively_and_each_problem_has_its_line() -> None:
    problems = [str(p) for p in check_online(load_files(FILES), FILES, OFFER)]
    assert problems == [
        "images/app.yaml:10: artifacts[1].source: the factory lab has no artifact source "
        "'team repo' (did you mean 'team-repo'?); expected one of: Public Repo, team-repo.",
        "images/app.yaml:12: testArtifacts[0]: the artifact 'linux-apt' needs the "
        "parameter(s) packages.",
    ]


def test_a_base_the_lab_does_not_allow_is_caught() -> None:
    offer = LabOffer(lab=FACTORY_LAB, sources=OFFER.sources, gallery=frozenset())
    problems = [str(p) for p in check_online(load_files(FILES), FILES, offer)]
    assert problems[0] == (
        "images/app.yaml:4: base.gallery: 'Canonical/Ubuntu/22_04-LTS' is not among the "
        "factory lab's allowed gallery images; expected one of: none."
    )
