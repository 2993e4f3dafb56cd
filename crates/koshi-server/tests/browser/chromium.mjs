// Debian's Chromium for the tests: headless, without the background networking this machine's
// closed network refuses, each browser in a fresh profile of its own.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

/** An environment variable run.sh sets; the tests cannot run without it. */
export function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with run.sh`);
  return value;
}

/** The koshi server under test (checked when a test file starts its browser), and where
 *  screenshots go. */
export const BASE = process.env.KOSHI_URL ?? "";
export const ARTIFACTS = process.env.KOSHI_ARTIFACTS || path.resolve("target/browser-artifacts");

export const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** A browser with an empty profile; `close()` ends it and removes the profile. */
export async function browser(viewport = { width: 1200, height: 900 }) {
  const profile = await mkdtemp(path.join(tmpdir(), "koshi-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium", headless: true, args: FLAGS, viewport,
  });
  context.setDefaultTimeout(20_000);
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** One browser for a test file: started before its tests (`shared.context` is its context) and
 *  closed after them. */
export function oneBrowser() {
  const shared = { context: null };
  let session;
  before(async () => {
    required("KOSHI_URL");
    await mkdir(ARTIFACTS, { recursive: true });
    session = await browser();
    shared.context = session.context;
  });
  after(async () => {
    await session?.close();
  });
  return shared;
}
