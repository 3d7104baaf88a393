// What happens to an event between the kubelet's recorder and the API server: client-go's event
// correlation (k8s.io/client-go/tools/record/events_cache.go, as in Kubernetes v1.33), which the
// kubelet's broadcaster runs with its defaults (cmd/kubelet/app/server.go makeEventRecorder:
// record.NewBroadcaster() with no CorrelatorOptions). For each event, EventCorrelate:
// 1. EventAggregator.EventAggregate: more than 10 distinct messages of one type+reason about one
//    object within 10 minutes become one "(combined from similar events): ..." event;
// 2. eventLogger.eventObserve: the same event again is counted (count, first timestamp);
// 3. EventSourceObjectSpamFilter.Filter: a token bucket per source+object (a burst of 25, then one
//    every 5 min) skips the rest. It runs after eventObserve, so a skipped event is still counted
//    and the next one that passes carries the larger count.
// Pure: time comes from the injected clock, nothing is scheduled. Timestamps are the wall clock's,
// windows and refills are measured on the monotonic one, as in Go: events_cache.go's
// metav1.NewTime(clock.Now()) and x/time/rate keep time.Now()'s monotonic reading, so their Sub
// ignores a wall-clock step.
import type { Clock } from "../../lib/clock.ts";

export type EventType = "Normal" | "Warning";

/** The involvedObject of an event (v1.ObjectReference), the fields client-go's keys read. */
export type InvolvedObject = {
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  apiVersion: string;
  /** Which part of the object: for the kubelet's container events, `spec.containers{name}`. */
  fieldPath: string;
};

/** v1.EventSource: who records. The kubelet's is {component: "kubelet", host: <node name>}. */
export type EventSource = { component: string; host: string };

/** An event as a recorder hands it over (v1.Event before correlation). */
export type RecordedEvent = {
  source: EventSource;
  involvedObject: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
};

/** An event after correlation: what the API server would get, times in epoch ms. */
export type CorrelatedEvent = RecordedEvent & { count: number; firstTimestamp: number; lastTimestamp: number };

export type CorrelateResult = {
  /** The event as observed, counted and possibly combined; present even when skipped, to show it. */
  event: CorrelatedEvent;
  /** client-go's EventCorrelateResult.Skip: the spam filter kept it from the API server. */
  skip: boolean;
  /** The eventLogger's cache key: getEventKey, or the aggregate key for a combined event. */
  key: string;
  /** The spam filter's bucket: getSpamKey. */
  spamKey: string;
  /** Whether EventAggregate replaced it with a "(combined from similar events)" event. */
  combined: boolean;
};

/** events_cache.go's defaults: maxLruCacheEntries, defaultSpamBurst, defaultSpamQPS, defaultAggregate*. */
export const EVENT_CORRELATION_DEFAULTS = {
  lruCacheSize: 4096,
  spamBurst: 25,
  spamQPS: 1 / 300,
  aggregateMaxEvents: 10,
  aggregateIntervalSeconds: 600,
} as const;

export type CorrelatorOptions = { clock: Clock } & Partial<{ -readonly [K in keyof typeof EVENT_CORRELATION_DEFAULTS]: number }>;

/** pkg/kubelet/container/ref.go fieldPath: where a named container sits in the pod's spec. */
export function containerFieldPath(name: string, init = false): string {
  return init ? `spec.initContainers{${name}}` : `spec.containers{${name}}`;
}

/**
 * The reference the kubelet's events carry (ref.go GenerateContainerRef, or the pod itself): a
 * container event is about the Pod, with the container in fieldPath.
 */
export function podReference(
  pod: { name: string; namespace?: string; uid?: string },
  container?: { name: string; init?: boolean },
): InvolvedObject {
  return {
    kind: "Pod",
    namespace: pod.namespace ?? "default",
    name: pod.name,
    uid: pod.uid ?? "",
    apiVersion: "v1",
    fieldPath: container ? containerFieldPath(container.name, container.init) : "",
  };
}

// client-go joins its key parts with "" (strings.Join(parts, "")); so do we, to key alike.
const join = (parts: string[]) => parts.join("");

/** events_cache.go getEventKey: source, involved object including fieldPath, type, reason, message. */
export function getEventKey(event: RecordedEvent): string {
  const { source: s, involvedObject: o } = event;
  return join([s.component, s.host, o.kind, o.namespace, o.name, o.fieldPath, o.uid, o.apiVersion, event.type, event.reason, event.message]);
}

/** events_cache.go getSpamKey: source and involved object, without fieldPath: one bucket per pod. */
export function getSpamKey(event: RecordedEvent): string {
  const { source: s, involvedObject: o } = event;
  return join([s.component, s.host, o.kind, o.namespace, o.name, o.uid, o.apiVersion]);
}

/**
 * events_cache.go EventAggregatorByReasonFunc: [aggregate key, local key]. The aggregate key ends
 * with ReportingController and ReportingInstance, which record.makeEvent fills from the source.
 */
export function eventAggregatorByReason(event: RecordedEvent): [string, string] {
  const { source: s, involvedObject: o } = event;
  return [join([s.component, s.host, o.kind, o.namespace, o.name, o.uid, o.apiVersion, event.type, event.reason, s.component, s.host]), event.message];
}

/** events_cache.go EventAggregatorByReasonMessageFunc. */
export function eventAggregatorByReasonMessage(event: RecordedEvent): string {
  return `(combined from similar events): ${event.message}`;
}

