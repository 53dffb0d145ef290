/**
 * The web page on `/` (static files shipped in the package, no CDN) and the two read-only routes it needs
 * besides the seeds' ones: who the key belongs to, and which models the provider has. The page talks only to
 * documented routes, so anything it does a script can do too.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ServerContext } from "../server.js";
import { userView } from "./users.js";

/**
 * Only the page's own script, style and fetches; images and videos from the service or from blobs the page
 * made of them (outputs need the key, so the page fetches them itself). No inline code, no frames, no forms
 * posting anywhere.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const ASSETS: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};

/** `dist/page/` next to the built chunks, or `src/server/page/` when running from source. */
function pageDir(): string {
  for (const relative of ["./page/", "../page/"]) {
    const dir = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error("the web page's files are missing from this install of jimeng (dist/page/)");
}

export function registerPageRoutes(context: ServerContext): void {
  const { route, service } = context;
  const dir = pageDir();
  const files = new Map(Object.keys(ASSETS).map((name) => [name, readFileSync(`${dir}${name}`)]));

  const serve = (name: string) => ({
    method: "GET" as const,
    url: name === "index.html" ? "/" : `/page/${name}`,
    summary: name === "index.html" ? "the web page (no key needed to load it)" : `the web page's ${name}`,
    tag: "page",
    access: "public" as const,
  });
  for (const name of Object.keys(ASSETS)) {
    route(serve(name), (call) => {
      call.reply.header("content-type", ASSETS[name]);
      call.reply.header("content-security-policy", PAGE_CSP);
      call.reply.header("x-content-type-options", "nosniff");
      call.reply.header("referrer-policy", "no-referrer");
      call.reply.header("cache-control", "no-cache");
      return call.reply.send(files.get(name));
    });
  }

  route(
    { method: "GET", url: "/api/v1/me", summary: "the user of this API key, with its credits", tag: "users" },
    (call) => {
      const user = service.store.getUser(call.caller.user.id) ?? call.caller.user;
      return { success: true, data: userView(user) };
    },
  );

  route(
    {
      method: "GET",
      url: "/api/v1/models",
      summary:
        "the provider (its name) and its models: id, title, task kinds, output, ratios, the kinds it is the default for",
      tag: "tasks",
    },
    () => ({
      success: true,
      provider: service.provider.name,
      data: service.provider.models.map((model) => ({
        id: model.id,
        title: model.title,
        kinds: model.kinds,
        output: model.output,
        ratios: model.ratios ?? [],
        default_for: model.defaultFor ?? [],
      })),
    }),
  );
}
