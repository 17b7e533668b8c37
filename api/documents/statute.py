"""The statutory sentences the documents print: the party's rights, payment, the surcharge, and the
ways and time limits of review and suit. Each is written from the article quoted above it
(texts: /work/shared/reference/laws/行政处罚法(2021-01-22).md; 行政复议法 as revised 2023-09-01 and
行政诉讼法 as amended 2017-06-27 from github.com/LawRefBook/Laws; docs/documents.md quotes them all).
``{you}`` is 你单位 or 你 (the party addressed)."""

from __future__ import annotations

PENALTY_LAW = "《中华人民共和国行政处罚法》"

# 行政处罚法第四十四条：“行政机关在作出行政处罚决定之前，应当告知当事人拟作出的行政处罚内容及事实、
# 理由、依据，并告知当事人依法享有的陈述、申辩、要求听证等权利。”
# 第四十五条：“当事人有权进行陈述和申辩。行政机关必须充分听取当事人的意见，对当事人提出的事实、理由
# 和证据，应当进行复核；当事人提出的事实、理由或者证据成立的，行政机关应当采纳。
# 行政机关不得因当事人陈述、申辩而给予更重的处罚。”
NOTICE_OPENING = ("根据{law}第四十四条的规定，现将本机关拟对{you}作出的行政处罚内容及事实、理由、依据告知如下。")
STATEMENT_RIGHTS = (
    "根据{law}第四十四条、第四十五条的规定，{you}有权进行陈述和申辩。本机关必须充分听取{you}的意见，"
    "对{you}提出的事实、理由和证据进行复核；{you}提出的事实、理由或者证据成立的，本机关应当采纳。"
    "本机关不得因{you}陈述、申辩而给予更重的处罚。"
)

# 第六十三条第一款：“行政机关拟作出下列行政处罚决定，应当告知当事人有要求听证的权利，当事人要求听证的，
# 行政机关应当组织听证：（一）较大数额罚款；……” 第二款：“当事人不承担行政机关组织听证的费用。”
# 第六十四条第一项：“当事人要求听证的，应当在行政机关告知后五日内提出”
HEARING_RIGHT = (
    "根据{law}第六十三条、第六十四条第一项的规定，{you}有要求听证的权利；要求听证的，"
    "应当在本机关告知后五日内提出。{you}不承担本机关组织听证的费用。"
)

# 第六十七条第三款：“当事人应当自收到行政处罚决定书之日起十五日内，到指定的银行或者通过电子支付系统
# 缴纳罚款。银行应当收受罚款，并将罚款直接上缴国库。”
PAYMENT = ("{you}应当自收到本决定书之日起十五日内，到指定的银行或者通过电子支付系统缴纳罚款"
           "（{law}第六十七条第三款）。")

# 第七十二条第一款第一项：“到期不缴纳罚款的，每日按罚款数额的百分之三加处罚款，加处罚款的数额不得超出
# 罚款的数额”
SURCHARGE = ("到期不缴纳罚款的，本机关可以每日按罚款数额的百分之三加处罚款，加处罚款的数额不得超出罚款的数额"
             "（{law}第七十二条第一款第一项）。")

# 《中华人民共和国行政复议法》（2023年9月1日修订）第二十条第一款：“公民、法人或者其他组织认为行政行为
# 侵犯其合法权益的，可以自知道或者应当知道该行政行为之日起六十日内提出行政复议申请；但是法律规定的申请
# 期限超过六十日的除外。”
# 《中华人民共和国行政诉讼法》第四十六条第一款：“公民、法人或者其他组织直接向人民法院提起诉讼的，应当
# 自知道或者应当知道作出行政行为之日起六个月内提出。法律另有规定的除外。”
# (行政复议法第二十四条第一款第一项: a department's act is reviewed by the people's government at its
# level; 行政诉讼法第十八条第一款: the court where the acting body sits. The bodies are settings.)
REMEDIES = (
    "{you}如不服本决定，可以自收到本决定书之日起六十日内向{review_body}申请行政复议"
    "（《中华人民共和国行政复议法》第二十条第一款），也可以自收到本决定书之日起六个月内向{court}"
    "提起行政诉讼（《中华人民共和国行政诉讼法》第四十六条第一款）。"
)
REVIEW_BODY_UNNAMED = "有管辖权的行政复议机关"
COURT_UNNAMED = "有管辖权的人民法院"

# 第七十三条第一款：“当事人对行政处罚决定不服，申请行政复议或者提起行政诉讼的，行政处罚不停止执行，
# 法律另有规定的除外。” 第三款：“当事人申请行政复议或者提起行政诉讼的，加处罚款的数额在行政复议或者
# 行政诉讼期间不予计算。”
NOT_SUSPENDED = ("申请行政复议或者提起行政诉讼的，本决定不停止执行，法律另有规定的除外；"
                 "加处罚款的数额在行政复议或者行政诉讼期间不予计算（{law}第七十三条第一款、第三款）。")


def say(template: str, you: str, **more: str) -> str:
    """A sentence above with the party addressed and the law's name filled in."""
    return template.format(you=you, law=PENALTY_LAW, **more)
