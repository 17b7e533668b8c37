"""examples/case.json, the README tour's case file, is a valid assessment input for the API and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.cli import main

CASE = Path(__file__).resolve().parent.parent / "examples" / "case.json"


def test_the_example_case_is_assessed_by_the_api(client: TestClient) -> None:
    """POST /v1/assessments with examples/case.json answers 201 with a recommended fine."""
    r = client.post("/v1/assessments", json=json.loads(CASE.read_text(encoding="utf-8")))
    assert r.status_code == 201, r.text
    assert r.json()["outcome"] == "penalty" and r.json()["fine"]["recommended"] == 136000


def test_the_example_case_is_assessed_by_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    """`discretion assess --input examples/case.json` exits 0 and states the recommended fine, in text and JSON."""
    assert main(["assess", "--input", str(CASE)]) == 0
    assert "建议罚款：136000元（13.6万元）" in capsys.readouterr().out
    assert main(["assess", "--input", str(CASE), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["fine"]["recommended"] == 136000
