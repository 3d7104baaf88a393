// The part of autocannon's API the load tests use (the package ships no types).
declare module "autocannon" {
  import type { EventEmitter } from "node:events";

  type Options = {
    url: string;
    connections?: number;
    pipelining?: number;
    duration?: number;
    maxOverallRequests?: number;
    timeout?: number;
    method?: string;
    headers?: Record<string, string>;
  };

  export type Result = {
    errors: number;
    timeouts: number;
    mismatches: number;
    resets: number;
    non2xx: number;
    statusCodeStats: Record<string, { count: number }>;
    requests: { sent: number; total: number };
    duration: number;
  };

  export type Instance = EventEmitter & {
    stop(): void;
    on(event: "response", listener: (client: object, statusCode: number, resBytes: number, responseTime: number) => void): Instance;
    on(event: "reqError", listener: (error: Error) => void): Instance;
    on(event: "done", listener: (result: Result) => void): Instance;
  };

  function autocannon(options: Options, callback?: (error: Error | null, result: Result) => void): Instance;
  export default autocannon;
}
