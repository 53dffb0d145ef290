import { readFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newUser, startTestService, type TestService } from "./helpers.js";

let service: TestService;
beforeEach(async () => {
  service = await startTestService({ defaultCredits: 10 });
});
afterEach(async () => {
  await service.close();
});

describe("the web page on /", () => {
  it("is served without a key, with a strict Content-Security-Policy, as are its script and style", async () => {
    for (const [url, type] of [
      ["/", "text/html"],
      ["/page/app.js", "text/javascript"],
      ["/page/app.css", "text/css"],
    ] as const) {
      const answer = await service.call("GET", url, { key: undefined });
      expect(answer.status).toBe(200);
      expect(String(answer.headers["content-type"])).toContain(type);
      const csp = String(answer.headers["content-security-policy"]);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).not.toContain("unsafe-eval");
      expect(answer.headers["x-content-type-options"]).toBe("nosniff");
    }
    const html = (await service.call("GET", "/", { key: undefined })).raw.toString("utf8");
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script: the CSP would refuse it
    expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/); // no inline style or handler either
    expect(html).not.toMatch(/https?:\/\//); // nothing from a CDN: it works offline
  });

  it("never turns a string into HTML: no innerHTML, outerHTML, insertAdjacentHTML or document.write", async () => {
    const script = await readFile(new URL("../../src/server/page/app.js", import.meta.url), "utf8");
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    expect(script).toContain("textContent");
  });

  it("answers /api/v1/me with the key's own user and /api/v1/models with the provider's models", async () => {
    const alice = await newUser(service, "alice");
    const me = await service.call("GET", "/api/v1/me", { key: alice.key });
    expect(me.status).toBe(200);
    expect(me.body.data).toMatchObject({ id: alice.id, credits: 10, admin: false });
    expect(JSON.stringify(me.body)).not.toContain(alice.key);
    expect((await service.call("GET", "/api/v1/me", { key: undefined })).status).toBe(401);

    const models = await service.call("GET", "/api/v1/models", { key: alice.key });
    expect(models.status).toBe(200);
    const kinds = new Set(models.body.data.flatMap((model: { kinds: string[] }) => model.kinds));
    expect(kinds).toContain("generate");
    expect(kinds).toContain("video");
    expect(models.body.data.some((model: { default_for: string[] }) => model.default_for.length > 0)).toBe(
      true,
    );
  });

  it("lists /api/v1/me and /api/v1/models in /openapi.json, so the page uses no private route", async () => {
    const alice = await newUser(service, "alice");
    const document = await service.call("GET", "/openapi.json", { key: alice.key });
    expect(Object.keys(document.body.paths)).toEqual(
      expect.arrayContaining(["/api/v1/me", "/api/v1/models"]),
    );
    const script = await readFile(new URL("../../src/server/page/app.js", import.meta.url), "utf8");
    const used = [...script.matchAll(/["`](\/api\/[a-z0-9/-]+)/g)].map((match) => match[1] as string);
    expect(used.length).toBeGreaterThan(8);
    const documented = Object.keys(document.body.paths).map((path) => path.replace(/\{[^}]+\}/g, ""));
    for (const route of used) {
      expect(documented.some((path) => path.startsWith(route) || route.startsWith(path))).toBe(true);
    }
  });
});
