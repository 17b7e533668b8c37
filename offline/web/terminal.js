// The offline terminal's page: choose a violation type, fill in the case, read the result, keep it
// for upload. The engine (Pyodide, in engine.mjs) answers exactly what the service's engine answers;
// the service re-evaluates every uploaded result before it records it.

const OUTCOMES = { penalty: "予以处罚", no_penalty: "不予处罚", time_barred: "超过追责期限，不再给予行政处罚" };
const REGIMES = { pre2026: "单行法（2026年8月15日前）", code2026: "《生态环境法典》（2026年8月15日起）" };
const QUEUE = "discretion.offline.queue";
const STATUS = { draft: "草案", approved: "已审核（未发布）", published: "已发布" };

// --- the engine worker ----------------------------------------------------------------------------

const worker = new Worker(new URL("./engine.mjs", import.meta.url), { type: "module" });
const pending = new Map();
let nextId = 1;
worker.onmessage = (event) => {
  const { id, ok, value, error } = event.data;
  const p = pending.get(id);
  pending.delete(id);
  if (p) (ok ? p.resolve(value) : p.reject(new Error(error)));
};
function call(method, ...args) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, method, args });
  });
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("sw.js").catch((e) => setStatus("error", `无法安装离线缓存：${e.message}`));
}

// --- small helpers --------------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else if (k.startsWith("data-") || k === "name" || k === "type" || k === "for" || k === "role" || k === "title") e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}
function beijingToday() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}
function yuan(v) {
  if (v === null || v === undefined) return "不设上限";
  const text = `${v.toLocaleString("zh-CN")} 元`;
  return v >= 10000 ? `${text}（${(v / 10000).toLocaleString("zh-CN", { maximumFractionDigits: 4 })} 万元）` : text;
}
// A trail step's text as the service's pages show it (api/pages/rendering.step_text): the edition
// step without its key (the technical details name it), its status in Chinese.
function stepText(s) {
  let text = s.text;
  if (s.step === "edition" && s.rule) {
    text = text.replace(`（${s.rule}，`, "（");
    for (const [status, label] of Object.entries(STATUS)) text = text.replace(`未发布：${status}）`, `未发布：${label}）`);
  }
  return text;
}
function shortTime(iso) {  // 12-04 08:10, in Beijing time
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}
function setStatus(state, text) {
  const s = $("status");
  s.dataset.state = state;
  s.textContent = text;
}
function online() {
  return navigator.onLine ? "网络已连接" : "无网络（离线）";
}

// --- choosing a violation type -------------------------------------------------------------------

let engineReady = false;
let current = null; // the form shown: {code, form}

async function listViolations() {
  if (!engineReady) return;
  const on = $("on").value || beijingToday();
  const { text } = await call("violations", on, $("q").value.trim());
  const items = JSON.parse(text);
  $("count").textContent = `${on} 适用的违法行为 ${items.length} 类`;
  $("violations").replaceChildren(...items.map((v) => el("tr", {},
    el("td", {}, el("a", { href: `#case/${v.code}`, "data-code": v.code, text: v.title })),
    el("td", { class: "small", text: v.group_label || "" }))));
}

async function openForm(code) {
  const on = $("on").value || beijingToday();
  const { text } = await call("form", code, on, "yunnan");
  const form = JSON.parse(text);
  current = { code, form };
  $("case-title").textContent = form.title;
  $("case-basis").replaceChildren(...Object.entries(form.basis).map(([r, provs]) =>
    el("div", {}, el("strong", { text: `${REGIMES[r]}：` }), provs.join("；"))));
  const f = $("case-form");
  f.reset();
  f.elements.decision_date.value = on;
  $("facts").replaceChildren(...form.facts.filter((x) => !x.refines).map(factInput));
  $("circumstances").replaceChildren(...form.groups.map((g) => el("fieldset", { class: "circ" },
    el("legend", { text: `${g.label}情节` }),
    g.items.map((c) => el("label", { class: "check", title: c.basis.join("；") },
      el("input", { type: "checkbox", name: "circumstance", value: c.id }), ` ${c.label}`,
      c.basis.length ? el("span", { class: "law", text: c.basis.join("；") }) : el("span", { class: "law none", text: "本类违法行为无单独的法律或基准依据" }),
      c.hint ? el("span", { class: "hint", text: c.hint }) : null)))));
  $("form-error").hidden = true;
  show("case");
}