/** github.com/golang/groupcache/lru as client-go uses it: Get and Add refresh, Add evicts the oldest. */
export function createLru<V>(maxEntries: number) {
  const map = new Map<string, V>();
  return {
    get(key: string): V | undefined {
      const value = map.get(key);
      if (value !== undefined) {
        map.delete(key);
        map.set(key, value);
      }
      return value;
    },
    add(key: string, value: V): void {
      map.delete(key);
      map.set(key, value);
      if (maxEntries > 0 && map.size > maxEntries) map.delete(map.keys().next().value!);
    },
    get size() {
      return map.size;
    },
  };
}

/**
 * client-go util/flowcontrol NewTokenBucketRateLimiterWithClock + TryAccept, which is
 * golang.org/x/time/rate Limiter.AllowN(now, 1): a bucket of `burst` tokens, full at the start,
 * refilled continuously at `qps` tokens a second, never above `burst`.
 */
export function createTokenBucket(qps: number, burst: number, clock: Pick<Clock, "monotonic">) {
  // client-go takes qps as a float32: 1/300 becomes 0.0033333334, a refill a hair under 300 s.
  const limit = Math.fround(qps);
  let tokens = burst;
  let last: number | undefined;
  return {
    tryAccept(): boolean {
      const now = clock.monotonic();
      // rate.Limiter.advance: time before `last` adds nothing.
      const elapsed = last === undefined ? 0 : Math.max(0, now - last);
      const available = Math.min(burst, tokens + (elapsed / 1000) * limit);
      const after = available - 1;
      // rate.Limiter.reserveN with no wait allowed: a shortfall is a wait, in whole nanoseconds.
      const waitNs = after < 0 ? Math.trunc((-after / limit) * 1e9) : 0;
      if (burst < 1 || waitNs > 0) return false;
      tokens = after;
      last = now;
      return true;
    },
  };
}

/** client-go's EventCorrelator (NewEventCorrelatorWithOptions), on an injected clock. */
export function createEventCorrelator(options: CorrelatorOptions) {
  const o = { ...EVENT_CORRELATION_DEFAULTS, ...options };
  const { clock } = options;

  // EventAggregator: per aggregate key, the distinct local keys (messages) seen and when last.
  const aggregates = createLru<{ localKeys: Set<string>; lastSeen: number }>(o.lruCacheSize);
  // eventLogger: per event key, how often and since when.
  const observations = createLru<{ count: number; firstTimestamp: number }>(o.lruCacheSize);
  // EventSourceObjectSpamFilter: per spam key, a token bucket.
  const buckets = createLru<ReturnType<typeof createTokenBucket>>(o.lruCacheSize);

  /** EventAggregator.EventAggregate: the event to record and its cache key. */
  function aggregate(event: CorrelatedEvent): { event: CorrelatedEvent; key: string; combined: boolean } {
    const now = clock.now();
    const seen = clock.monotonic();
    const eventKey = getEventKey(event);
    const [aggregateKey, localKey] = eventAggregatorByReason(event);
    let record = aggregates.get(aggregateKey);
    // The window rolls: it is measured from the latest similar event, and only "more than" expires.
    if (!record || seen - record.lastSeen > o.aggregateIntervalSeconds * 1000) record = { localKeys: new Set(), lastSeen: seen };
    record.localKeys.add(localKey);
    record.lastSeen = seen;
    aggregates.add(aggregateKey, record);
    if (record.localKeys.size < o.aggregateMaxEvents) return { event, key: eventKey, combined: false };
    // sets.String.PopAny keeps the set below the max; Go pops an arbitrary key, we pop the oldest.
    record.localKeys.delete(record.localKeys.values().next().value!);
    return {
      event: { ...event, message: eventAggregatorByReasonMessage(event), count: 1, firstTimestamp: now, lastTimestamp: now },
      key: aggregateKey,
      combined: true,
    };
  }

  /** eventLogger.eventObserve: a repeat takes the count and first timestamp on from the cache. */
  function observe(event: CorrelatedEvent, key: string): CorrelatedEvent {
    const last = observations.get(key);
    const observed = last && last.count > 0 ? { ...event, count: last.count + 1, firstTimestamp: last.firstTimestamp } : { ...event };
    observations.add(key, { count: observed.count, firstTimestamp: observed.firstTimestamp });
    return observed;
  }

  /** EventSourceObjectSpamFilter.Filter: true when the event must be skipped. */
  function filter(spamKey: string): boolean {
    let bucket = buckets.get(spamKey);
    bucket ??= createTokenBucket(o.spamQPS, o.spamBurst, clock);
    const skip = !bucket.tryAccept();
    buckets.add(spamKey, bucket);
    return skip;
  }

  return {
    /** EventCorrelator.EventCorrelate, for an event just made (record.makeEvent: count 1, now). */
    correlate(recorded: RecordedEvent): CorrelateResult {
      const now = clock.now();
      const made: CorrelatedEvent = { ...recorded, count: 1, firstTimestamp: now, lastTimestamp: now };
      const { event, key, combined } = aggregate(made);
      const observed = observe(event, key);
      const spamKey = getSpamKey(observed);
      return { event: observed, skip: filter(spamKey), key, spamKey, combined };
    },
  };
}

export type EventCorrelator = ReturnType<typeof createEventCorrelator>;
