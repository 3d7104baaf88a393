# crashy on workerd: the app's worker module (dist/bundle/worker.mjs, which `npm run build` makes
# and copies this file beside) behind one HTTP socket, with the app's variables as bindings.
#   workerd serve dist/bundle/crashy.capnp                                    # *:8080
#   workerd serve dist/bundle/crashy.capnp --socket-addr http=127.0.0.1:8081  # what PORT and HOST say
# `npm run app:workerd` does the second from PORT and HOST (services/src/workerd-serve.ts).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "crashy", worker = .crashy),
    # The worker's fetch() goes to the service named "internet": here it may reach no address, as the
    # app calls out to nothing. workerd's default one would also need the system's CA certificates,
    # which the image has none of ("TLS configuration: No CA certificates were loaded from the system").
    (name = "internet", network = (allow = [])),
  ],
  # The address of the socket is workerd's to bind, not the worker's: PORT and HOST are checked by
  # the worker like any variable, but only --socket-addr moves the socket.
  sockets = [ (name = "http", address = "*:8080", http = (), service = "crashy") ],
);

const crashy :Workerd.Worker = (
  modules = [ (name = "worker.mjs", esModule = embed "worker.mjs") ],
  # No nodejs_compat: the bundle holds only Web-standard code (prom-client's Registry, Gauge and Counter).
  compatibilityDate = "2026-11-01",
  # The same names as the environment the other runtimes read (ENV_NAMES in services/src/config.ts).
  bindings = [
    (name = "PORT", fromEnvironment = "PORT"),
    (name = "HOST", fromEnvironment = "HOST"),
    (name = "CRASH_AFTER", fromEnvironment = "CRASH_AFTER"),
    (name = "CRASH_MODE", fromEnvironment = "CRASH_MODE"),
    (name = "LOG_FORMAT", fromEnvironment = "LOG_FORMAT"),
    (name = "HOSTNAME", fromEnvironment = "HOSTNAME"),
    (name = "STARTUP_SECONDS", fromEnvironment = "STARTUP_SECONDS"),
    (name = "CONTROL", fromEnvironment = "CONTROL"),
  ],
);