function factInput(f) {
  const name = `fact.${f.name}`;
  if (f.type === "bool") {
    return el("label", { class: "check" }, el("input", { type: "checkbox", name, value: "1" }), ` ${f.label}`,
      f.hint ? el("span", { class: "hint", text: f.hint }) : null);
  }
  const req = (f.required_in || []).map((r) => (r === "pre2026" ? "（2026年8月15日前的行为必填）" : "（2026年8月15日起作出决定的案件必填）")).join("");
  let input;
  if (f.type === "enum") {
    const options = f.options ? f.options.map(([value, label]) => ({ value, label })) : f.choices;
    input = el("select", { name }, el("option", { value: "", text: "（未查明）" }), options.map((c) => el("option", { value: c.value, text: c.label })));
  } else if (f.type === "date") {
    input = el("input", { type: "date", name });
  } else {
    input = el("span", { class: "unitinput" }, el("input", { name, inputMode: f.type === "text" ? "text" : "decimal", autocomplete: "off" }),
      f.unit ? el("span", { class: "unit", text: f.unit }) : null);
  }
  return el("label", { "data-fact": f.name }, f.label, req ? el("span", { class: "req", text: req }) : null, input,
    f.hint ? el("span", { class: "hint", text: f.hint }) : null, el("span", { class: "error", hidden: true }));
}

// --- the case as the service's assessment input ---------------------------------------------------

// The body of POST /v1/assessments, as JSON text. Numbers are written as typed (digits, one point),
// never through a JavaScript float, so the text the service re-evaluates is the text assessed here.
function requestText() {
  const f = $("case-form");
  const parts = [];
  const problems = [];
  const str = (v) => JSON.stringify(v);
  parts.push(`"violation":${str(current.code)}`);
  parts.push(`"jurisdiction":${str(f.elements.jurisdiction.value)}`);
  parts.push(`"party":${str(f.elements.party.value)}`);
  const facts = [];
  for (const fact of current.form.facts) {
    if (fact.refines) continue;
    const input = f.elements[`fact.${fact.name}`];
    if (!input) continue;
    if (fact.type === "bool") {
      if (input.checked) facts.push(`${str(fact.name)}:true`);
      continue;
    }
    const raw = input.value.trim().replace(/[,，]/g, "");
    if (!raw) continue;
    if (fact.type === "enum") {
      if (fact.refined_by && raw.includes(":")) {
        const [law, edition] = raw.split(":", 2);
        facts.push(`${str(fact.name)}:${str(law)}`, `${str(fact.refined_by)}:${str(edition)}`);
      } else facts.push(`${str(fact.name)}:${str(raw)}`);
    } else if (fact.type === "count") {
      if (!/^[0-9]+$/.test(raw)) problems.push([fact.name, "请填写整数"]);
      else facts.push(`${str(fact.name)}:${raw.replace(/^0+(?=\d)/, "")}`);
    } else if (fact.type === "money" || fact.type === "number") {
      if (!/^[0-9]+(\.[0-9]+)?$/.test(raw)) problems.push([fact.name, "请填写数字（金额以元为单位，不写“万”）"]);
      else facts.push(`${str(fact.name)}:${raw.replace(/^0+(?=\d)/, "")}`);
    } else facts.push(`${str(fact.name)}:${str(raw)}`);
  }
  parts.push(`"facts":{${facts.join(",")}}`);
  const circumstances = [...f.querySelectorAll("input[name=circumstance]:checked")].map((c) => c.value);
  parts.push(`"circumstances":${str(circumstances)}`);
  for (const key of ["violation_date", "violation_end_date", "discovered_date", "decision_date"]) {
    const v = f.elements[key].value;
    if (v) parts.push(`${str(key)}:${str(v)}`);
  }
  const caseParts = [];
  const number = f.elements["case.number"].value.trim();
  const partyName = f.elements["case.party.name"].value.trim();
  const location = f.elements["case.location"].value.trim();
  if (number) caseParts.push(`"number":${str(number)}`);
  if (partyName) caseParts.push(`"party":{"name":${str(partyName)},"kind":${str(f.elements.party.value)}}`);
  if (location) caseParts.push(`"location":${str(location)}`);
  if (caseParts.length) parts.push(`"case":{${caseParts.join(",")}}`);
  return { text: `{${parts.join(",")}}`, problems };
}

