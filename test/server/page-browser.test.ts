/**
 * The web page in a real browser: Debian's Chromium driven by playwright-core (nothing downloads a browser),
 * against the built `jimeng serve --emulator` (`npm run build` first). One browser, one page, used step by
 * step; a screenshot of each step goes to test-output/page/. Without Chromium the suite says so in one line.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proceduralPng } from "../../src/emulator/png.js";
import { tempDir } from "../helpers/cli.js";
import { type ServeProcess, startServe } from "./serve-process.js";

const CHROMIUM = [process.env.JIMENG_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (candidate): candidate is string => Boolean(candidate && existsSync(candidate)),
);
const OUTPUT = fileURLToPath(new URL("../../test-output/page/", import.meta.url));
const WAIT = 60_000;

if (!CHROMIUM) {
  console.log(
    "page-browser tests did not run: no Chromium found; install it (apt-get install -y chromium) or set JIMENG_CHROMIUM",
  );
}

let temp: Awaited<ReturnType<typeof tempDir>>;
let serve: ServeProcess;
let context: BrowserContext;
let page: Page;
let alice: { id: string; key: string };
let bob: { id: string; key: string };
const requested: string[] = [];

async function admin(method: string, url: string, body?: unknown) {
  const response = await fetch(`${serve.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${serve.adminKey}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, never> };
}

async function newUser(id: string, credits: number) {
  const created = await admin("POST", "/api/v1/users", { id, email: `${id}@example.com`, name: id, credits });
  return { id, key: (created.body.data as unknown as { api_key: string }).api_key };
}

async function shot(name: string) {
  await page.screenshot({ path: path.join(OUTPUT, `${name}.png`) });
}

/** The card of the task whose prompt is `prompt`. */
const card = (prompt: string) =>
  page.locator("li.task", { has: page.locator(".prompt", { hasText: prompt }) });

async function credits(): Promise<number> {
  return Number((await page.locator("#credits").textContent())?.replace(/\D+/g, ""));
}

async function signIn(key: string) {
  await page.getByLabel("API key").fill(key);
  await page.getByLabel("API key").press("Enter");
  await page.locator("#app").waitFor({ state: "visible", timeout: WAIT });
}

async function chooseMode(name: string) {
  await page.getByRole("radio", { name, exact: true }).check();
}

