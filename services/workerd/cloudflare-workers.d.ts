// The one part of workerd's built-in module "cloudflare:workers" that the worker uses: its
// bindings, readable while the module loads. A fromEnvironment binding is null when its variable is unset.
declare module "cloudflare:workers" {
  export const env: Readonly<Record<string, string | null | undefined>>;
}
