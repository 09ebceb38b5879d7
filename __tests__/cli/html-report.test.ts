/**
 * `facility-pipeline report --out FILE.html` in a real browser: the Chromium that
 * @sparticuz/chromium ships inside its npm package, driven by puppeteer-core, offline. The page
 * must work from an email attachment, so every request but the file itself is refused and
 * counted. The report comes from the local digest workflow over a state directory.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { execFileSync } from "node:child_process";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { renderDigestHtml, REPORT_DATA_ID, type DigestReport } from "../../cli/html-report";
import { HORIZONS } from "../../core/horizons";
import { LocalPipeline } from "../../local/pipeline";
import { runCli } from "../helpers/operations";
import { extendedSampleLines } from "../fixtures/facilities";

process.env.POWERTOOLS_LOG_LEVEL = "SILENT";

const AS_OF = "2027-03-26";
const scratch = mkdtempSync(join(tmpdir(), "html-report-test-"));
const stateDir = join(scratch, "state");

/**
 * Where @sparticuz/chromium unpacks its Chromium, and the flags it runs with. The package is ES
 * modules only, which Jest's CommonJS runtime cannot import: a Node process asks it.
 */
function packagedChromium(): { executablePath: string; args: string[] } {
  const script = `import("@sparticuz/chromium").then(async ({ default: c }) =>
    process.stdout.write(JSON.stringify({ executablePath: await c.executablePath(), args: c.args })))`;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }));
}

