// The chat demo in headless Chromium: the page loads the official browser client from the
// server, and two tabs chat through a room while a third, elsewhere, hears nothing.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { startServer } from "../js/harness.mjs";

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

describe("chat page in Chromium", () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer("demo");
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: FLAGS });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function tab(nick, room) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e));
    await page.goto(server.url);
    await page.locator('#status[data-state="connected"]').waitFor({ timeout: 10_000 });
    await page.fill("#nick", nick);
    await page.fill("#room", room);
    await page.click("#join button");
    await page.locator("#room-title", { hasText: `#${room}` }).waitFor();
    return { page, context, errors };
  }

  const members = (page) => page.locator("#members li").allTextContents();

  it("lets two tabs chat through a room, with typing and delivery ticks", async () => {
    const alice = await tab("alice", "lobby");
    const bob = await tab("bob", "lobby");
    const carol = await tab("carol", "elsewhere");

    await alice.page.waitForFunction(() => document.querySelectorAll("#members li").length === 2);
    assert.deepEqual(await members(alice.page), ["alice", "bob"]);
    assert.deepEqual(await members(bob.page), ["alice", "bob"]);
    await alice.page.locator("#messages .system", { hasText: "bob joined" }).waitFor();

    await alice.page.type("#text", "hello bob");
    await bob.page.locator("#typing", { hasText: "alice is typing" }).waitFor();
    await alice.page.press("#text", "Enter");
    await alice.page.locator("#messages li.mine .tick.delivered").waitFor();
    const got = bob.page.locator("#messages li.theirs", { hasText: "hello bob" });
    await got.waitFor();
    assert.equal(await got.locator(".nick").textContent(), "alice");
    await bob.page.locator("#typing", { hasText: /^$/ }).waitFor();

    await bob.page.fill("#text", "hi alice");
    await bob.page.press("#text", "Enter");
    await alice.page.locator("#messages li.theirs", { hasText: "hi alice" }).waitFor();
    await bob.page.locator("#messages li.mine .tick.delivered").waitFor();
    assert.equal(await alice.page.locator("#messages li.mine").count(), 1, "own message shown once");

    assert.equal(await carol.page.locator("#messages li").count(), 0, "another room hears nothing");
    assert.deepEqual(await members(carol.page), ["carol"]);

    await bob.context.close();
    await alice.page.locator("#messages .system", { hasText: "bob left" }).waitFor();
    await alice.page.waitForFunction(() => document.querySelectorAll("#members li").length === 1);
    assert.deepEqual(await members(alice.page), ["alice"]);

    for (const t of [alice, bob, carol]) assert.deepEqual(t.errors, []);
    await alice.context.close();
    await carol.context.close();
  });

  it("refuses a nickname over 32 characters", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(server.url);
    await page.locator('#status[data-state="connected"]').waitFor({ timeout: 10_000 });
    await page.evaluate(() => document.getElementById("nick").removeAttribute("maxlength"));
    await page.fill("#nick", "x".repeat(33));
    await page.click("#join button");
    await page.locator("#join-error", { hasText: "1 to 32 characters" }).waitFor();
    assert.equal(await page.locator("#room-title").textContent(), "Not in a room");
    await context.close();
  });
});
