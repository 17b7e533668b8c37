"""``discretion offline check DIR [--cases N]``: the bundle answers, byte for byte, what the service answers.

The inputs: ``N`` synthetic cases (:mod:`discretion.review.synth`: every violation type, both
regimes, lighter-law comparisons, exemptions, continuing acts, Kunming) and the golden cases of the
rulebook tree that name their decision date. Each input goes, as the JSON text of ``POST
/v1/assessments``, to the bundle's engine under Node (``node-check.mjs``: Pyodide loaded from the
bundle, network calls disabled) and through the service's own path (``parse_body``, ``to_case``,
the durable_rules engine of the YAML set, ``to_json``); the two answers (the result with its sha256,
or the error) are compared as bytes. The bundle's files are checked against its manifest first, and
its rulebook set must be the one the service loads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from discretion.engine.assessment import Engine
from discretion.errors import ConflictError, DiscretionError, InputError
from discretion.review import golden, synth
from discretion.rulebooks import tree

from ..clock import today
from ..routes.assessments import parse_body, to_case, with_case
from ..storage.records import diff
from ..storage.rows import dumps

MAX_CASES = 1_000_000
SHOWN = 20  # differing cases listed in the report


@dataclass
class Difference:
    index: int
    label: str
    paths: list[str]


@dataclass
class Checked:
    total: int = 0
    identical: int = 0
    synthetic: int = 0
    golden: int = 0
    differences: list[Difference] = field(default_factory=list)
    coverage: dict[str, Any] = field(default_factory=dict)
    node: dict[str, Any] = field(default_factory=dict)  # node-check.mjs's summary: start-up, per-case times, memory
    service_ms_per_case: float = 0.0
    seconds: float = 0.0


def service_answer(engine: Engine, raw: bytes) -> bytes:
    """What ``POST /v1/assessments`` computes for the body ``raw`` (its result without the stored id),
    in the terminal's envelope (:meth:`discretion.engine.offline.Terminal.assess`)."""
    try:
        result = engine.assess(to_case(with_case(parse_body(raw, "application/json")))).to_json()
    except DiscretionError as exc:
        error: dict[str, Any] = exc.to_dict()
        if getattr(exc, "fields", None):
            error["fields"] = list(exc.fields)  # type: ignore[attr-defined]
        return json.dumps({"ok": False, "error": error}, ensure_ascii=False).encode("utf-8")
    return b'{"ok":true,"sha256":"' + hashlib.sha256(result).hexdigest().encode("ascii") + b'","result":' + result + b"}"


def verify_bundle(bundle: Path) -> dict[str, Any]:
    """The bundle's manifest, once every file it lists is present with its sha256 (ConflictError otherwise)."""
    path = bundle / "manifest.json"
    if not path.is_file():
        raise InputError(message=f"{bundle} 不是离线包目录（没有 manifest.json）", field="dir")
    manifest: dict[str, Any] = json.loads(path.read_bytes())
    bad = [name for name, f in manifest["files"].items()
           if not (bundle / name).is_file() or hashlib.sha256((bundle / name).read_bytes()).hexdigest() != f["sha256"]]
    if bad:
        raise ConflictError(message=f"离线包的文件缺失或被改动：{'、'.join(bad[:10])}", code="bundle_altered", field="dir")
    return manifest


def inputs(engine: Engine, n: int, seed: int, day: dt.date) -> tuple[list[bytes], int]:
    """The assessment inputs as JSON text: the golden cases that name their decision date and no act
    after ``day``, then ``n`` synthetic cases. Returns them and how many are golden."""
    out: list[bytes] = []
    for loaded in golden.load_cases():
        raw = loaded.case.input
        if "original_fine" in raw or raw.get("edition") or not raw.get("decision_date"):
            continue
        dates = [str(raw.get(k)) for k in ("violation_date", "violation_end_date", "discovered_date") if raw.get(k)]
        if any(d > day.isoformat() for d in dates):
            continue
        out.append(json.dumps(raw, ensure_ascii=False, default=float).encode("utf-8"))  # a YAML decimal as a JSON number
    goldens = len(out)
    # decimals as JSON numbers (as a terminal sends them), not as the strings pydantic's JSON would write
    out += [dumps(c.model_dump()) for c in synth.generate(engine.rulebooks, engine.compiled, n, seed, today=day)]
    return out, goldens


def check(bundle: Path, *, cases: int, seed: int = 18, root: Path | None = None,
          log: Callable[[str], None] = print) -> Checked:
    started = time.monotonic()
    if not 1 <= cases <= MAX_CASES:
        raise InputError(message=f"--cases 须在 1 至 {MAX_CASES:,} 之间", field="cases")
    bundle = bundle.resolve()
    manifest = verify_bundle(bundle)
    source = tree.source_hash(tree.source_files(root))
    if manifest["bundle_hash"] != source:
        raise ConflictError(message=f"离线包的规则集（{manifest['bundle_hash'][:16]}…）不是服务端当前的规则集（{source[:16]}…），"
                                    "请用当前规则集重新构建离线包", code="bundle_rulebooks_differ", field="dir")
    node = shutil.which("node")
    if node is None:
        raise DiscretionError(message="找不到 node：离线检查在 Node.js 中运行离线包", code="node_missing", field="node")
    engine = Engine(tree.load(root), "durable")
    raws, goldens = inputs(engine, cases, seed, today())
    out = Checked(total=len(raws), synthetic=len(raws) - goldens, golden=goldens)
    log(f"在 Node 中用离线包计算 {len(raws):,} 个案例……")
    with tempfile.TemporaryDirectory(prefix="discretion-offline-check-") as tmp:
        cases_file, answers_file = Path(tmp) / "cases.jsonl", Path(tmp) / "answers.jsonl"
        cases_file.write_bytes(b"\n".join(raws) + b"\n")
        r = subprocess.run([node, "--expose-gc", str(bundle / "node-check.mjs"), str(cases_file), str(answers_file)],
                           cwd=bundle, capture_output=True, text=True)
        if r.returncode != 0:
            raise DiscretionError(message=f"离线包在 Node 中运行失败：{(r.stderr or r.stdout).strip()[-2000:]}",
                                  code="offline_check_failed", field="dir")
        out.node = json.loads(r.stdout.strip().splitlines()[-1])
        offline = answers_file.read_bytes().split(b"\n")[: len(raws)]
    log("用服务端引擎计算同样的案例并逐字节比较……")
    t = time.perf_counter()
    served = [service_answer(engine, raw) for raw in raws]
    out.service_ms_per_case = (time.perf_counter() - t) * 1000 / len(raws)
    out.identical, out.differences = compare(raws, offline, served)
    out.coverage = coverage(served, raws)
    out.seconds = time.monotonic() - started
    return out