function showProblems(problems, message) {
  for (const span of $("facts").querySelectorAll(".error")) span.hidden = true;
  for (const [name, text] of problems) {
    const label = $("facts").querySelector(`[data-fact="${name}"]`);
    if (label) {
      const span = label.querySelector(".error");
      span.textContent = text;
      span.hidden = false;
    }
  }
  $("form-error").textContent = message;
  $("form-error").hidden = !message;
}

async function assess(event) {
  event.preventDefault();
  const { text, problems } = requestText();
  if (problems.length) return showProblems(problems, "请按提示修改标红的项目。");
  const f = $("case-form");
  if (!f.elements.violation_date.value || !f.elements.decision_date.value) return showProblems([], "请填写违法行为发生日期和决定日期。");
  const { text: answerText, ms } = await call("answer", text);
  const answer = JSON.parse(answerText);
  if (!answer.ok) {
    const e = answer.error;
    const fields = e.fields || [e.field];
    return showProblems(fields.filter((x) => x && x.startsWith("facts.")).map((x) => [x.slice(6), e.message]), e.message);
  }
  showProblems([], "");
  const resultText = answerText.slice(answerText.indexOf(',"result":') + 10, -1);
  const item = {
    key: crypto.randomUUID(), // the upload's Idempotency-Key: the same on every retry
    made_at: new Date().toISOString(),
    bundle_hash: bundleHash,
    result_sha256: answer.sha256,
    request: text,
    result: resultText,
    title: answer.result.violation.title,
    outcome: answer.result.outcome,
    recommended: answer.result.fine ? answer.result.fine.recommended : null,
    status: "待上传",
  };
  const queue = loadQueue();
  queue.unshift(item);
  saveQueue(queue);
  renderResult(answer.result, item, ms);
  show("result");
}

// --- the result, as the service's result page shows it ------------------------------------------

function fineTable(f) {
  return el("table", { class: "kv" },
    el("tr", {}, el("th", { text: "法定罚款幅度" }), el("td", { text: `${yuan(f.legal_min)} 至 ${yuan(f.legal_max)}` })),
    el("tr", {}, el("th", { text: "裁量档次" }), el("td", { text: `${yuan(f.band[0])} 至 ${yuan(f.band[1])}` })),
    el("tr", {}, el("th", { text: "建议罚款" }), el("td", { class: "amount", "data-testid": "recommended", text: yuan(f.recommended) })));
}

