"""App settings: an unresolved Key Vault reference is no secret; secrets never print."""

from __future__ import annotations

from shared.settings import load_settings

REFERENCE = "@Microsoft.KeyVault(SecretUri=https://kv-x.vault.azure.net/secrets/github/)"


def test_an_unresolved_key_vault_reference_counts_as_unset() -> None:
    settings = load_settings(
        {"IMAGEFACTORY_GITHUB_SECRET": REFERENCE, "IMAGEFACTORY_GITLAB_TOKEN": "real-token"}
    )
    assert settings.github_secret is None
    assert settings.gitlab_token is not None
    assert settings.gitlab_token.get_secret_value() == "real-token"


def test_secrets_do_not_appear_in_the_settings_repr() -> None:
    settings = load_settings(
        {"IMAGEFACTORY_GIT_TOKEN": "tok-123-secret", "IMAGEFACTORY_GITHUB_SECRET": "hook-456"}
    )
    text = repr(settings) + str(settings.model_dump())
    assert "tok-123-secret" not in text and "hook-456" not in text
