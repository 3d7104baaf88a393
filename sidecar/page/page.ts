// The live page's script, run in the browser: polls api/status every second and renders it.
// Built into page.js, a classic script, by build.ts. Every URL is relative, so the page works behind
// `kubectl port-forward` or a proxy path; text goes in through textContent only, never as HTML.
import type { ProbeType } from "../../probe/src/types.ts";
import type { SidecarStatus, StatusProbe } from "../src/status.ts";

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

/**
 * What the kubelet does when this probe fails: the one difference a student must see. "restart":
 * liveness and startup (kuberuntime kills the container); "traffic": readiness (the pod's Ready
 * condition turns False and the Service's endpoints drop it; no restart).
 */
const ROLE: Record<ProbeType, { action: "restart" | "traffic"; text: string }> = {
  Startup: { action: "restart", text: "Liveness and readiness probes wait until it succeeds. On failure: the container would be restarted." },
  Liveness: { action: "restart", text: "On failure: the container would be restarted." },
  Readiness: { action: "traffic", text: "On failure: the pod is taken out of the Service. Never restarted for it." },
};

/** One probe's card: built once, then updated in place every second. */
type Card = { root: HTMLElement; verdict: HTMLElement; countdown: HTMLElement; meter: HTMLElement; timeline: SVGSVGElement; numbers: HTMLElement; spec: HTMLElement; target: HTMLElement };
const cards = new Map<ProbeType, Card>();

function cardFor(type: ProbeType): Card {
  const known = cards.get(type);
  if (known) return known;
  const part = (name: string, cls: string) => el(name, { class: cls }) as HTMLElement;
  const root = el("section", { class: "card probe", id: "probe-" + type, "data-probe": type, "data-action": ROLE[type].action }) as HTMLElement;
  const title = el("h2");
  const target = part("span", "target muted");
  title.append(el("span", { class: "type" }, type), " probe ", target);
  const card: Card = {
    root,
    target,
    spec: part("div", "spec muted"),
    verdict: part("div", "verdict"),
    countdown: part("div", "countdown"),
    meter: part("div", "meter"),
    timeline: el("svg:svg", { class: "timeline", role: "img", "aria-label": "timeline of " + type.toLowerCase() + " probe outcomes" }) as SVGSVGElement,
    numbers: part("div", "numbers muted"),
  };
  root.append(title, el("div", { class: "action" }, ROLE[type].text), card.spec, card.verdict, card.countdown, card.meter, card.timeline, card.numbers);
  byId("probes").append(root);
  cards.set(type, card);
  return card;
}

function render(s: SidecarStatus): void {
  byId("container").textContent = s.config.containerName;
  const types = s.probes.map((p) => p.type.toLowerCase());
  document.title = "crashy sidecar: " + types.join(", ") + (types.length === 1 ? " probe" : " probes");
  renderPod(s);
  const span = timeSpan(s);
  for (const probe of s.probes) renderProbe(s, probe, cardFor(probe.type), span);
  byId("span").textContent = "Timelines: the last " + ago(span.ms) + ", newest on the right.";
  const rows = s.events.slice(-12).reverse().map((e) => {
    const row = el("tr", { class: e.type });
    row.append(el("td", {}, ago(s.now - e.at) + " ago"), el("td", {}, e.type), el("td", {}, e.reason), el("td", {}, e.message));
    return row;
  });
  byId("events").replaceChildren(...rows);
}

/** The pod's Ready condition, why it is so, and the container's state. */
function renderPod(s: SidecarStatus): void {
  const c = s.container;
  const ready = s.pod.ready;
  const readiness = s.probes.find((p) => p.type === "Readiness");
  const why = !c.running ? "restart" : !c.started ? "startup" : ready.status === "False" ? "readiness" : "";
  const node = byId("ready");
  node.dataset.status = ready.status;
  node.dataset.why = why;
  node.textContent = "Ready: " + ready.status;
  const because: Record<string, string> = {
    restart: "the container is being restarted",
    startup: "the startup probe has not succeeded yet",
    readiness: "the readiness probe " + (readiness && readiness.counters.probes === 0 ? "has not succeeded yet" : "fails"),
    "": readiness ? "the readiness probe succeeds" : "the container runs and has no readiness probe",
  };
  byId("ready-text").textContent =
    ready.status === "True"
      ? "The Service sends the pod traffic: " + because[why] + "."
      : "Taken out of the Service's endpoints: " + because[why] + " (" + ready.reason + ": " + ready.message + ").";
  const state = byId("container-state");
  state.dataset.running = String(c.running);
  state.textContent = c.running
    ? "Container " + s.config.containerName + ": running, " + (c.started ? "started" : "not started yet") + (c.ready ? ", ready." : ", not ready.")
    : "Container " + s.config.containerName + ": failed its " + (c.restartPendingFor ?? "").toLowerCase() + " probe: the kubelet kills and restarts it; every probe waits for the new one.";
  const scrape = s.scrape;
  byId("numbers").replaceChildren(
    el("span", { id: "restarts" }, plural(s.counters.restarts, "restart") + " seen"),
    el("span", {}, scrape.enabled
      ? "app metrics: " + (scrape.up ? "up" : "down" + (scrape.error ? " (" + scrape.error + ")" : ""))
      : "app metrics: not scraped"),
  );
}

