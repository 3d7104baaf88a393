// The live page's script, run in the browser: polls api/status every second and renders it.
// Built into page.js, a classic script, by build.ts. Every URL is relative, so the page works behind
// `kubectl port-forward` or a proxy path; text goes in through textContent only, never as HTML.
import type { SidecarStatus } from "../src/status.ts";

const SVG = "http://www.w3.org/2000/svg";
type Attrs = Record<string, string | number>;

function byId<T extends Element = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node as Element as T;
}

const plural = (n: number, word: string) => n + " " + word + (n === 1 ? "" : "s");

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? s + "s" : s < 3600 ? Math.floor(s / 60) + "m" + (s % 60) + "s" : Math.floor(s / 3600) + "h";
}

function el(name: string, attrs: Attrs = {}, text?: string): Element {
  const node = name.startsWith("svg:") ? document.createElementNS(SVG, name.slice(4)) : document.createElement(name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function render(s: SidecarStatus): void {
  const c = s.config;
  const v = s.verdict;
  byId("container").textContent = c.containerName;
  byId("target").textContent = "(" + c.probeUrl + ")";
  byId("spec").textContent =
    "period " + c.periodSeconds + " s, timeout " + c.timeoutSeconds + " s, failure threshold " + c.failureThreshold +
    ", success threshold " + c.successThreshold + ", initial delay " + c.initialDelaySeconds + " s";
  byId("probe-type").textContent = c.probeType;
  document.title = "crashy sidecar: " + c.probeType.toLowerCase() + " probe";
  const verdict = byId("verdict");
  verdict.dataset.state = v.state;
  if (s.counters.probes === 0 && v.state !== "restart-pending") {
    verdict.dataset.verdict = "unknown";
    verdict.textContent = "waiting for the first probe";
  } else {
    verdict.dataset.verdict = v.healthy ? "healthy" : "unhealthy";
    verdict.textContent = v.text;
  }
  byId("countdown").textContent = countdown(s);
  byId("threshold").textContent = String(c.failureThreshold);
  const meter = byId("meter");
  meter.replaceChildren();
  for (let i = 0; i < c.failureThreshold; i++) {
    meter.append(el("span", { class: i < Math.min(v.consecutiveFailures, c.failureThreshold) ? "on" : "" }));
  }
  drawTimeline(s);
  const n = s.counters;
  const scrape = s.scrape;
  byId("numbers").replaceChildren(
    el("span", {}, plural(n.successful, "successful probe")),
    el("span", {}, plural(n.failed, "failed probe")),
    el("span", {}, n.unknown + " errored"),
    el("span", { id: "restarts" }, plural(n.restarts, "restart") + " seen"),
    el("span", {}, scrape.enabled
      ? "app metrics: " + (scrape.up ? "up" : "down" + (scrape.error ? " (" + scrape.error + ")" : ""))
      : "app metrics: not scraped"),
  );
  const rows = s.events.slice(-12).reverse().map((e) => {
    const row = el("tr", { class: e.type });
    row.append(el("td", {}, ago(s.now - e.at) + " ago"), el("td", {}, e.type), el("td", {}, e.reason), el("td", {}, e.message));
    return row;
  });
  byId("events").replaceChildren(...rows);
}

/** What comes next, in the words of what the kubelet does with this probe type's results. */
function countdown(s: SidecarStatus): string {
  const v = s.verdict;
  const failures = plural(v.probesUntilRestart, "more failed probe") + " in a row";
  const successes = plural(s.config.successThreshold, "successful probe") + " in a row";
  switch (v.state) {
    case "healthy":
      return "would be restarted after " + failures;
    case "restart-pending":
      return "the kubelet probes nothing more until the container restarts; the sidecar sees the restart in the app's start time";
    case "ready":
      return "would be taken out of the Service after " + failures + "; never restarted for it";
    case "not-ready":
      return "back in the Service after " + successes + "; not restarted meanwhile";
    case "starting":
      return "liveness and readiness probes wait for this one; restarted after " + failures;
    case "started":
      return "the startup probe is done until the next restart";
  }
}

/** Probe marks, restart lines and "threshold reached" triangles, newest on the right. */
function drawTimeline(s: SidecarStatus): void {
  const svg = byId<SVGSVGElement>("timeline");
  const width = svg.clientWidth || 800, height = 96, top = 22, bar = 52;
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.replaceChildren();
  const probes = s.probes;
  const periodMs = s.config.periodSeconds * 1000;
  const spanMs = Math.max(periodMs * 30, probes[0] ? s.now - probes[0].at : 0);
  const from = s.now - spanMs;
  const x = (t: number) => ((t - from) / spanMs) * (width - 8) + 4;
  const w = Math.max(2, Math.min(14, (periodMs / spanMs) * (width - 8) * 0.7));
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
    svg.append(el("svg:text", { x: x(e.at) - 6, y: top + bar + 16, fill: "var(--fail)", "font-size": 14, class: "killing" }, "\u25B2"));
  }
  byId("span").textContent = "last " + ago(spanMs) + ", newest on the right; " + plural(probes.length, "probe") + " shown";
}

async function poll(): Promise<void> {
  try {
    const response = await fetch("api/status", { cache: "no-store" });
    if (!response.ok) throw new Error("status " + response.status);
    render((await response.json()) as SidecarStatus);
    byId("stale").style.display = "none";
  } catch {
    byId("stale").style.display = "block";
  }
  setTimeout(poll, 1000);
}

void poll();