let browser: Browser;
beforeAll(async () => {
  browser = await puppeteer.launch({ ...packagedChromium(), headless: true });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Opens a file with every other request refused; returns the page and what it tried to load. */
async function open(path: string): Promise<{ page: Page; blocked: string[]; errors: string[] }> {
  const page = await browser.newPage();
  const blocked: string[] = [];
  const errors: string[] = [];
  const url = pathToFileURL(path).href;
  await page.setRequestInterception(true);
  page.on("request", (request) => {
    if (request.url() === url) void request.continue();
    else {
      blocked.push(request.url());
      void request.abort();
    }
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("body[data-rendered=true]", { timeout: 5000 });
  return { page, blocked, errors };
}

const tableRows = (page: Page) =>
  page.$$eval("#digest tbody tr", (rows) => rows.map((row) => [...row.children].map((cell) => cell.textContent)));

describe("report --out FILE.html", () => {
  let html: string;
  let digest: { expiringAccreditations: { state: string; accreditation_body: string; days_until_expiry: number }[] };

  beforeAll(async () => {
    const pipeline = await LocalPipeline.start({ stateDir, asOf: "2026-11-26", retryIntervalMs: 1 });
    try {
      const path = join(scratch, "registry.jsonl");
      writeFileSync(path, `${extendedSampleLines().join("\n")}\n`);
      expect((await pipeline.runExecution(await pipeline.upload(path))).status).toBe("SUCCEEDED");
    } finally {
      await pipeline.stop();
    }
    html = join(scratch, "digest.html");
    const written = await runCli(
      "report",
      "--target",
      "local",
      "--state-dir",
      stateDir,
      "--as-of",
      AS_OF,
      "--out",
      html,
    );
    expect(written.stderr).toBe("");
    expect(written.code).toBe(0);
    expect(written.stdout).toMatch(
      new RegExp(`^Wrote ${html}: \\d+ accreditation\\(s\\) as of ${AS_OF}, from 1 upload\\(s\\)`),
    );
    digest = JSON.parse(
      (await runCli("digest", "--target", "local", "--state-dir", stateDir, "--as-of", AS_OF, "--json")).stdout,
    );
  }, 60_000);

  test("it opens with no network request and shows every row of the digest, soonest first", async () => {
    const { page, blocked, errors } = await open(html);
    try {
      expect(blocked).toEqual([]);
      expect(errors).toEqual([]);
      const rows = await tableRows(page);
      expect(rows.length).toBe(digest.expiringAccreditations.length);
      expect(rows.length).toBeGreaterThan(3);
      const days = rows.map((row) => Number(row[0]));
      expect(days).toEqual([...days].sort((a, b) => a - b));
      expect(await page.$eval("#shown", (node) => node.textContent)).toBe(`Showing ${rows.length} of ${rows.length}`);
      // The horizons' cards add up to the rows.
      const cards = await page.$$eval(".card", (nodes) =>
        nodes.map((node) => [node.getAttribute("data-horizon"), Number(node.querySelector("b")!.textContent)]),
      );
      expect(cards.map(([horizon]) => horizon)).toEqual([...HORIZONS]);
      expect(cards.reduce((sum, [, count]) => sum + Number(count), 0)).toBe(rows.length);
      // Provenance: the upload the current state comes from.
      expect(await page.$eval("#uploads tbody", (node) => node.textContent)).toContain("raw/registry.jsonl");
      const shot = join(scratch, "digest.png");
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
    } finally {
      await page.close();
    }
  });

  test("the per-state chart has one bar per state with its count; the timeline has 12 months", async () => {
    const { page } = await open(html);
    try {
      const perState = new Map<string, number>();
      for (const row of digest.expiringAccreditations) perState.set(row.state, (perState.get(row.state) ?? 0) + 1);
      const bars = await page.$$eval("#state-chart rect", (rects) =>
        rects.map((rect) => [rect.getAttribute("data-label"), Number(rect.getAttribute("data-count"))]),
      );
      expect(Object.fromEntries(bars)).toEqual(Object.fromEntries(perState));
      const widths = await page.$$eval("#state-chart rect", (rects) => rects.map((rect) => rect.getBBox().width));
      expect(widths.every((width) => width > 0)).toBe(true);
      const months = await page.$$eval("#timeline rect", (rects) =>
        rects.map((rect) => rect.getAttribute("data-label")),
      );
      expect(months).toEqual([
        "2027-03", "2027-04", "2027-05", "2027-06", "2027-07", "2027-08",
        "2027-09", "2027-10", "2027-11", "2027-12", "2028-01", "2028-02",
      ]); // prettier-ignore
    } finally {
      await page.close();
    }
  });

  test("filters by state and body, and sorts by days left both ways", async () => {
    const { page } = await open(html);
    try {
      const state = digest.expiringAccreditations[0].state;
      await page.select("#filter-state", state);
      const inState = digest.expiringAccreditations.filter((row) => row.state === state);
      expect((await tableRows(page)).map((row) => row[3])).toEqual(inState.map((row) => row.state));
      expect(await page.$eval("#shown", (node) => node.textContent)).toBe(
        `Showing ${inState.length} of ${digest.expiringAccreditations.length}`,
      );
      const body = inState[0].accreditation_body;
      await page.select("#filter-body", body);
      expect((await tableRows(page)).length).toBe(inState.filter((row) => row.accreditation_body === body).length);
      await page.select("#filter-state", "");
      await page.select("#filter-body", "");
      await page.click('#digest th[data-key="days_until_expiry"] button');
      const days = (await tableRows(page)).map((row) => Number(row[0]));
      expect(days).toEqual([...days].sort((a, b) => b - a));
      expect(await page.$eval('#digest th[data-key="days_until_expiry"]', (th) => th.getAttribute("aria-sort"))).toBe(
        "descending",
      );
    } finally {
      await page.close();
    }
  });
});

describe("renderDigestHtml", () => {
  const hostile: DigestReport = {
    asOf: "2027-01-01",
    windowMonths: 6,
    lookbackDays: 30,
    horizons: { expired: 0, "0-30": 1, "31-60": 0, "61-90": 0, "91-180": 0, beyond: 0 },
    expiringAccreditations: [
      {
        facility_id: "FAC-1",
        facility_name: '</script><img src="https://example.com/x.png" onerror="document.title=1">',
        state: "VT",
        accreditation_body: "<b>TJC</b>",
        accreditation_id: "TJC-1",
        valid_until: "2027-01-10",
        days_until_expiry: 9,
        horizon: "0-30",
      },
    ],
    provenance: { generatedAt: "2027-01-01T06:00:00.000Z", uploads: [] },
  };

  test("a registry's text is shown as text: it can neither close the data block nor load anything", async () => {
    const source = renderDigestHtml(hostile);
    expect(source).not.toContain("</script><img");
    const path = join(scratch, "hostile.html");
    writeFileSync(path, source);
    const { page, blocked, errors } = await open(path);
    try {
      expect(blocked).toEqual([]);
      expect(errors).toEqual([]);
      expect(await page.$$("img")).toHaveLength(0);
      expect(await page.title()).toBe("Accreditation expiry digest as of 2027-01-01");
      expect((await tableRows(page))[0][5]).toBe(hostile.expiringAccreditations[0].facility_name);
      const data = await page.$eval(`#${REPORT_DATA_ID}`, (node) => JSON.parse(node.textContent!));
      expect(data.expiringAccreditations).toEqual(hostile.expiringAccreditations);
    } finally {
      await page.close();
    }
  });

  test("an empty digest says there is nothing to report", async () => {
    const path = join(scratch, "empty.html");
    writeFileSync(path, renderDigestHtml({ ...hostile, expiringAccreditations: [] }));
    const { page } = await open(path);
    try {
      expect(await tableRows(page)).toEqual([]);
      expect(await page.$eval("#empty", (node) => [node.hidden, node.textContent])).toEqual([
        false,
        "Nothing to report: no accreditation expired in the last 30 days and none expires within 6 months.",
      ]);
      expect(readFileSync(path, "utf8")).not.toMatch(/\b(src|href)=["']?https?:/);
    } finally {
      await page.close();
    }
  });
});
