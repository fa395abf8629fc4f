"""Read the configuration repository a run uses: a directory, or a Git commit."""

from __future__ import annotations

from pathlib import Path

from shared.config.loading import load_directory, load_files
from shared.config.models import Factory
from shared.git.source import read_git
from shared.run.request import ConfigSourceRef
from shared.settings import get_settings


def load_config(
    ref: ConfigSourceRef,
    git_token: str | None = None,
    *,
    git_username: str | None = None,
    ca_bundle: str | None = None,
    cache_dir: str | None = None,
) -> Factory:
    """The validated configuration at `ref` (raises ConfigInvalid with every problem).

    A Git source is read at `ref.commit` (or the head of `ref.branch`), and that commit id
    goes into the Factory; a Git failure raises GitSourceError with one sentence. The Git
    token, user name, CA bundle and cache folder not given come from the app settings
    (IMAGEFACTORY_GIT_TOKEN, IMAGEFACTORY_GIT_USERNAME, IMAGEFACTORY_CA_BUNDLE,
    IMAGEFACTORY_GIT_CACHE_DIR).
    """
    if ref.kind == "directory":
        return load_directory(Path(ref.location) / ref.path, commit=ref.commit)
    settings = get_settings()
    if git_token is None and settings.git_token is not None:
        git_token = settings.git_token.get_secret_value()
    snapshot = read_git(
        ref,
        token=git_token,
        username=git_username or settings.git_username,
        ca_bundle=ca_bundle or settings.ca_bundle,
        cache_dir=cache_dir or settings.git_cache_dir,
    )
    return load_files(snapshot.files, commit=snapshot.commit, unreadable=snapshot.unreadable)