function renderProbe(s: SidecarStatus, p: StatusProbe, card: Card, span: Span): void {
  const c = p.config;
  const v = p.verdict;
  card.target.textContent = "(" + c.url + ")";
  card.spec.textContent =
    "period " + c.periodSeconds + " s, timeout " + c.timeoutSeconds + " s, failure threshold " + c.failureThreshold +
    ", success threshold " + c.successThreshold + ", initial delay " + c.initialDelaySeconds + " s";
  const verdict = card.verdict;
  verdict.dataset.state = v.state;
  if (v.waiting) verdict.dataset.waiting = v.waiting;
  else delete verdict.dataset.waiting;
  if (p.counters.probes === 0 && v.state !== "restart-pending" && !v.waiting) {
    verdict.dataset.verdict = "unknown";
    verdict.textContent = "waiting for the first probe";
  } else {
    verdict.dataset.verdict = v.healthy ? "healthy" : "unhealthy";
    verdict.textContent = v.text;
  }
  card.countdown.textContent = countdown(p);
  const meter = card.meter;
  meter.replaceChildren();
  for (let i = 0; i < c.failureThreshold; i++) {
    meter.append(el("span", { class: i < Math.min(v.consecutiveFailures, c.failureThreshold) ? "on" : "" }));
  }
  meter.append(el("em", { class: "muted" }, "failures in a row, toward the failure threshold (" + c.failureThreshold + ")"));
  drawTimeline(s, p, card.timeline, span);
  const n = p.counters;
  card.numbers.replaceChildren(
    el("span", {}, plural(n.successful, "successful probe")),
    el("span", {}, plural(n.failed, "failed probe")),
    el("span", {}, n.unknown + " errored"),
  );
}

/** What comes next, in the words of what the kubelet does with this probe type's results. */
function countdown(p: StatusProbe): string {
  const v = p.verdict;
  switch (v.waiting) {
    case "restart":
      return "not probed: the container is being restarted; probing resumes on the new one (the sidecar sees it in the app's start time)";
    case "startup":
      return "not probed yet: liveness and readiness probes wait for the startup probe to succeed";
    case "initial-delay":
      return "not probed yet: initialDelaySeconds (" + p.config.initialDelaySeconds + " s) since the container started have not passed";
    case "done":
      return "the startup probe is done until the next restart; liveness and readiness probes run now";
  }
  const failures = plural(v.probesUntilFailure, "more failed probe") + " in a row";
  const successes = plural(p.config.successThreshold, "successful probe") + " in a row";
  switch (v.state) {
    case "healthy":
      return "would be restarted after " + failures;
    case "restart-pending":
      return "the kubelet probes nothing more until the container restarts";
    case "ready":
      return "would be taken out of the Service after " + failures + "; never restarted for it";
    case "not-ready":
      return "back in the Service after " + successes + "; not restarted meanwhile";
    case "starting":
      return "would be restarted after " + failures;
    case "started":
      return "the startup probe is done until the next restart";
  }
}

/** One time axis for every timeline, so the cards line up: a startup probe's end, the others' start. */
type Span = { from: number; ms: number };
function timeSpan(s: SidecarStatus): Span {
  const longest = Math.max(...s.probes.map((p) => p.config.periodSeconds)) * 1000;
  const oldest = Math.min(...s.probes.map((p) => p.history[0]?.at ?? s.now));
  const ms = Math.max(longest * 30, s.now - oldest);
  return { from: s.now - ms, ms };
}

/** Probe marks, restart lines and "threshold reached" triangles, newest on the right. */
function drawTimeline(s: SidecarStatus, p: StatusProbe, svg: SVGSVGElement, span: Span): void {
  const width = svg.clientWidth || 800, height = 96, top = 22, bar = 52;
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.replaceChildren();
  const periodMs = p.config.periodSeconds * 1000;
  const x = (t: number) => ((t - span.from) / span.ms) * (width - 8) + 4;
  const w = Math.max(2, Math.min(14, (periodMs / span.ms) * (width - 8) * 0.7));
  for (const run of p.history) {
    if (run.at < span.from) continue;
    const color = run.result === "success" ? "var(--ok)" : run.result === "failure" ? "var(--fail)" : "var(--unknown)";
    const mark = el("svg:rect", { x: x(run.at) - w / 2, y: top, width: w, height: bar, rx: 2, fill: color, class: "mark " + run.result });
    mark.append(el("svg:title", {}, new Date(run.at).toLocaleTimeString() + " " + (run.statusCode || "no answer") + " " + (run.output || "OK")));
    svg.append(mark);
  }
  for (const r of s.restarts) {
    const t = r.startTimeSeconds * 1000;
    if (t < span.from) continue;
    svg.append(el("svg:line", { x1: x(t), x2: x(t), y1: 8, y2: height - 4, stroke: "var(--restart)", "stroke-width": 3, class: "restart" }));
    svg.append(el("svg:text", { x: x(t) + 5, y: 16, fill: "var(--restart)", "font-size": 12 }, "restart"));
  }
  for (const e of s.events) {
    if (e.reason !== "Killing" || e.probeType !== p.type || e.at < span.from) continue;
    svg.append(el("svg:text", { x: x(e.at) - 6, y: top + bar + 16, fill: "var(--fail)", "font-size": 14, class: "killing" }, "\u25B2"));
  }
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
