"""Channel URLs kept in Prefect blocks, resolved from a real Prefect server at send time."""

from __future__ import annotations

import pytest

from tasks.alerts.channels import prefect_block_url


@pytest.fixture
def prefect_settings(prefect_api, monkeypatch):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: prefect_api["PREFECT_API_URL"]}):
        yield


def test_a_secret_block_and_a_notification_block_resolve_to_their_urls(prefect_settings):
    from prefect.blocks.notifications import SlackWebhook
    from prefect.blocks.system import Secret

    Secret(value="json://127.0.0.1:9/hook?token=from-secret").save("hkai-test-hook", overwrite=True)
    SlackWebhook(url="https://hooks.slack.com/services/T000/B000/XXXX").save("hkai-test-slack", overwrite=True)

    assert prefect_block_url("prefect-block://hkai-test-hook") == "json://127.0.0.1:9/hook?token=from-secret"
    assert prefect_block_url("prefect-block://secret/hkai-test-hook") == "json://127.0.0.1:9/hook?token=from-secret"
    assert (prefect_block_url("prefect-block://slack-webhook/hkai-test-slack")
            == "https://hooks.slack.com/services/T000/B000/XXXX")


def test_a_missing_block_raises_a_readable_error(prefect_settings):
    with pytest.raises(ValueError, match="no-such-block"):
        prefect_block_url("prefect-block://no-such-block")
