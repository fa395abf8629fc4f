"""The app settings the factory reads (environment variables; app settings in Azure).

Production and the local world differ only in these values: no `if local:` in code.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from shared.run.request import ConfigSourceRef

PREFIX = "IMAGEFACTORY_"
log = logging.getLogger(__name__)


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    config_source: Literal["directory", "git"] = Field(
        default="directory", description="IMAGEFACTORY_CONFIG_SOURCE"
    )
    config_location: str = Field(default="", description="IMAGEFACTORY_CONFIG_LOCATION")
    config_path: str = Field(default="", description="IMAGEFACTORY_CONFIG_PATH")
    config_branch: str = Field(default="main", description="IMAGEFACTORY_CONFIG_BRANCH")
    git_token: SecretStr | None = Field(default=None, description="IMAGEFACTORY_GIT_TOKEN (secret)")
    arm_endpoint: str = Field(
        default="https://management.azure.com", description="IMAGEFACTORY_ARM_ENDPOINT"
    )
    ca_bundle: str | None = Field(default=None, description="IMAGEFACTORY_CA_BUNDLE")
    blob_endpoint: str = Field(
        default="https://{account}.blob.core.windows.net",
        description="IMAGEFACTORY_BLOB_ENDPOINT: a storage account's blob endpoint, {account} "
        "standing for its name (another cloud, or the local world's Azurite)",
    )
    credential: Literal["default", "local"] = Field(
        default="default", description="IMAGEFACTORY_CREDENTIAL"
    )
    queue_connection: str = Field(
        default="AzureWebJobsStorage",
        description="IMAGEFACTORY_QUEUE_CONNECTION: the name of the storage connection setting",
    )
    poll_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="IMAGEFACTORY_POLL_SECONDS"
    )
    time_scale: float = Field(
        default=1.0,
        gt=0,
        le=100,
        description="IMAGEFACTORY_TIME_SCALE: multiplies timeouts (a local world runs faster)",
    )

    git_username: str = Field(
        default="x-access-token",
        description="IMAGEFACTORY_GIT_USERNAME: the user name sent with IMAGEFACTORY_GIT_TOKEN",
    )
    git_cache_dir: str | None = Field(
        default=None,
        description="IMAGEFACTORY_GIT_CACHE_DIR: where fetched Git objects are kept between runs",
    )
    # Triggers: push webhooks and the schedule (README: "Triggers: push webhooks and the schedule").
    github_secret: SecretStr | None = Field(
        default=None, description="IMAGEFACTORY_GITHUB_SECRET (secret): the GitHub webhook secret"
    )
    gitlab_token: SecretStr | None = Field(
        default=None, description="IMAGEFACTORY_GITLAB_TOKEN (secret): the GitLab secret token"
    )
    ado_secret: SecretStr | None = Field(
        default=None,
        description="IMAGEFACTORY_ADO_SECRET (secret): Azure DevOps X-ImageFactory-Secret header",
    )
    ado_username: str | None = Field(
        default=None, description="IMAGEFACTORY_ADO_USERNAME: Azure DevOps basic auth user name"
    )
    ado_password: SecretStr | None = Field(
        default=None, description="IMAGEFACTORY_ADO_PASSWORD (secret): Azure DevOps basic auth"
    )
    webhook_branch: str | None = Field(
        default=None,
        description="IMAGEFACTORY_WEBHOOK_BRANCH: pushes to this branch start runs "
        "(default: IMAGEFACTORY_CONFIG_BRANCH)",
    )
    webhook_repository: str | None = Field(
        default=None,
        description="IMAGEFACTORY_WEBHOOK_REPOSITORY: pushes from this repository URL start runs "
        "(default: IMAGEFACTORY_CONFIG_LOCATION)",
    )
    webhook_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        gt=0,
        le=100 * 1024 * 1024,  # what the Functions host accepts at most
        description="IMAGEFACTORY_WEBHOOK_MAX_BYTES: larger webhook bodies are refused",
    )
    schedule: str = Field(
        default="0 0 2 * * *",
        description="IMAGEFACTORY_SCHEDULE: the timer's NCRONTAB schedule (six fields)",
    )

    @property
    def config_ref(self) -> ConfigSourceRef:
        return ConfigSourceRef(
            kind=self.config_source,
            location=self.config_location,
            path=self.config_path,
            branch=self.config_branch,
        )


UNRESOLVED_REFERENCE = "@Microsoft.KeyVault("


@cache
def get_settings() -> Settings:
    """This process's settings, read once from the environment (`reset_settings` forgets
    them, for a process whose environment changed)."""
    return load_settings()


def reset_settings() -> None:
    get_settings.cache_clear()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from the environment. A Key Vault reference App Service could not
    resolve arrives as its own text, which is guessable: such a value counts as unset (a
    webhook without its secret answers 403) rather than as a secret."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for name in Settings.model_fields:
        key = PREFIX + name.upper()
        value = env.get(key)
        if value and value.lstrip().startswith(UNRESOLVED_REFERENCE):
            log.warning("%s is an unresolved Key Vault reference; treating it as unset", key)
            continue
        if value:
            values[name] = value
    return Settings.model_validate(values)


def setting_names() -> list[str]:
    """Every app setting the factory reads, for templates and docs."""
    return sorted(PREFIX + name.upper() for name in Settings.model_fields)
