// The chat demo in headless Chromium: the page loads the official browser client from the
// demo server, two tabs chat through room "lobby" (presence, typing, delivery ticks) while a
// third tab in room "other" hears nothing, and a nickname over 32 characters is refused.
//
//   cd tests && node --test browser/
//
// Starts `target/release/demo --port 0` itself (or `$DEMO_SERVER`); Chromium is
// `/usr/bin/chromium` (or `$CHROMIUM`). No fixed sleeps: every wait is a bounded poll.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { chromium } from "playwright-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DEMO = process.env.DEMO_SERVER ?? path.join(root, "target/release/demo");
const WAIT = 10_000;

// Required on this machine (closed network, no sandbox, no GPU).
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Spawns the demo server on a free port; resolves with `{ url, proc, log }` once it listens. */
function startDemo() {
  const proc = spawn(DEMO, ["--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stderr.on("data", (d) => {
    log += d;
    if (log.length > 200_000) log = log.slice(-100_000);
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${DEMO} did not start:\n${log}`)), 15_000);
    proc.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`${DEMO}: ${e.message} (cargo build --release --bin demo)`));
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${DEMO} exited with ${code}:\n${log}`));
    });
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], proc, log: () => log });
      }
    });
  });
}

function stopDemo(proc) {
  return new Promise((resolve) => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const kill = setTimeout(() => proc.kill("SIGKILL"), 5_000);
    proc.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    proc.kill("SIGTERM");
  });
}

