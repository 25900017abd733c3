// The upload and viewer pages in a real Chromium against a real sajin (run.sh starts it and
// passes SAJIN_URL, SAJIN_USER and SAJIN_PASSWORD). The tests run in order and share one
// logged-in browser context: later tests open what earlier ones uploaded. Every page is
// watched for console errors; a screenshot of each goes to BROWSER_TEST_OUT.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { deflateSync } from "node:zlib";

import { chromium } from "playwright-core";

const BASE = process.env.SAJIN_URL;
const USER = process.env.SAJIN_USER;
const PASSWORD = process.env.SAJIN_PASSWORD;
const OUT = process.env.BROWSER_TEST_OUT;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
/** The longest one browser action or wait may take before the test fails. */
const ACTION_TIMEOUT_MS = 20_000;

let browser;
let context;
const consoleErrors = [];
const uploaded = {};

// ---- test images ----

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An RGB PNG with a gradient; `seed` makes each one's bytes different. */
function png(width, height, seed) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      rows.set([(x * 255) / width, (y * 255) / height, seed], row + 1 + x * 3);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

// ---- browser helpers ----

/** A refused upload shows in Chromium's console as a failed resource load; that is expected. */
function isExpectedRefusal(message) {
  return (
    message.location().url.includes("/api/1/upload") && /status of 4\d\d/.test(message.text())
  );
}