describe.runIf(CHROMIUM)("the web page in Chromium", () => {
  beforeAll(async () => {
    const { chromium } = await import("playwright-core");
    await mkdir(OUTPUT, { recursive: true });
    temp = await tempDir("jimeng-page-");
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (!/^(JIMENG_|VOLC_|CI$|NO_COLOR$|FORCE_COLOR$)/.test(key)) env[key] = value;
    }
    // One worker and 600 ms tasks: a batch's later tasks wait in the queue long enough to be cancelled.
    serve = await startServe(
      ["--emulator", "--emulator-duration", "600ms", "-c", "1", "--data", `${temp.dir}/data`],
      { env: { ...env, JIMENG_CONFIG_DIR: `${temp.dir}/config`, NO_COLOR: "1" }, cwd: temp.dir },
    );
    alice = await newUser("alice", 40);
    bob = await newUser("bob", 10);
    context = await chromium.launchPersistentContext(`${temp.dir}/profile`, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1200, height: 900 },
      colorScheme: "light",
      acceptDownloads: true,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(WAIT);
    page.on("request", (request) => requested.push(request.url()));
    // Layout shifts not caused by the user add up here (the CLS of the page), from the first paint on.
    await page.addInitScript(`
      window.__shifts = { total: 0 };
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shifts.total += entry.value;
      }).observe({ type: "layout-shift", buffered: true });
    `);
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (serve) {
      serve.run.child.kill("SIGTERM");
      await serve.run.exited;
    }
    await temp?.cleanup();
  }, 60_000);

  it("signs in with a key kept in session storage (never in the URL); a wrong key shows the service's message", async () => {
    const response = await page.goto(serve.url);
    const csp = response?.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("script-src 'self'");
    await shot("01-sign-in");

    await page.getByLabel("API key").fill("jms_not-a-key");
    await page.getByLabel("API key").press("Enter");
    await expect.poll(() => page.locator("#notice").textContent()).toContain("not known to the service");
    expect(await page.locator("#notice-advice").textContent()).toContain("Sign in again");
    await shot("02-wrong-key");

    await signIn(alice.key);
    expect(await page.locator("#who").textContent()).toContain("alice");
    expect(await credits()).toBe(40);
    expect(page.url()).not.toContain(alice.key);
    expect(await page.evaluate<string | null>("sessionStorage.getItem('jimeng.apiKey')")).toBe(alice.key);
    expect(requested.some((url) => url.includes(alice.key))).toBe(false);
  }, 120_000);

  it("generates an image: live status to completed, a thumbnail, the full-size view and a download; the prompt stays text", async () => {
    const prompt = 'a lighthouse at dusk <img src=x onerror="window.__injected=1">';
    await page.locator("#generate-prompt").fill(prompt);
    await page.getByRole("button", { name: "Generate" }).click();
    const task = card("a lighthouse at dusk");
    await task.locator(".status", { hasText: "completed" }).waitFor();
    await task.locator(".thumb img").waitFor();
    expect(await task.locator("progress").getAttribute("value")).toBe("100");
    expect(await task.locator(".prompt").textContent()).toBe(prompt);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.evaluate<unknown>("window.__injected")).toBeUndefined();
    // The service's server-sent events moved the status (the polling is only the fallback).
    expect(requested.some((url) => /\/api\/v1\/tasks\/[^/]+\/events$/.test(url))).toBe(true);
    await shot("03-generated");

    await task.locator(".thumb-button").click();
    const viewer = page.locator("#viewer");
    await viewer.waitFor({ state: "visible" });
    await expect
      .poll(() =>
        page
          .locator("#viewer-image")
          .evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth),
      )
      .toBeGreaterThan(0);
    await shot("04-full-size");
    await page.keyboard.press("Escape");
    await viewer.waitFor({ state: "hidden" });

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      task.getByRole("link", { name: /Download/ }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.(png|jpe?g|webp)$/);
  }, 120_000);

  it("uploads an image by drag and drop and transforms it with the strength slider", async () => {
    await chooseMode("Image to image");
    const png = proceduralPng("page upload", 320, 240).toString("base64");
    const drop = await page.evaluateHandle(`(() => {
      const bytes = Uint8Array.from(atob("${png}"), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], "cat.png", { type: "image/png" }));
      return transfer;
    })()`);
    await page.locator("#drop-zone").dispatchEvent("dragover", { dataTransfer: drop });
    await page.locator("#drop-zone").dispatchEvent("drop", { dataTransfer: drop });
    await expect
      .poll(() => page.locator("#transform-file-status").textContent())
      .toContain("Uploaded cat.png");
    expect(await page.locator("#transform-preview").isVisible()).toBe(true);

    const slider = page.getByRole("slider");
    await slider.focus();
    for (let i = 0; i < 4; i++) await page.keyboard.press("ArrowRight");
    expect(await page.locator("#transform-strength-value").textContent()).toBe("0.70");
    await page.locator("#transform-prompt").fill("turn it into a watercolor");
    await page.getByRole("button", { name: /Transform/ }).click();
    const task = card("turn it into a watercolor");
    await task.locator(".status", { hasText: "completed" }).waitFor();
    await task.locator(".thumb img").waitFor();
    expect(await credits()).toBe(38);
    await shot("05-transformed");
  }, 120_000);

  it("runs a 5-prompt batch whose progress bars all reach 100 %", async () => {
    await chooseMode("Batch");
    const prompts = ["red fox", "blue whale", "green parrot", "yellow taxi", "purple iris"].map(
      (word) => `batch ${word}`,
    );
    await page.locator("#batch-prompts").fill(prompts.join("\n"));
    await page.getByRole("button", { name: /Submit batch/ }).click();
    for (const prompt of prompts) await card(prompt).waitFor();
    expect((await page.locator("li.task .prompt").allTextContents()).slice(0, 5)).toEqual(prompts);
    await shot("06-batch-running");
    for (const prompt of prompts) {
      await card(prompt).locator(".status", { hasText: "completed" }).waitFor();
      expect(await card(prompt).locator("progress").getAttribute("value")).toBe("100");
      expect(await card(prompt).locator(".percent").textContent()).toBe("100 %");
    }
    await Promise.all(prompts.map((prompt) => card(prompt).locator(".thumb img").waitFor()));
    expect(await credits()).toBe(33);
    await shot("07-batch-done");
  }, 180_000);

  it("shows a failed task's error and retries it (the service charges the retry)", async () => {
    const prompt = "a broken one [fail:50511]";
    await page.locator("#batch-prompts").fill(prompt);
    await page.getByRole("button", { name: /Submit batch/ }).click();
    const task = card("a broken one");
    await task.locator(".status", { hasText: "failed" }).waitFor();
    expect(await task.locator(".error").textContent()).toMatch(/50511/);
    await shot("08-failed");
    const before = await credits();
    const counters = () =>
      fetch(`${serve.emulator}/__emulator/counters`)
        .then((response) => response.json() as Promise<{ tasksByPrompt: Record<string, number> }>)
        .then((body) => body.tasksByPrompt[prompt] ?? 0);
    expect(await counters()).toBe(1);
    await task.getByRole("button", { name: "Retry" }).click();
    await expect.poll(counters, { timeout: WAIT }).toBe(2);
    await task.locator(".status", { hasText: "failed" }).waitFor();
    await expect.poll(credits).toBe(before - 1);
  }, 120_000);

  it("cancels a task still waiting in the queue (its credit comes back)", async () => {
    await page.getByRole("radio", { name: "One prompt × N" }).check();
    await page.locator("#batch-prompt").fill("queued lantern");
    await page.locator("#batch-count").fill("4");
    const before = await credits();
    await page.getByRole("button", { name: /Submit batch/ }).click();
    const waiting = page.locator("li.task", { has: page.locator(".prompt", { hasText: "queued lantern" }) });
    await expect.poll(() => waiting.count()).toBe(4);
    const last = waiting.filter({ has: page.getByRole("button", { name: "Cancel" }) }).first();
    await last.getByRole("button", { name: "Cancel" }).click();
    await page.locator("li.task .status", { hasText: "cancelled" }).waitFor();
    await shot("09-cancelled");
    await expect
      .poll(async () => page.locator("li.task .status", { hasText: "completed" }).count(), { timeout: WAIT })
      .toBe(1 + 1 + 5 + 3);
    expect(await credits()).toBe(before - 3);
    // Nothing moved as tasks arrived and progressed (cumulative layout shift, user-caused shifts excluded).
    const shift = await page.evaluate<number>("window.__shifts.total");
    console.log(`page-browser: cumulative layout shift ${shift.toFixed(4)}`);
    expect(shift).toBeLessThan(0.1);
  }, 180_000);

  it("makes a video and plays it in the full-size view; with the event streams cut, the polling finishes it", async () => {
    let cut = 0;
    await page.route(/\/events$/, (route) => {
      cut++;
      return route.abort();
    });
    await chooseMode("Video");
    await page.locator("#video-prompt").fill("waves rolling onto a beach");
    await page.getByRole("button", { name: "Make video" }).click();
    const task = card("waves rolling onto a beach");
    await task.locator(".status", { hasText: "completed" }).waitFor();
    expect(cut).toBeGreaterThan(0);
    await page.unroute(/\/events$/);
    await task.getByRole("button", { name: /View full size/ }).click();
    await expect
      .poll(() =>
        page.locator("#viewer-video").evaluate((video) => (video as unknown as { src: string }).src),
      )
      .toMatch(/^blob:/);
    await page.keyboard.press("Escape");
    await page.locator("#viewer").waitFor({ state: "hidden" });
  }, 120_000);

  it("reads on a phone-width screen, in the system's dark mode, without sideways scrolling", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.evaluate("window.scrollTo(0, 0)");
    expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    const background = await page.evaluate<string>("getComputedStyle(document.body).backgroundColor");
    expect(background).toBe("rgb(18, 20, 24)");
    await shot("10-phone-dark");
    await page.locator("#tasks").scrollIntoViewIfNeeded();
    await shot("11-phone-dark-tasks");
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.emulateMedia({ colorScheme: "light" });
  }, 60_000);

  it("shows a second user none of the first user's work, even when asked for it by id", async () => {
    const aliceTask = (await card("batch red fox").getAttribute("data-id")) as string;
    const own = await fetch(`${serve.url}/api/v1/files/${encodeURIComponent(aliceTask)}/1.png`, {
      headers: { authorization: `Bearer ${alice.key}` },
    });
    expect(own.status).toBe(200);
    await page.getByRole("button", { name: "Sign out" }).click();
    expect(await page.evaluate<string | null>("sessionStorage.getItem('jimeng.apiKey')")).toBeNull();
    await signIn(bob.key);
    expect(await page.locator("#who").textContent()).toContain("bob");
    await page.getByRole("button", { name: "Refresh" }).click();
    await expect.poll(credits).toBe(10);
    expect(await page.locator("li.task").count()).toBe(0);
    expect(await page.locator("#tasks-empty").isVisible()).toBe(true);
    // With the page's own key (bob's), straight at alice's task, file and list.
    const statuses = await page.evaluate<number[]>(`(async () => {
      const id = encodeURIComponent(${JSON.stringify(aliceTask)});
      const headers = { authorization: "Bearer " + sessionStorage.getItem("jimeng.apiKey") };
      const ask = (url) => fetch(url, { headers }).then((response) => response.status);
      return [
        await ask("/api/v1/tasks/" + id),
        await ask("/api/v1/files/" + id + "/1.png"),
        await ask("/api/v1/tasks/user/alice"),
      ];
    })()`);
    expect(statuses).toEqual([404, 404, 403]);
    await shot("12-second-user");
  }, 60_000);
});
