"""`custody worker` and `custody exchange subscribe` refuse what cannot work in one line, exit 2, and
say what to do next (found by a review: each failed as custody "failing unexpectedly")."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import custody as run_custody
from tests.exchange.test_webhooks import SECRET


def test_an_unreachable_nats_server_is_named_without_its_credentials(tmp_path: Path) -> None:
    """The worker's connection tries again for as long as an outage lasts, and so waited in silence
    for a server that was never there."""
    url = "nats://someone:not-for-the-screen@127.0.0.1:1"
    done = run_custody("worker", "--party", "federal", "--transport", "nats", "--nats-url", url, tmp_path=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    said = done.stderr.splitlines()[-1]  # after the store's and the worker's log of their start
    assert said.startswith("error: NATS is not reachable at nats://127.0.0.1:1 (ConnectionRefusedError")
    assert said.endswith("start it, or give its address with --nats-url or CUSTODY_NATS_URL")
    assert "not-for-the-screen" not in done.stderr and "someone" not in done.stderr


def test_a_subscription_to_a_url_with_a_port_of_letters_is_refused(tmp_path: Path) -> None:
    url = "http://127.0.0.1:abc/x"
    done = run_custody("exchange", "subscribe", "--url", url, "--secret", SECRET, tmp_path=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "'http://127.0.0.1:abc/x' is not an http(s) URL with a host and a valid port" in done.stderr