async function newPage() {
  const page = await context.newPage();
  page.setDefaultTimeout(ACTION_TIMEOUT_MS);
  page.on("console", (message) => {
    if (message.type() === "error" && !isExpectedRefusal(message)) {
      consoleErrors.push(`${page.url()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
  return page;
}

async function screenshot(page, name) {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

async function openUploader(page) {
  await page.goto(`${BASE}/`);
  await page.waitForFunction(() => /\d/.test(document.getElementById("limits").textContent));
}

async function waitForResults(page, count) {
  await page.waitForFunction(
    (expected) =>
      !document.getElementById("results-section").hidden &&
      document.querySelectorAll("#results .result").length === expected &&
      document.getElementById("cancel").hidden,
    count,
  );
}

/** Each result's name and links, by kind (viewer, direct, thumb, …). */
async function results(page) {
  return page.$$eval("#results .result", (cards) =>
    cards.map((card) => ({
      name: card.querySelector(".name").textContent,
      links: Object.fromEntries(
        [...card.querySelectorAll("input[data-link]")].map((input) => [
          input.dataset.link,
          input.value,
        ]),
      ),
    })),
  );
}

async function customize(page, fileName, fill) {
  await page.click(`button[aria-label="Customize ${fileName}"]`);
  await page.waitForSelector("#editor[open]");
  await fill();
  await page.click("#edit-save");
  await page.waitForSelector("#editor:not([open])", { state: "attached" });
}

before(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: 60_000,
  });
  context = await browser.newContext({ locale: "en-US", viewport: { width: 1280, height: 900 } });
  const page = await newPage();
  await page.goto(`${BASE}/login`);
  await screenshot(page, "login");
  await page.fill('input[name="username"]', USER);
  await page.fill('input[name="password"]', PASSWORD);
  await page.click('button[type="submit"]');
  await page.waitForURL(`${BASE}/`);
  await page.close();
});

after(async () => {
  await browser?.close();
});

// ---- the tests ----

test("the upload page loads in a few requests, under 100 KB", async () => {
  const page = await newPage();
  const loaded = [];
  page.on("requestfinished", async (request) => {
    const response = await request.response();
    loaded.push({ url: request.url(), bytes: (await response.body()).length });
  });
  await openUploader(page);
  await page.waitForLoadState("networkidle");
  const total = loaded.reduce((sum, entry) => sum + entry.bytes, 0);
  console.log(`upload page: ${loaded.length} requests, ${total} bytes uncompressed`);
  for (const entry of loaded) console.log(`  ${entry.bytes} bytes  ${entry.url}`);
  assert.ok(loaded.length <= 6, `${loaded.length} requests`);
  assert.ok(total < 100_000, `${total} bytes`);
  const limits = await page.textContent("#limits");
  assert.match(limits, /^JPG PNG BMP GIF WEBP .*max 20 MB$/);
  await page.close();
});

test("a file that breaks the limits is flagged before it is sent", async () => {
  const page = await newPage();
  await openUploader(page);
  await page.setInputFiles("#file-input", {
    name: "notes.txt",
    mimeType: "text/plain",
    buffer: Buffer.from("just some text"),
  });
  const state = await page.textContent('#queue .item[data-state="invalid"] .state');
  assert.match(state, /Unsupported file type: only JPG PNG BMP GIF WEBP/);
  assert.equal(await page.isDisabled("#start"), true, "an upload of nothing can start");
  const choices = (select) => page.$$eval(`${select} option`, (options) => options.length);
  assert.equal(await choices("#global-expiration"), 24, "never and the 23 auto-delete times");
  assert.equal(await choices("#edit-expiration"), 25, "as for all files, never and the 23");
  await page.close();
});

test("two images and a broken one: progress to 100 %, two results, a report", async () => {
  const page = await newPage();
  await openUploader(page);
  await page.setInputFiles("#file-input", [
    { name: "harbour.png", mimeType: "image/png", buffer: png(640, 480, 1) },
    { name: "garden.png", mimeType: "image/png", buffer: png(320, 240, 2) },
    { name: "broken.png", mimeType: "image/png", buffer: Buffer.from("not an image at all") },
  ]);
  await customize(page, "harbour.png", () => page.fill("#edit-title", "Harbour at dusk"));
  await customize(page, "garden.png", () => page.check("#edit-nsfw"));
  await page.click("#start");
  await waitForResults(page, 2);

  assert.equal(await page.getAttribute("#total-progress", "value"), "100");
  assert.equal(await page.textContent("#status"), "Uploading 3 files (100% complete)");
  assert.equal(await page.textContent("#results-heading"), "Upload complete");
  assert.equal(
    await page.textContent("#error-title"),
    "Some errors have occurred and the system couldn't process your request",
  );
  assert.equal(await page.textContent("#error-note"), "Note: Some files couldn't be uploaded");
  const report = await page.$$eval("#error-report li", (lines) => lines.map((l) => l.textContent));
  assert.equal(report.length, 1, report.join("\n"));
  assert.match(report[0], /^broken\.png: Invalid or unsupported file type/);

  const found = await results(page);
  assert.deepEqual(found.map((result) => result.name).sort(), ["Harbour at dusk", "garden"]);
  for (const result of found) {
    for (const kind of ["viewer", "direct", "thumb"]) {
      const response = await context.request.get(result.links[kind]);
      assert.equal(response.status(), 200, `${result.name} ${kind}: ${result.links[kind]}`);
    }
    assert.match(result.links.markdown, /^\[!\[.*\]\(http.*\)\]\(http.*\)$/);
    assert.match(result.links.delete, /\/delete\/\w+$/);
    uploaded[result.name] = result.links;
  }
  await screenshot(page, "upload-results");
  await page.close();
});

test("the customized title is the viewer page's heading", async () => {
  const page = await newPage();
  await page.goto(uploaded["Harbour at dusk"].viewer);
  assert.equal(await page.textContent("h1"), "Harbour at dusk");
  assert.equal(
    await page.getAttribute('meta[property="og:title"]', "content"),
    "Harbour at dusk",
  );
  await screenshot(page, "viewer");
  await page.close();
});

test("an NSFW upload's viewer page is blurred until it is clicked", async () => {
  const page = await newPage();
  await page.goto(uploaded.garden.viewer);
  const filter = () => page.$eval("#media", (media) => getComputedStyle(media).filter);
  assert.match(await filter(), /blur/);
  await screenshot(page, "viewer-nsfw");
  await page.click("[data-reveal]");
  assert.equal(await filter(), "none");
  await page.close();
});

test("an image pasted from the clipboard is queued and uploaded", async () => {
  const page = await newPage();
  await openUploader(page);
  const bytes = [...png(200, 150, 3)];
  await page.evaluate((data) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(data)], "pasted.png", { type: "image/png" }));
    document.dispatchEvent(
      new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }),
    );
  }, bytes);
  await page.waitForSelector('#queue .item[data-state="queued"]');
  assert.equal(await page.textContent("#queue .item .name"), "pasted.png");
  await page.click("#start");
  await waitForResults(page, 1);
  const [result] = await results(page);
  const response = await context.request.get(result.links.direct);
  assert.equal(response.status(), 200);
  await page.close();
});

test("a URL added on the page is fetched by the server", async () => {
  const page = await newPage();
  await openUploader(page);
  await page.click("#add-url");
  await page.fill("#url-input", `ftp://nowhere.example/a.png`);
  await page.click('#url-form button[type="submit"]');
  assert.match(await page.textContent("#url-error"), /Not an http or https URL/);
  await page.fill("#url-input", uploaded.garden.direct);
  await page.click('#url-form button[type="submit"]');
  await page.waitForSelector('#queue .item[data-state="queued"]');
  await page.click("#start");
  await waitForResults(page, 1);
  const [result] = await results(page);
  assert.equal((await context.request.get(result.links.direct)).status(), 200);
  await page.close();
});

test("the delete link asks first, then deletes", async () => {
  const page = await newPage();
  await page.goto(uploaded.garden.delete);
  assert.equal(await page.textContent("h1"), "Delete this upload?");
  await screenshot(page, "delete-link");
  await Promise.all([page.waitForLoadState("load"), page.click("button.danger")]);
  assert.equal(await page.textContent("h1"), "Deleted");
  assert.equal((await context.request.get(uploaded.garden.direct)).status(), 404);
  await page.close();
});

test("an upload can be cancelled and the cancelled file retried", async () => {
  const page = await newPage();
  await openUploader(page);
  // Hold the upload at the network layer, so the cancel surely comes while it is in flight.
  let held;
  const isHeld = new Promise((resolve) => (held = resolve));
  await page.route("**/api/1/upload", (route) => {
    held();
    return new Promise(() => {});
  });
  await page.setInputFiles("#file-input", {
    name: "held.png",
    mimeType: "image/png",
    buffer: png(90, 60, 6),
  });
  await page.click("#start");
  await isHeld;
  await page.click("#cancel");
  await page.waitForSelector('#queue .item[data-state="failed"]');
  assert.match(await page.textContent("#error-report"), /held\.png: Cancelled/);

  await page.unroute("**/api/1/upload");
  await page.click("#retry");
  await waitForResults(page, 1);
  assert.equal(await page.isHidden("#error-box"), true);
  assert.equal(await page.textContent("#results-heading"), "Upload complete");
  await page.close();
});

test("the queue and the editor work from the keyboard", async () => {
  const page = await newPage();
  await openUploader(page);
  await page.setInputFiles("#file-input", {
    name: "keys.png",
    mimeType: "image/png",
    buffer: png(60, 40, 5),
  });
  await page.focus('button[aria-label="Customize keys.png"]');
  await page.keyboard.press("Enter");
  await page.waitForSelector("#editor[open]");
  await page.keyboard.type("Typed title");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#editor:not([open])", { state: "attached" });
  assert.equal(await page.textContent("#queue .item .name"), "Typed title");
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement?.getAttribute("aria-label"));
  assert.equal(focused, "Remove keys.png");
  await page.keyboard.press("Enter");
  assert.equal(await page.$$eval("#queue .item", (entries) => entries.length), 0);
  await page.close();
});

test("a copy button puts the link on the clipboard", async () => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
  const page = await newPage();
  await page.goto(uploaded["Harbour at dusk"].viewer);
  await page.click('button[aria-label="Copy: Viewer link"]');
  await page.waitForFunction(() =>
    [...document.querySelectorAll("button.copy")].some((b) => b.textContent === "Copied"),
  );
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, uploaded["Harbour at dusk"].viewer);
  await page.close();
});

