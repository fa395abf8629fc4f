"""The push path of `make run`: commit to a local configuration repository, deliver the webhook.

    python -m scripts.push_demo --url http://127.0.0.1:7071 --secret S --repo .local/config.git

1. Creates the bare repository `--repo` from `examples/factory` (once; branch `main`).
2. Commits a real change to it: toggles the `vmSize` of `images/<--image>.yaml`, so the
   definition hash changes and the run that follows rebuilds that image.
3. Delivers a GitHub `push` webhook for that commit, signed with `--secret`, to
   `<url>/api/webhooks/github`, and prints the factory's answer (the run's id and status
   URLs).

The Function App must read the same repository: IMAGEFACTORY_CONFIG_SOURCE=git,
IMAGEFACTORY_CONFIG_LOCATION=<the --repo path>, IMAGEFACTORY_GITHUB_SECRET=<--secret>.
The functions here are also what the tests use to make commits and deliveries.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import requests
from dulwich.index import commit_tree
from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.refs import Ref
from dulwich.repo import Repo

from shared.webhooks.providers.github import github_signature

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "factory"
AUTHOR = b"Image Factory Demo <demo@imagefactory.invalid>"
ZERO = "0" * 40


def _ref(branch: str) -> Ref:
    return cast(Ref, f"refs/heads/{branch}".encode())


def read_tree(repo: Repo, commit: str | None) -> dict[str, bytes]:
    """Every file at `commit` (path -> bytes); empty for None."""
    if commit is None:
        return {}
    obj = repo[cast(ObjectID, commit.encode())]
    assert isinstance(obj, Commit)
    files: dict[str, bytes] = {}

    def walk(tree_id: ObjectID, prefix: str) -> None:
        tree = repo[tree_id]
        assert isinstance(tree, Tree)
        for entry in tree.iteritems():
            path = prefix + entry.path.decode()
            item = repo[entry.sha]
            if isinstance(item, Tree):
                walk(entry.sha, path + "/")
            elif isinstance(item, Blob):
                files[path] = item.data

    walk(obj.tree, "")
    return files


def head(repo_path: str | Path, branch: str = "main") -> str | None:
    ref = _ref(branch)
    with Repo(str(repo_path)) as repo:
        return repo.refs[ref].decode() if ref in repo.refs else None


def commit_files(
    repo_path: str | Path,
    changes: Mapping[str, bytes | None],
    message: str,
    branch: str = "main",
) -> tuple[str, str]:
    """Commit `changes` (path -> content, None deletes) on `branch`; (before, after) ids.

    Works on a bare repository: objects are written directly, no working tree is used.
    """
    before = head(repo_path, branch)
    with Repo(str(repo_path)) as repo:
        files = read_tree(repo, before)
        for path, content in changes.items():
            if content is None:
                files.pop(path, None)
            else:
                files[path] = content
        blobs: list[tuple[bytes, ObjectID, int]] = []
        for path, content in sorted(files.items()):
            blob = Blob.from_string(content)
            repo.object_store.add_object(blob)
            blobs.append((path.encode(), blob.id, 0o100644))
        commit = Commit()
        commit.tree = commit_tree(repo.object_store, blobs)
        commit.parents = [cast(ObjectID, before.encode())] if before else []
        commit.author = commit.committer = AUTHOR
        commit.author_time = commit.commit_time = int(time.time())
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = message.encode() + b"\n"
        repo.object_store.add_object(commit)
        repo.refs[_ref(branch)] = commit.id
    return before or ZERO, commit.id.decode()


def init_repository(
    repo_path: str | Path, source: Path = EXAMPLE, folder: str = "", branch: str = "main"
) -> str:
    """A bare repository holding `source` under `folder`; returns the head commit.

    An existing repository is left as it is.
    """
    path = Path(repo_path)
    if (path / "objects").is_dir() or (path / ".git").is_dir():
        current = head(path, branch)
        if current:
            return current
    else:
        path.mkdir(parents=True, exist_ok=True)
        with Repo.init_bare(str(path)) as repo:
            repo.refs.set_symbolic_ref(cast(Ref, b"HEAD"), _ref(branch))
    prefix = folder.strip("/") + "/" if folder.strip("/") else ""
    files = {
        prefix + p.relative_to(source).as_posix(): p.read_bytes()
        for p in sorted(source.rglob("*"))
        if p.is_file()
    }
    return commit_files(path, files, "Configuration from examples/factory", branch)[1]


def toggle_vm_size(
    repo_path: str | Path, image: str = "ubuntu2204-base", folder: str = "", branch: str = "main"
) -> tuple[str, str, str]:
    """Commit a changed `vmSize` of one image definition; (before, after, changed path)."""
    prefix = folder.strip("/") + "/" if folder.strip("/") else ""
    path = f"{prefix}images/{image}.yaml"
    with Repo(str(repo_path)) as repo:
        files = read_tree(repo, head(repo_path, branch))
    if path not in files:
        raise SystemExit(f"{path} is not in the repository at {repo_path}.")
    text = files[path].decode()
    match = re.search(r"^vmSize:\s*(\S+)\s*$", text, flags=re.MULTILINE)
    current = match.group(1) if match else ""
    size = "Standard_D4s_v5" if current == "Standard_D2s_v5" else "Standard_D2s_v5"
    if match:
        text = text[: match.start()] + f"vmSize: {size}" + text[match.end() :]
    else:
        text += f"vmSize: {size}\n"
    before, after = commit_files(
        repo_path, {path: text.encode()}, f"{image}: vmSize {size}", branch
    )
    return before, after, path


def github_push_payload(
    repository_url: str,
    before: str,
    after: str,
    *,
    branch: str = "main",
    added: list[str] | None = None,
    modified: list[str] | None = None,
    removed: list[str] | None = None,
) -> dict[str, Any]:
    """A GitHub `push` event payload with the fields GitHub sends that the factory reads."""
    return {
        "ref": f"refs/heads/{branch}",
        "before": before,
        "after": after,
        "created": before == ZERO,
        "deleted": False,
        "forced": False,
        "repository": {
            "name": Path(repository_url).name,
            "full_name": f"demo/{Path(repository_url).name}",
            "clone_url": repository_url,
            "html_url": repository_url,
        },
        "pusher": {"name": "demo"},
        "commits": [
            {
                "id": after,
                "message": "demo change",
                "added": added or [],
                "modified": modified or [],
                "removed": removed or [],
            }
        ],
        "head_commit": {"id": after},
    }


def deliver_github(
    url: str,
    secret: str,
    payload: Mapping[str, Any] | bytes,
    *,
    event: str = "push",
    delivery_id: str | None = None,
    timeout: float = 30,
) -> requests.Response:
    """POST a GitHub-style delivery signed with `secret` to the webhook URL."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/imagefactory-demo",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-Hub-Signature-256": github_signature(secret, body),
    }
    return requests.post(url, data=body, headers=headers, timeout=timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--url", required=True, help="the Function App's base URL (devhost)")
    parser.add_argument("--secret", required=True, help="IMAGEFACTORY_GITHUB_SECRET of the app")
    parser.add_argument("--repo", required=True, help="the local configuration repository")
    parser.add_argument("--image", default="ubuntu2204-base", help="the image to change")
    parser.add_argument("--folder", default="", help="IMAGEFACTORY_CONFIG_PATH of the app")
    parser.add_argument("--branch", default="main")
    args = parser.parse_args(argv)

    repo = Path(args.repo).resolve()
    init_repository(repo, folder=args.folder, branch=args.branch)
    before, after, path = toggle_vm_size(repo, args.image, args.folder, args.branch)
    print(f"committed {after[:12]} to {repo} ({path})")
    payload = github_push_payload(str(repo), before, after, branch=args.branch, modified=[path])
    hook = args.url.rstrip("/") + "/api/webhooks/github"
    response = deliver_github(hook, args.secret, payload)
    print(f"POST {hook} -> {response.status_code}")
    print(json.dumps(response.json(), indent=2))
    return 0 if response.status_code < 400 else 1


if __name__ == "__main__":
    sys.exit(main())
