# The workerd floor for the bench: bare-worker.js, configured as the app's crashy.capnp is.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "bare", worker = .bare),
    (name = "internet", network = (allow = [])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8080", http = (), service = "bare") ],
);

const bare :Workerd.Worker = (
  modules = [ (name = "bare-worker.js", esModule = embed "bare-worker.js") ],
  compatibilityDate = "2026-11-01",
  bindings = [
    (name = "HOSTNAME", fromEnvironment = "HOSTNAME"),
    (name = "BARE_METRICS", fromEnvironment = "BARE_METRICS"),
  ],
);
