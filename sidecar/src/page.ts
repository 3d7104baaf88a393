// The live page: HTML, CSS and a script that polls api/status. Everything is served by the sidecar
// itself (no CDN), and every URL is relative, so it works behind `kubectl port-forward` or a proxy path.

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>crashy sidecar: liveness probe</title>
<style>
  :root { --ok: #1a7f37; --fail: #cf222e; --unknown: #8c959f; --restart: #0969da; --fg: #1f2328; --muted: #59636e; }
  body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); margin: 0; padding: 24px 32px; background: #f6f8fa; }
  h1 { font-size: 18px; margin: 0 0 4px; }
  .muted { color: var(--muted); }
  #verdict { font-size: 44px; font-weight: 700; margin: 18px 0 4px; }
  #verdict[data-verdict="healthy"] { color: var(--ok); }
  #verdict[data-verdict="unhealthy"] { color: var(--fail); }
  #countdown { font-size: 20px; margin-bottom: 16px; }
  .card { background: #fff; border: 1px solid #d1d9e0; border-radius: 8px; padding: 14px 16px; margin: 12px 0; }
  .meter { display: flex; gap: 6px; margin-top: 6px; }
  .meter span { width: 26px; height: 14px; border-radius: 3px; background: #d1d9e0; }
  .meter span.on { background: var(--fail); }
  svg { width: 100%; height: 96px; display: block; }
  .legend span { margin-right: 16px; }
  .dot { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  td, th { text-align: left; padding: 3px 8px 3px 0; vertical-align: top; }
  th { color: var(--muted); font-weight: 600; }
  .Warning { color: var(--fail); }
  #stale { color: var(--fail); display: none; }
  .numbers span { margin-right: 20px; }
</style>
</head>
<body>
<h1>Liveness probe of <span id="container">the app</span> <span class="muted" id="target"></span></h1>
<div class="muted" id="spec"></div>
<div id="stale">The sidecar does not answer: showing the last data received.</div>
<div id="verdict" data-verdict="unknown">waiting for the first probe</div>
<div id="countdown"></div>
<div class="card">
  <div>Failures in a row, toward the failure threshold (<span id="threshold"></span>):</div>
  <div class="meter" id="meter"></div>
</div>
<div class="card">
  <div class="legend muted">
    <span><i class="dot" style="background:var(--ok)"></i>probe succeeded</span>
    <span><i class="dot" style="background:var(--fail)"></i>probe failed</span>
    <span><i class="dot" style="background:var(--unknown)"></i>probe errored</span>
    <span><i class="dot" style="background:var(--restart)"></i>app restarted</span>
    <span>&#9650; failure threshold reached</span>
  </div>
  <svg id="timeline" role="img" aria-label="timeline of probe outcomes"></svg>
  <div class="muted" id="span"></div>
</div>
<div class="card numbers" id="numbers"></div>
<div class="card">
  <table><thead><tr><th>when</th><th>type</th><th>reason</th><th>message</th></tr></thead><tbody id="events"></tbody></table>
</div>
<script src="page.js"></script>
</body>
</html>
`;

export const PAGE_SCRIPT = `"use strict";
const SVG = "http://www.w3.org/2000/svg";
const byId = (id) => document.getElementById(id);
const plural = (n, word) => n + " " + word + (n === 1 ? "" : "s");
function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? s + "s" : s < 3600 ? Math.floor(s / 60) + "m" + (s % 60) + "s" : Math.floor(s / 3600) + "h";
}
function el(name, attrs, text) {
  const node = name.startsWith("svg:") ? document.createElementNS(SVG, name.slice(4)) : document.createElement(name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}
function render(s) {
  const c = s.config, v = s.verdict;
  byId("container").textContent = c.containerName;
  byId("target").textContent = "(" + c.probeUrl + ")";
  byId("spec").textContent = "period " + c.periodSeconds + " s, timeout " + c.timeoutSeconds + " s, failure threshold " +
    c.failureThreshold + ", success threshold " + c.successThreshold + ", initial delay " + c.initialDelaySeconds + " s";
  const verdict = byId("verdict");
  if (s.counters.probes === 0) {
    verdict.dataset.verdict = "unknown";
    verdict.textContent = "waiting for the first probe";
  } else {
    verdict.dataset.verdict = v.healthy ? "healthy" : "unhealthy";
    verdict.textContent = v.text;
  }
  byId("countdown").textContent = v.healthy
    ? "would be restarted in " + plural(v.probesUntilRestart, "failed probe")
    : "restart requested; healthy again after " + plural(c.successThreshold, "successful probe") + " in a row";
  byId("threshold").textContent = c.failureThreshold;
  const meter = byId("meter");
  meter.replaceChildren();
  for (let i = 0; i < c.failureThreshold; i++) meter.append(el("span", { class: i < Math.min(v.consecutiveFailures, c.failureThreshold) ? "on" : "" }));
  drawTimeline(s);
  const n = s.counters;
  byId("numbers").replaceChildren(
    el("span", {}, plural(n.successful, "successful probe")),
    el("span", {}, plural(n.failed, "failed probe")),
    el("span", {}, n.unknown + " errored"),
    el("span", { id: "restarts" }, plural(n.restarts, "restart") + " seen"),
    el("span", {}, s.scrape.enabled ? "app metrics: " + (s.scrape.up ? "up" : "down" + (s.scrape.error ? " (" + s.scrape.error + ")" : "")) : "app metrics: not scraped"),
  );
  const rows = s.events.slice(-12).reverse().map((e) => {
    const row = el("tr", { class: e.type });
    row.append(el("td", {}, ago(s.now - e.at) + " ago"), el("td", {}, e.type), el("td", {}, e.reason), el("td", {}, e.message));
    return row;
  });
  byId("events").replaceChildren(...rows);
}
function drawTimeline(s) {
  const svg = byId("timeline");
  const width = svg.clientWidth || 800, height = 96, top = 22, bar = 52;
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.replaceChildren();
  const probes = s.probes;
  const spanMs = Math.max(s.config.periodSeconds * 1000 * 30, probes.length ? s.now - probes[0].at : 0);
  const from = s.now - spanMs;
  const x = (t) => ((t - from) / spanMs) * (width - 8) + 4;
  const w = Math.max(2, Math.min(14, ((s.config.periodSeconds * 1000) / spanMs) * (width - 8) * 0.7));
  for (const p of probes) {
    const color = p.result === "success" ? "var(--ok)" : p.result === "failure" ? "var(--fail)" : "var(--unknown)";
    const mark = el("svg:rect", { x: x(p.at) - w / 2, y: top, width: w, height: bar, rx: 2, fill: color, class: "mark " + p.result });
    mark.append(el("svg:title", {}, new Date(p.at).toLocaleTimeString() + " " + (p.statusCode || "no answer") + " " + (p.output || "OK")));
    svg.append(mark);
  }
  for (const r of s.restarts) {
    const t = r.startTimeSeconds * 1000;
    if (t < from) continue;
    svg.append(el("svg:line", { x1: x(t), x2: x(t), y1: 8, y2: height - 4, stroke: "var(--restart)", "stroke-width": 3, class: "restart" }));
    svg.append(el("svg:text", { x: x(t) + 5, y: 16, fill: "var(--restart)", "font-size": 12 }, "restart"));
  }
  for (const e of s.events) {
    if (e.reason !== "Killing" || e.at < from) continue;
    svg.append(el("svg:text", { x: x(e.at) - 6, y: top + bar + 16, fill: "var(--fail)", "font-size": 14, class: "killing" }, "\\u25B2"));
  }
  byId("span").textContent = "last " + ago(spanMs) + ", newest on the right; " + plural(probes.length, "probe") + " shown";
}
async function poll() {
  try {
    const response = await fetch("api/status", { cache: "no-store" });
    if (!response.ok) throw new Error("status " + response.status);
    render(await response.json());
    byId("stale").style.display = "none";
  } catch {
    byId("stale").style.display = "block";
  }
  setTimeout(poll, 1000);
}
poll();
`;
