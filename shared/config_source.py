"""Read the configuration repository a run uses: a directory, or a Git commit."""

from __future__ import annotations

from pathlib import Path

from shared.config import Factory
from shared.run_request import ConfigSourceRef
from shared.validation import load_directory


def load_config(ref: ConfigSourceRef, git_token: str | None = None) -> Factory:
    """The validated configuration at `ref` (raises ConfigInvalid with every problem)."""
    if ref.kind == "directory":
        return load_directory(Path(ref.location) / ref.path, commit=ref.commit)
    raise NotImplementedError("Git configuration sources are not implemented yet")
