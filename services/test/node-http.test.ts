// yieldToNewConnections on a real node:http server on loopback: while the event loop lags, a
// keep-alive connection just answered waits before its next request is read, and a new
// connection's request (a probe's) is answered first.
import { createServer, request, Agent, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, test } from "vitest";
import { yieldToNewConnections } from "../src/node-http.ts";

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.closeAllConnections(), s.close();
});

/** A server whose /block holds the event loop for `ms`, as a burst of requests does. */
async function serve(yielding: boolean): Promise<number> {
  const server = createServer((req, res) => {
    if (req.url === "/block") {
      const until = performance.now() + 150;
      while (performance.now() < until);
    }
    res.end("ok");
  });
  if (yielding) yieldToNewConnections(server, { lagMs: 50, pauseMs: 400 });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

function get(port: number, path: string, agent: Agent | false): Promise<number> {
  const began = performance.now();
  return new Promise((resolve, reject) => {
    request({ host: "127.0.0.1", port, path, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(performance.now() - began));
    })
      .on("error", reject)
      .end();
  });
}

async function run(yielding: boolean) {
  const port = await serve(yielding);
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  // Two loop-holding requests on one kept-alive connection: the second finds the loop lagging.
  await get(port, "/block", keepAlive);
  await get(port, "/block", keepAlive);
  // Its next request, and a new connection's, at once.
  const [again, fresh] = await Promise.all([get(port, "/", keepAlive), get(port, "/", false)]);
  keepAlive.destroy();
  return { again, fresh };
}

test("while the loop lags, a new connection is answered before a busy kept-alive one's next request", async () => {
  const { again, fresh } = await run(true);
  expect(again).toBeGreaterThan(300);
  expect(fresh).toBeLessThan(again - 200);
});

test("without it, the kept-alive connection's next request is read at once", async () => {
  const { again } = await run(false);
  expect(again).toBeLessThan(300);
});