function renderResult(r, item, ms) {
  const out = [];
  out.push(el("p", { class: "notice offline-made", "data-testid": "offline-note",
    text: `离线计算于 ${new Date(item.made_at).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai" })}（北京时间），已保存待上传；计算用时 ${ms.toFixed(1)} 毫秒。` }));
  out.push(el("section", { class: `outcome ${r.outcome}` },
    el("h2", { "data-testid": "outcome", text: OUTCOMES[r.outcome] }),
    el("p", { text: r.violation.title }),
    el("p", { class: "small", text: `适用法律：${r.law.regime_title}；依据：${r.law.basis.map((b) => b.citation).join("、") || "—"}` })));
  if (r.fine) out.push(fineTable(r.fine));
  if (r.fine_if_punished) out.push(el("h3", { text: "决定给予处罚时" }), fineTable(r.fine_if_punished));
  if (r.individual_fines.length) {
    out.push(el("h3", { text: "对个人的罚款" }), el("table", { class: "list" },
      el("thead", {}, el("tr", {}, el("th", { text: "对象" }), el("th", { text: "法定幅度" }), el("th", { text: "建议" }))),
      el("tbody", {}, r.individual_fines.map((i) => el("tr", {}, el("td", { text: i.role }),
        el("td", { text: `${yuan(i.legal_min)} 至 ${yuan(i.legal_max)}` }), el("td", { text: i.recommended === null ? "—" : yuan(i.recommended) }))))));
  }
  if (r.measures.length) out.push(el("h3", { text: "措施" }), el("ul", {}, r.measures.map((m) => el("li", {}, m.text, " ", el("span", { class: "law", text: (m.basis || []).join("、") })))));
  if (r.flags.length) out.push(el("h3", { text: "提示" }), el("ul", { class: "flags" }, r.flags.map((f) => el("li", { "data-flag": f.id }, f.label, " ", el("span", { class: "law", text: (f.basis || []).join("、") })))));
  if (r.factors_defaulted.length) out.push(el("h3", { text: "按默认等级计算的裁量因子" }), el("ul", { class: "defaulted" }, r.factors_defaulted.map((d) => el("li", { text: `${d.label}：第${d.level}级（${d.level_label}）。${d.reason}` }))));
  if (r.circumstances_not_applied.length) out.push(el("h3", { text: "未予适用的情节" }), el("ul", { class: "not-applied" }, r.circumstances_not_applied.map((c) => el("li", { text: `${c.label}：${c.reason}` }))));
  const ll = r.law.lighter_law;
  if (ll) {
    out.push(el("h3", { text: "从旧兼从轻" }), el("p", { text: `${ll.reason}（${ll.basis.join("、")}）` }),
      el("div", { class: "side" }, ll.results.map((x) => el("div", { class: `regime ${x.regime === ll.applied ? "applied" : ""}`, "data-regime": x.regime },
        el("h4", { text: `${REGIMES[x.regime]}${x.regime === ll.applied ? "（适用）" : ""}` }),
        el("p", { text: OUTCOMES[x.outcome] }),
        x.fine ? el("p", { text: `法定幅度：${yuan(x.fine.legal_min)} 至 ${yuan(x.fine.legal_max)}；建议：${yuan(x.fine.recommended)}` }) : null,
        el("p", { class: "small", text: x.basis.map((b) => b.citation).join("、") })))));
  }
  out.push(el("h3", { text: "计算过程" }), el("table", { class: "list trail" },
    el("thead", {}, el("tr", {}, el("th", { text: "#" }), el("th", { text: "步骤" }), el("th", { text: "说明" }), el("th", { text: "法律依据" }))),
    el("tbody", {}, r.trail.map((s, i) => el("tr", {}, el("td", { text: String(i + 1) }), el("td", { text: s.label }), el("td", { text: stepText(s) }), el("td", { class: "small", text: s.basis.join("、") }))))));
  out.push(el("h3", { text: "说理" }), el("div", { class: "reasoning-box" }, el("textarea", { id: "reasoning", rows: 10, readOnly: true, value: r.reasoning })));
  out.push(el("details", { class: "tech" }, el("summary", { text: "技术信息" }),
    el("span", { text: `规则集 ${item.bundle_hash}；裁量基准 ${r.rulebook.key}（${r.rulebook.sha256}）；结果 sha256 ${item.result_sha256}` })));
  out.push(el("p", {}, el("a", { href: "#choose", text: "← 计算另一个案件" })));
  $("result").replaceChildren(...out);
  renderQueue();
}

// --- the queue of results to upload ---------------------------------------------------------------

