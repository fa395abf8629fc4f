// Opens one local HTML file in Debian's headless chromium and prints, as one JSON object,
// what the browser tests ask about it.
//
//   node tests/browser/page.mjs --file PAGE.html [--screenshot OUT.png]
//        [--phone-screenshot OUT.png] [--select CSS ...]
//
// Output: {
//   "title": document title,
//   "requests": every URL the page asked for, the file itself included, in order,
//   "errors": uncaught page errors and console errors,
//   "desktop": {"innerWidth", "scrollWidth"} at 1280x800,
//   "phone": {"innerWidth", "scrollWidth", "overflowing"} at 390x844 (a phone: isMobile,
//            so a page without a viewport meta tag lays out at 980px and overflows),
//   "selected": {CSS: [{"text", "data": {data-* attributes}}]} for each --select
// }
// Any request other than the file itself is aborted: the page must work offline, and the
// test sees the attempt in "requests". Exit 2 on bad arguments, 1 when the browser fails.

import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

// Debian's chromium, or the one the environment names (as `make test CHROMIUM=...` does).
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
];
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

function usage(message) {
  process.stderr.write(`page.mjs: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = { file: null, screenshot: null, phoneScreenshot: null, select: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const name = argv[i];
    const value = argv[i + 1];
    if (value === undefined) usage(`${name} needs a value`);
    i += 1;
    if (name === "--file") args.file = value;
    else if (name === "--screenshot") args.screenshot = value;
    else if (name === "--phone-screenshot") args.phoneScreenshot = value;
    else if (name === "--select") args.select.push(value);
    else usage(`unknown argument ${name}`);
  }
  if (args.file === null) usage("--file is required");
  if (!existsSync(args.file)) usage(`${args.file} does not exist`);
  return args;
}

// Records every request of a context and lets only the page's own file through.
async function watch(context, url, requests, errors) {
  context.on("request", (request) => requests.push(request.url()));
  await context.route("**/*", (route) =>
    route.request().url() === url ? route.continue() : route.abort("blockedbyclient"),
  );
  context.on("page", (page) => {
    page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(`console: ${message.text()}`);
    });
    page.on("websocket", (socket) => requests.push(socket.url()));
  });
}

async function open(browser, url, viewport, isMobile, requests, errors) {
  const context = await browser.newContext({
    viewport,
    isMobile,
    hasTouch: isMobile,
    deviceScaleFactor: isMobile ? 2 : 1,
    serviceWorkers: "block",
  });
  await watch(context, url, requests, errors);
  const page = await context.newPage();
  await page.goto(url, { waitUntil: "load" });
  return { context, page };
}

async function widths(page) {
  return page.evaluate(() => ({
    innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
  }));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const url = pathToFileURL(resolve(args.file)).href;
  const requests = [];
  const errors = [];
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  try {
    const desktop = await open(browser, url, DESKTOP, false, requests, errors);
    const result = {
      title: await desktop.page.title(),
      requests,
      errors,
      desktop: await widths(desktop.page),
      selected: {},
    };
    for (const selector of args.select) {
      result.selected[selector] = await desktop.page.$$eval(selector, (elements) =>
        elements.map((element) => ({
          text: element.innerText.trim(),
          data: { ...element.dataset },
        })),
      );
    }
    if (args.screenshot !== null) {
      await desktop.page.screenshot({ path: args.screenshot, fullPage: true });
    }
    await desktop.context.close();

    const phone = await open(browser, url, PHONE, true, requests, errors);
    const measured = await widths(phone.page);
    result.phone = {
      ...measured,
      overflowing: measured.innerWidth > PHONE.width || measured.scrollWidth > PHONE.width,
    };
    if (args.phoneScreenshot !== null) {
      await phone.page.screenshot({ path: args.phoneScreenshot, fullPage: true });
    }
    await phone.context.close();
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  process.stderr.write(`page.mjs: ${error.message}\n`);
  process.exit(1);
});
