"""What `appliance-sim fidelity` found the fake API answering differently from kube-apiserver v1.37
(issue 13), each fixed and kept so here without a control plane."""

from __future__ import annotations

from simulator.api.discovery import version_info


def test_version_reports_emulation_and_compatibility_since_1_33() -> None:
    """kube-apiserver 1.33+ emulates its own version and stays compatible with the one before;
    the field's 1.31 appliance reported neither."""
    info = version_info("v1.37.2")
    assert (info["emulationMajor"], info["emulationMinor"]) == ("1", "37")
    assert (info["minCompatibilityMajor"], info["minCompatibilityMinor"]) == ("1", "36")
    assert list(info)[:6] == [
        "major",
        "minor",
        "emulationMajor",
        "emulationMinor",
        "minCompatibilityMajor",
        "minCompatibilityMinor",
    ]
    assert "emulationMajor" not in version_info("v1.31.4")
