"""The reviewers' pages (api.pages.review): /review lists the editions, /review/diff shows a diff."""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import Principal
from discretion.review import diff
from discretion.rulebooks.loaded import RulebookSet


def text_of(page: str) -> str:
    """The visible text of an HTML page, tags dropped and entities decoded, whitespace collapsed."""
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", page)))


def as_role(app: FastAPI, role: str) -> Callable[..., Any]:
    """The app as seen by a caller with ``role`` (the principal the access layer would set)."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["principal"] = Principal(name="张三", role=role, via="token")
        await app(scope, receive, send)

    return wrapped


def test_review_index_lists_editions_with_status_approval_and_changelog(client: TestClient) -> None:
    """Every edition appears with its status, reviewer, dates and changelog (types and dates affected)."""
    r = client.get("/review")
    assert r.status_code == 200
    text = text_of(r.text)
    for key in ("yunnan@2021", "yunnan@2023", "yunnan@2026-draft", "yunnan/kunming@2021"):
        assert key in text
    assert "已发布" in text and "草案" in text and "尚未审核" in text
    assert "云南省生态环境厅法制审核（示例）" in text and "审核内容 与现有内容一致" in text
    assert "全部违法行为" in text and "2024-02-02 起" in text
    assert "建设项目环境影响报告书、报告表未依法报批或者未经批准" in text  # a changelog names its types by title


def test_review_index_links_the_diff_against_the_previous_edition_and_the_replay(client: TestClient) -> None:
    """Each edition links to its diff against the edition it follows; the page links to the replay."""
    page = client.get("/review").text
    assert 'href="/review/diff?a=yunnan%402023&amp;b=yunnan%402026-draft"' in page
    assert 'href="/review/diff?a=yunnan%402021&amp;b=yunnan/kunming%402021"' in page
    assert 'href="/review/replay"' in page


def test_review_diff_page_shows_both_sides_with_quoted_provisions(client: TestClient, rulebooks: RulebookSet) -> None:
    """The diff page names both editions and their law, and quotes the provisions of both sides."""
    r = client.get("/review/diff", params={"a": "yunnan@2023", "b": "yunnan@2026-draft"})
    assert r.status_code == 200
    text = text_of(r.text)
    assert "原版本 A" in text and "新版本 B" in text
    assert "单行法" in text and "《中华人民共和国生态环境法典》（2026年8月15日起施行）" in text
    joined = text.replace(" ", "")
    assert "《中华人民共和国水污染防治法》第八十三条第二项：“违反本法规定" in joined
    assert "《中华人民共和国生态环境法典》第一千一百零七条：“违反本法规定，超过污染物排放标准" in joined
    d = diff.compare("yunnan@2023", "yunnan@2026-draft", rulebooks)
    assert d.unchanged and len(d.violations) + len(d.unchanged) == len(rulebooks.violations)
    assert "一、全局变化（影响全部违法行为）" in text and f"{len(d.violations)} 类有变化，{len(d.unchanged)} 类无变化" in text


def test_review_diff_of_an_edition_with_itself_says_there_is_no_difference(client: TestClient) -> None:
    """No difference is said in words."""
    r = client.get("/review/diff", params={"a": "yunnan@2021", "b": "yunnan@2021"})
    assert r.status_code == 200 and "两个版本没有实质差异" in text_of(r.text)


def test_review_diff_with_one_regime_for_both_sides(client: TestClient) -> None:
    """regime=code2026 reads both editions under the Code: no statutory change is left."""
    r = client.get("/review/diff", params={"a": "yunnan@2023", "b": "yunnan@2026-draft", "regime": "code2026"})
    assert r.status_code == 200
    assert "法定罚款" not in text_of(r.text).split("一、全局变化")[1]


def test_review_diff_never_reads_a_file_path(client: TestClient) -> None:
    """The web names editions by key only: a path is an unknown edition (404), not a file read."""
    r = client.get("/review/diff", params={"a": "yunnan@2023", "b": "rulebooks/yunnan/code-draft.yaml"},
                   headers={"accept": "text/html"})
    assert r.status_code == 404 and "未知的裁量基准版本" in r.text


def test_review_diff_with_an_unknown_regime_is_422(client: TestClient) -> None:
    """A regime that does not exist is bad input, answered with the one error shape."""
    r = client.get("/review/diff", params={"a": "yunnan@2023", "b": "yunnan@2023", "regime": "code2030"})
    assert r.status_code == 422 and r.json()["field"] == "regime"


def test_review_pages_are_forbidden_to_case_handlers(app: FastAPI, client: TestClient) -> None:
    """A handler gets 403 on both review pages; a reviewer gets them."""
    handler = TestClient(as_role(app, "handler"), raise_server_exceptions=False)
    for url in ("/review", "/review/diff?a=yunnan@2023&b=yunnan@2021"):
        r = handler.get(url)
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    reviewer = TestClient(as_role(app, "reviewer"), raise_server_exceptions=False)
    assert reviewer.get("/review").status_code == 200