def compare(raws: list[bytes], offline: list[bytes], served: list[bytes]) -> tuple[int, list[Difference]]:
    """How many answers are the same bytes, and each one that is not, with the first fields that differ."""
    same, differences = 0, []
    for i, raw in enumerate(raws):
        mine = offline[i] if i < len(offline) else b""
        theirs = served[i]
        if mine == theirs:
            same += 1
            continue
        try:
            paths = [d["path"] for d in diff(json.loads(theirs), json.loads(mine))][:5]
        except ValueError:  # not JSON at all: the whole answer differs
            paths = []
        differences.append(Difference(i, str(json.loads(raw).get("violation", "?")), paths or ["（整个回答）"]))
    return same, differences


def coverage(answers: list[bytes], raws: list[bytes]) -> dict[str, Any]:
    """What the inputs exercised, read from the service's answers."""
    c: Counter[str] = Counter()
    types = set()
    for raw, answer in zip(raws, answers):
        a = json.loads(answer)
        if not a["ok"]:
            c["refused"] += 1
            c[f"refused:{a['error']['code']}"] += 1
            continue
        r = a["result"]
        types.add(r["violation"]["code"])
        c[f"outcome:{r['outcome']}"] += 1
        c[f"regime:{r['law']['regime']}"] += 1
        if r["law"]["lighter_law"]:
            c["lighter_law"] += 1
        if r.get("fine_if_punished"):
            c["discretionary_exemption"] += 1
        if json.loads(raw).get("jurisdiction", "yunnan") != "yunnan":
            c["kunming"] += 1
    return {"violation_types": len(types), **dict(sorted(c.items()))}


def report(x: Checked) -> str:
    cov, node = x.coverage, x.node
    per, prep = node.get("per_case_ms", {}), node.get("per_case_prepared_ms", {})
    refusals = sorted(((k, v) for k, v in cov.items() if k.startswith("refused:")), key=lambda kv: -kv[1])
    lines = [
        f"离线检查：{x.total:,} 个案例（合成 {x.synthetic:,} 个，黄金案例 {x.golden:,} 个），一致 {x.identical:,}，不一致 {x.total - x.identical:,}",
        f"覆盖：{cov.get('violation_types', 0)} 类违法行为；适用单行法 {cov.get('regime:pre2026', 0):,}、法典 {cov.get('regime:code2026', 0):,}；"
        f"从旧兼从轻比较 {cov.get('lighter_law', 0):,}；予以处罚 {cov.get('outcome:penalty', 0):,}、不予处罚 {cov.get('outcome:no_penalty', 0):,}"
        f"（其中可以不予处罚 {cov.get('discretionary_exemption', 0):,}）、超过追责期限 {cov.get('outcome:time_barred', 0):,}；"
        f"昆明 {cov.get('kunming', 0):,}；拒绝的输入 {cov.get('refused', 0):,}"
        + (f"（{'、'.join(f'{k[8:]} {v:,}' for k, v in refusals)}）" if refusals else ""),
        f"离线包（Node {node.get('node', '?')} 中的 Pyodide {node.get('pyodide', '?')}）：启动 {node.get('startup_ms', 0) / 1000:.1f} 秒；每个案例平均 {per.get('mean', 0):.2f} 毫秒"
        f"（中位 {per.get('p50', 0):.2f}，p99 {per.get('p99', 0):.2f}，最长 {per.get('max', 0):.1f}）；"
        f"已准备好的案例（第二遍，至多 1,000 个）每个平均 {prep.get('mean', 0):.2f} 毫秒（中位 {prep.get('p50', 0):.2f}，p99 {prep.get('p99', 0):.2f}）；"
        f"内存 RSS {node.get('rss_bytes', 0) / 1e6:.0f} MB（WebAssembly 堆 {node.get('wasm_heap_bytes', 0) / 1e6:.0f} MB）",
        f"服务端引擎：每个案例平均 {x.service_ms_per_case:.2f} 毫秒；检查共用时 {x.seconds:.1f} 秒",
    ]
    for d in x.differences[:SHOWN]:
        lines.append(f"不一致：第 {d.index + 1} 个案例（{d.label}）：{'、'.join(d.paths)}")
    if len(x.differences) > SHOWN:
        lines.append(f"……另有 {len(x.differences) - SHOWN} 个不一致的案例")
    return "\n".join(lines)