test("the pages fit a 360 px phone and follow a dark system theme", async () => {
  const page = await newPage();
  await page.setViewportSize({ width: 360, height: 740 });
  await page.emulateMedia({ colorScheme: "dark" });
  for (const [name, url] of [
    ["phone-upload", `${BASE}/`],
    ["phone-viewer", uploaded["Harbour at dusk"].viewer],
  ]) {
    await page.goto(url);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `${name} is ${width} px wide`);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(background, "rgb(20, 20, 23)", `${name} is not dark`);
    await screenshot(page, name);
  }
  await page.close();
});

test("my uploads lists the uploads newest first and deletes one", async () => {
  const page = await newPage();
  await page.goto(`${BASE}/uploads`);
  const names = await page.$$eval(".mine .item .name", (spans) => spans.map((s) => s.textContent));
  assert.equal(names[0], "held", names.join(", "));
  assert.ok(names.includes("pasted"), names.join(", "));
  assert.ok(names.includes("Harbour at dusk"), names.join(", "));
  await screenshot(page, "my-uploads");
  page.once("dialog", (dialog) => dialog.accept());
  await Promise.all([
    page.waitForURL(`${BASE}/uploads`),
    page.click('button[aria-label="Delete held"]'),
  ]);
  const after = await page.$$eval(".mine .item .name", (spans) => spans.map((s) => s.textContent));
  assert.deepEqual(after, names.slice(1));
  await page.close();
});

test("switching to Korean shows the page in Korean and is remembered", async () => {
  const page = await newPage();
  await openUploader(page);
  await Promise.all([page.waitForEvent("load"), page.selectOption("#lang-select", "ko")]);
  await page.waitForFunction(() => /\d/.test(document.getElementById("limits").textContent));
  assert.equal(await page.getAttribute("html", "lang"), "ko");
  assert.equal(await page.textContent("#browse"), "또는 컴퓨터에서 탐색할 수 있습니다");
  assert.match(await page.textContent("#limits"), /최대 20 MB$/);

  await page.setInputFiles("#file-input", {
    name: "korean.png",
    mimeType: "image/png",
    buffer: png(120, 90, 4),
  });
  await page.click("#start");
  await waitForResults(page, 1);
  assert.equal(await page.textContent("#status"), "업로드 중 1 files (100% 완료)");
  assert.equal(await page.textContent("#results-heading"), "업로드가 완료되었습니다");
  await screenshot(page, "upload-ko");

  await page.goto(`${BASE}/login`);
  assert.equal(await page.getAttribute("html", "lang"), "ko", "the choice was forgotten");
  await page.close();
});

test("no page logged a console error", () => {
  assert.deepEqual(consoleErrors, []);
});