/** Resolves like `promise`, or rejects once `ms` have passed. */
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe("chat page in headless Chromium", () => {
  let server;
  let browser;

  before(async () => {
    server = await startDemo();
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: FLAGS,
    });
  });

  after(async () => {
    await browser?.close();
    await stopDemo(server?.proc);
  });

  /** A fresh browser context (own cookies, own connection) with the page loaded and connected. */
  async function open() {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      // Chromium asks for /favicon.ico on its own; a 404 there is not the page's doing.
      if (m.type() === "error" && !m.location().url?.endsWith("/favicon.ico")) errors.push(m.text());
    });
    // The client starts on HTTP long-polling and upgrades: it sends "5" (UPGRADE) on the
    // WebSocket once the server has answered its "2probe" with "3probe".
    const upgraded = new Promise((resolve) =>
      page.on("websocket", (ws) => ws.on("framesent", (f) => f.payload === "5" && resolve())),
    );
    await page.goto(server.url);
    await page.locator('#status[data-state="connected"]').waitFor();
    await within(upgraded, WAIT, "the transport upgrade to WebSocket");
    return { context, page, errors };
  }

  /** Opens a tab and joins `room` as `nick`. */
  async function tab(nick, room) {
    const t = await open();
    await t.page.locator("#nick").fill(nick);
    await t.page.locator("#room").fill(room);
    await t.page.locator("#join button").click();
    await t.page.locator("#room-title", { hasText: `#${room}` }).waitFor();
    await t.page.locator("#text:enabled").waitFor();
    return t;
  }

  const members = (page) => page.locator("#members li").allTextContents();
  const waitMembers = (page, list) =>
    page.waitForFunction(
      (want) => JSON.stringify([...document.querySelectorAll("#members li")].map((li) => li.textContent)) === want,
      JSON.stringify(list),
      { timeout: WAIT },
    );

  it("two tabs chat in a room with presence, typing and delivery ticks; another room hears nothing", async () => {
    const tabs = [];
    try {
      await lobbyScenario(tabs);
    } finally {
      // Leave nobody behind in the rooms for the next test, pass or fail.
      await Promise.all(tabs.map((t) => t.context.close().catch(() => {})));
    }
  });

  async function lobbyScenario(tabs) {
    const alice = await tab("alice", "lobby");
    tabs.push(alice);
    const bob = await tab("bob", "lobby");
    tabs.push(bob);
    const carol = await tab("carol", "other");
    tabs.push(carol);

    // Presence: each lobby tab lists both nicks; alice is told bob joined.
    await waitMembers(alice.page, ["alice", "bob"]);
    await waitMembers(bob.page, ["alice", "bob"]);
    await alice.page.locator("#messages li.system", { hasText: "bob joined" }).waitFor();
    assert.deepEqual(await members(carol.page), ["carol"]);

    // Typing indicator, then the message: a delivered tick for alice, her nick at bob's.
    await alice.page.locator("#text").pressSequentially("hello bob");
    await bob.page.locator("#typing", { hasText: "alice is typing" }).waitFor();
    await alice.page.locator("#text").press("Enter");
    const sent = alice.page.locator("#messages li.mine", { hasText: "hello bob" });
    await sent.locator(".tick.delivered").waitFor();
    assert.equal(await sent.locator(".nick").textContent(), "alice");
    assert.match((await sent.getAttribute("data-id")) ?? "", /.+-\d+$/);

    const got = bob.page.locator("#messages li.theirs", { hasText: "hello bob" });
    await got.waitFor();
    assert.equal(await got.locator(".nick").textContent(), "alice");
    assert.equal(await got.locator(".text").textContent(), "hello bob");
    await bob.page.waitForFunction(() => document.getElementById("typing").textContent === "", null, {
      timeout: WAIT,
    });

    // Bob replies; alice sees it; each own message is on its own page exactly once.
    await bob.page.locator("#text").fill("hi alice");
    await bob.page.locator("#send button").click();
    await bob.page.locator("#messages li.mine", { hasText: "hi alice" }).locator(".tick.delivered").waitFor();
    const reply = alice.page.locator("#messages li.theirs", { hasText: "hi alice" });
    await reply.waitFor();
    assert.equal(await reply.locator(".nick").textContent(), "bob");
    assert.equal(await alice.page.locator("#messages li.mine").count(), 1, "alice's own message once");
    assert.equal(await alice.page.locator("#messages li.theirs").count(), 1);
    assert.equal(await bob.page.locator("#messages li.mine").count(), 1, "bob's own message once");
    assert.equal(await bob.page.locator("#messages li.theirs").count(), 1);

    // Room "other": carol's own message round-trips (so her connection is live and has
    // been served after the lobby messages went out), yet none of the lobby's reached her.
    await carol.page.locator("#text").fill("anyone?");
    await carol.page.locator("#text").press("Enter");
    await carol.page.locator("#messages li.mine .tick.delivered").waitFor();
    assert.deepEqual(await carol.page.locator("#messages li").allTextContents(), ["carolanyone?✓"]);
    assert.equal(await carol.page.locator("#typing").textContent(), "");
    assert.deepEqual(await members(carol.page), ["carol"]);
    assert.equal(await alice.page.locator("#messages li", { hasText: "anyone?" }).count(), 0);

    // Bob's page closes: alice's list drops him and a system line says so.
    await bob.page.close();
    await bob.context.close();
    await alice.page.locator("#messages li.system", { hasText: "bob left" }).waitFor();
    await waitMembers(alice.page, ["alice"]);
    assert.deepEqual(await members(carol.page), ["carol"]);

    for (const t of [alice, bob, carol]) assert.deepEqual(t.errors, []);
  }

  it("shows the server's error for a nickname over 32 characters and does not join", async (test) => {
    const t = await open();
    test.after(() => t.context.close().catch(() => {}));
    const { page } = t;
    // The input's maxlength would stop the browser from typing it; the server must refuse it.
    await page.evaluate(() => document.getElementById("nick").removeAttribute("maxlength"));
    await page.locator("#nick").fill("n".repeat(33));
    await page.locator("#room").fill("lobby");
    await page.locator("#join button").click();
    await page.locator("#join-error", { hasText: "1 to 32 characters" }).waitFor();
    assert.equal(await page.locator("#room-title").textContent(), "Not in a room");
    assert.equal(await page.locator("#text").isDisabled(), true);
    assert.equal(await page.locator("#members li").count(), 0);

    // 32 characters exactly is fine, and clears the error.
    await page.locator("#nick").fill("n".repeat(32));
    await page.locator("#room").fill("nicks");
    await page.locator("#join button").click();
    await page.locator("#room-title", { hasText: "#nicks" }).waitFor();
    await page.waitForFunction(() => document.getElementById("join-error").textContent === "", null, {
      timeout: WAIT,
    });
    await waitMembers(page, ["n".repeat(32)]);
    assert.deepEqual(t.errors, []);
  });
});
