"""What a diff is: the two sides (:class:`Side`), each difference with both sides' legal text
(:class:`Change`), grouped edition-wide and per violation type (:class:`EditionDiff`, which
``to_dict`` turns into JSON), and the Chinese labels of kinds, areas and fields."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

KIND_LABELS = {"added": "新增", "removed": "删除", "changed": "修改"}
FACT_TYPE_LABELS = {"money": "金额（元）", "count": "数量", "number": "数值", "bool": "是否", "enum": "选项", "date": "日期"}
AREA_LABELS = {
    "edition": "版本信息",
    "fact": "事实定义",
    "formula": "计算公式",
    "common_factor": "共性裁量因子",
    "factor": "个性裁量因子",
    "level": "因子等级",
    "position": "位置窗口",
    "adjustment": "从轻、从重",
    "reduction": "减轻",
    "exemption": "免罚清单",
    "rounding": "取整",
    "thresholds": "程序金额",
    "statutory": "法定罚款",
    "from_law": "读取法律层事实",
    "contradiction": "相互矛盾的输入",
}
FIELD_LABELS = {
    "title": "标题", "issuer": "发布机关", "document": "文件", "author": "起草人", "effective_from": "施行日期",
    "effective_to": "失效日期", "parent": "上级版本", "label": "名称", "type": "类型", "unit": "单位",
    "choices": "取值", "min": "最小值", "max": "最大值", "kind": "类别", "individual_weight": "个性因子权重",
    "bands": "档次数", "weight": "权重", "when": "条件", "min_position": "位置下限", "max_position": "位置上限",
    "circumstance": "情节", "direction": "方向", "points": "幅度（百分点）", "basis": "依据",
    "floor_ratio": "最低为法定最低额的比例", "ratio": "建议为法定最低额的比例", "step": "取整单位", "mode": "取整方式",
    "hearing_unit": "听证告知金额（单位）", "hearing_individual": "听证告知金额（个人）",
    "collective_discussion": "集体讨论金额", "legal_review": "法制审核金额", "regime": "适用法律及罚则",
    "fine": "罚款", "individual_fines": "对个人罚款", "escalations": "加重情形",
    "values": "法律层取值对应的本基准取值", "exceeds": "不得大于", "reason": "理由",
}


@dataclass(frozen=True)
class Quote:
    """A quoted legal provision: its citation and text."""

    citation: str
    text: str


@dataclass(frozen=True)
class Side:
    """One of the two editions compared."""

    key: str
    title: str
    file: str
    status: str
    status_label: str
    effective_from: str
    effective_to: str | None
    regime: str
    regime_title: str
    author: str
    reviewer: str | None
    approved_on: str | None
    published_on: str | None
    content_sha256: str
    benchmark_basis: Quote  # the basis of benchmarks under this side's law (行政处罚法第三十四条)


@dataclass(frozen=True)
class Change:
    """One difference: what (area, item, field), both sides' values and both sides' legal text."""

    kind: str  # added | removed | changed
    area: str  # a key of AREA_LABELS
    item: str  # the id it is matched by, e.g. "build_stage", "build_stage/3", "ex-hw-label" (pages show it apart, muted)
    label: str  # Chinese: what the item is, without identifiers
    field: str | None  # the attribute that changed; None for an item added or removed whole
    a: str | None  # side A's value as a lawyer reads it (None: absent)
    b: str | None
    a_value: Any  # side A's value as data (JSON)
    b_value: Any
    basis_a: tuple[Quote, ...] = ()
    basis_b: tuple[Quote, ...] = ()
    note: str | None = None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def area_label(self) -> str:
        return AREA_LABELS[self.area]

    @property
    def field_label(self) -> str | None:
        return FIELD_LABELS.get(self.field, self.field) if self.field else None


@dataclass(frozen=True)
class ViolationDiff:
    code: str
    title: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class EditionDiff:
    a: Side
    b: Side
    general: tuple[Change, ...]  # edition-wide: they affect every violation type
    violations: tuple[ViolationDiff, ...]  # per violation type, only those with changes
    unchanged: tuple[ViolationDiff, ...]  # violation types without any change of their own (no changes)

    @property
    def same(self) -> bool:
        return not self.general and not self.violations

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for group in [out["general"]] + [v["changes"] for v in out["violations"]]:
            for c in group:
                c["kind_label"] = KIND_LABELS[c["kind"]]
                c["area_label"] = AREA_LABELS[c["area"]]
                c["field_label"] = FIELD_LABELS.get(c["field"], c["field"]) if c["field"] else None
        return out
