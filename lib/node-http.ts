// node:http and node:https for Node-only code, taken with process.getBuiltinModule, not imported:
// an ES import of node:http reads every export to build its namespace, http.WebSocket's lazy
// getter among them, and that loads Node's internal undici, 16 MiB of RSS the sidecar never uses
// (issue 14). `import type` from them is fine: it is gone at run time.
import process from "node:process";

export const http = process.getBuiltinModule("node:http");
export const https = process.getBuiltinModule("node:https");
