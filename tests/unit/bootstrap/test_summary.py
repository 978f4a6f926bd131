"""The closing summary repeats where to watch and how to sign in (issue: no scrolling back)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from appliance.bootstrap.flags import BootstrapOptions
from appliance.bootstrap.running import sign_in_link, summary_rows
from appliance.canonical import Blocker, RollupState
from appliance.tokens import StatusToken
from tests.unit.status_web.samples import ready


def test_summary_has_url_token_file_and_sign_in_link(
    options_for: Callable[..., BootstrapOptions], tmp_path: Path
) -> None:
    """Status UI, its token file and a link that signs in, then each background issue."""
    options = options_for()
    token = StatusToken(value="tok+en/=", path=tmp_path / "status-token", created=False)
    issue = Blocker(
        layer="Image tag availability",
        component="workflow-worker",
        reason="the tag does not exist",
        next_action="publish it",
        login_blocking=False,
    )
    status = ready().model_copy(
        update={
            "top_blockers": [issue],
            "rollup": ready().rollup.model_copy(
                update={"state": RollupState.READY_WITH_BACKGROUND_ISSUES}
            ),
        }
    )
    rows = dict(summary_rows(options, status, token, tmp_path / "kubeconfig"))
    assert rows["Status UI"] == "http://192.0.2.10:8080"
    assert rows["Token file"] == str(tmp_path / "status-token")
    link = urlsplit(rows["Sign-in link"])
    assert f"{link.scheme}://{link.netloc}" == "http://192.0.2.10:8080"
    assert parse_qs(link.query) == {"token": ["tok+en/="]}  # escaped, so it survives a browser
    assert rows["Rollup"] == (
        "Ready to log in, with background issues (ready_with_background_issues)"
    )
    assert rows["Background issue"].startswith("workflow-worker: the tag does not exist")
    assert "Blocker" not in rows


def test_sign_in_link_is_the_status_url_with_the_token() -> None:
    """`?token=` is what the status service exchanges for a session cookie."""
    assert sign_in_link("http://[fd00::1]:8080", "abc") == "http://[fd00::1]:8080/?token=abc"
