"""api.offline.check: the bundle, run under Node, answers 300 synthetic cases and the golden cases as the service does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from api import cli
from api.offline import check as offline_check
from api.offline.check import Checked, Difference, check, compare, report, verify_bundle
from discretion.errors import ConflictError
from discretion.rulebooks.tree import SHIPPED


def test_300_synthetic_cases_and_the_golden_cases_are_identical_under_node(offline_bundle: Path) -> None:
    """`discretion offline check DIR --cases 300`: every answer of the bundle (Pyodide under Node, no
    network) is byte for byte the service's, over all violation types, both regimes, lighter-law
    comparisons, exemptions and refused inputs; the report gives the figures."""
    x = check(offline_bundle, cases=300, log=lambda _line: None)
    assert x.synthetic == 300 and x.golden > 100
    assert x.identical == x.total, report(x)
    cov = x.coverage
    assert cov["violation_types"] == len(list((SHIPPED / "law" / "violations").glob("*.yaml")))
    assert cov["regime:pre2026"] > 0 and cov["regime:code2026"] > 0 and cov["lighter_law"] > 0
    assert cov["outcome:no_penalty"] > 0 and cov["discretionary_exemption"] > 0 and cov["outcome:time_barred"] > 0
    assert cov["kunming"] > 0 and cov["refused"] > 0
    assert x.node["cases"] == x.total and x.node["per_case_ms"]["p50"] > 0
    text = report(x)
    assert f"一致 {x.total:,}，不一致 0" in text


def test_a_difference_is_reported_with_its_fields() -> None:
    """Answers that differ are listed with the case and the first fields that differ; equal bytes count as identical."""
    raws = [b'{"violation": "a"}', b'{"violation": "b"}', b'{"violation": "c"}']
    served = [b'{"ok":true,"result":{"fine":{"recommended":1}}}', b'{"ok":true,"result":{"x":1}}', b'{"ok":false}']
    offline = [served[0], b'{"ok":true,"result":{"x":2}}', b"not json"]
    same, differences = compare(raws, offline, served)
    assert same == 1
    assert differences == [Difference(1, "b", ["result.x"]), Difference(2, "c", ["（整个回答）"])]


def test_the_command_exits_1_on_any_difference(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`discretion offline check` prints the report and exits 1 when any answer differs, 0 when none does."""
    differing = Checked(total=2, identical=1, differences=[Difference(0, "water_over_standard", ["fine.recommended"])])
    monkeypatch.setattr(offline_check, "check", lambda *a, **k: differing)
    assert cli.main(["offline", "check", "somewhere", "--cases", "1"]) == 1
    assert "不一致：第 1 个案例（water_over_standard）：fine.recommended" in capsys.readouterr().out
    monkeypatch.setattr(offline_check, "check", lambda *a, **k: Checked(total=2, identical=2))
    assert cli.main(["offline", "check", "somewhere"]) == 0


def test_an_altered_bundle_is_refused(offline_bundle: Path, tmp_path: Path) -> None:
    """A file changed after the build no longer has the manifest's sha256: the check refuses the bundle."""
    copy = tmp_path / "bundle"
    shutil.copytree(offline_bundle, copy)
    verify_bundle(copy)
    (copy / "rulebooks.json").write_bytes((copy / "rulebooks.json").read_bytes().replace("罚款".encode(), "罚金".encode(), 1))
    with pytest.raises(ConflictError) as err:
        verify_bundle(copy)
    assert err.value.code == "bundle_altered" and "rulebooks.json" in err.value.message


def test_a_bundle_of_another_rulebook_set_is_refused(offline_bundle: Path, tmp_path: Path) -> None:
    """The check compares with the service's current set: a bundle built from another set is refused, naming both hashes."""
    copy = tmp_path / "bundle"
    shutil.copytree(offline_bundle, copy)
    manifest = json.loads((copy / "manifest.json").read_bytes())
    manifest["bundle_hash"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ConflictError) as err:
        check(copy, cases=1, log=lambda _line: None)
    assert err.value.code == "bundle_rulebooks_differ"