function loadQueue() {
  try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch { return []; }
}
function saveQueue(q) {
  localStorage.setItem(QUEUE, JSON.stringify(q));
  renderQueue();
}
function renderQueue() {
  const q = loadQueue();
  const waiting = q.filter((x) => x.status !== "已上传").length;
  $("queue-count").textContent = waiting ? `（${waiting}）` : "";
  $("queue-rows").replaceChildren(...q.map((x) => el("tr", { "data-key": x.key },
    el("td", { class: "small when", title: new Date(x.made_at).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai" }), text: shortTime(x.made_at) }),
    el("td", { text: x.title }),
    el("td", { text: x.recommended === null ? OUTCOMES[x.outcome] : `${OUTCOMES[x.outcome]}，建议 ${yuan(x.recommended)}` }),
    el("td", { class: "small", "data-testid": "queue-status", text: x.status }))));
}

// The upload: the assessment input with the offline object; the service re-evaluates it with the
// rulebook set named by bundle_hash and records it only when its result is the same.
// The texts are spliced, not re-serialised: the service reads the very input and result assessed here.
function uploadBody(x) {
  const offline = `{"made_at":${JSON.stringify(x.made_at)},"bundle_hash":${JSON.stringify(x.bundle_hash)},` +
    `"result_sha256":${JSON.stringify(x.result_sha256)},"result":${x.result}}`;
  return `${x.request.slice(0, -1)},"offline":${offline}}`;
}

async function uploadAll() {
  const q = loadQueue();
  let done = 0;
  for (const x of q) {
    if (x.status === "已上传") continue;
    try {
      const r = await fetch("/v1/assessments", { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Idempotency-Key": x.key }, body: uploadBody(x) });
      const answer = await r.json().catch(() => ({}));
      if (r.status === 201 || r.status === 200) {
        x.status = "已上传";
        x.id = answer.id;
        done++;
      } else {
        x.status = `未上传：${answer.message || r.status}`;
      }
    } catch (e) {
      x.status = `未上传：无法连接服务（${online()}）`;
    }
  }
  saveQueue(q);
  $("upload-status").textContent = `已上传 ${done} 件。`;
}

function exportQueue() {
  const q = loadQueue().filter((x) => x.status !== "已上传");
  const blob = new Blob([JSON.stringify(q.map((x) => ({ idempotency_key: x.key, body: JSON.parse(uploadBody(x)) })), null, 1)], { type: "application/json" });
  const a = el("a", { href: URL.createObjectURL(blob), download: `离线计算-${beijingToday()}.json` });
  document.body.append(a);
  a.click();
  a.remove();
}

// --- navigation -----------------------------------------------------------------------------------

function show(which) {
  for (const id of ["choose", "case", "result"]) $(id).hidden = id !== which;
}
window.addEventListener("hashchange", () => {
  const h = location.hash;
  if (h.startsWith("#case/")) openForm(h.slice(6)).catch((e) => setStatus("error", e.message));
  else if (h === "#choose" || h === "") show("choose");
});
window.addEventListener("online", () => setStatus("ready", `${readyText} · ${online()}`));
window.addEventListener("offline", () => setStatus("ready", `${readyText} · ${online()}`));

let bundleHash = null;
let readyText = "";
$("on").value = beijingToday();
$("search").addEventListener("input", () => listViolations().catch((e) => setStatus("error", e.message)));
$("search").addEventListener("submit", (e) => e.preventDefault());
$("case-form").addEventListener("submit", (e) => assess(e).catch((err) => showProblems([], `计算失败：${err.message}`)));
$("upload").addEventListener("click", () => uploadAll());
$("export").addEventListener("click", exportQueue);
renderQueue();

call("ready").then((info) => {
  engineReady = true;
  bundleHash = info.bundleHash;
  readyText = `计算引擎已就绪，可离线使用（加载 ${(info.times.total_ms / 1000).toFixed(1)} 秒）`;
  document.body.dataset.engine = "ready";
  document.body.dataset.loadMs = String(Math.round(info.times.total_ms));
  document.body.dataset.readyMs = String(Math.round(performance.now())); // since the page's navigation began
  document.body.dataset.times = JSON.stringify(info.times);
  setStatus("ready", `${readyText} · ${online()}`);
  return listViolations();
}).then(() => {
  if (location.hash.startsWith("#case/")) return openForm(location.hash.slice(6));
  return null;
}).catch((e) => setStatus("error", `计算引擎无法启动：${e.message}`));
