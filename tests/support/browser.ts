// Debian's Chromium, headless, driven by playwright-core (npm, pinned): the public hosts resolved to the local
// ingress (tests/support/ingress.ts) with --host-resolver-rules, every screenshot kept in a run directory.
import * as fs from "fs";
import * as path from "path";
import { Browser, chromium, Page } from "playwright-core";

export const CHROMIUM = process.env.EGOV_CHROMIUM ?? "/usr/bin/chromium";

export interface BrowserRun {
    readonly browser: Browser;
    /** Where the screenshots go. */
    readonly dir: string;
    /** Every screenshot taken, in order (file names in dir). */
    readonly shots: string[];
    /** A full-page screenshot named `<nn>-<name>.png`. */
    shot(page: Page, name: string): Promise<string>;
    close(): Promise<void>;
}

export async function launchBrowser(o: { hostResolverRules: string; dir: string }): Promise<BrowserRun> {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (tests/support/test-deps.sh installs it)`);
    fs.mkdirSync(o.dir, { recursive: true });
    const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        // Root has no user namespace sandbox here; the pages are the platform's own.
        args: ["--no-sandbox", `--host-resolver-rules=${o.hostResolverRules}, EXCLUDE localhost`, "--disable-dev-shm-usage"],
    });
    const shots: string[] = [];
    return {
        browser, dir: o.dir, shots,
        shot: async (page, name) => {
            const file = `${String(shots.length + 1).padStart(2, "0")}-${name.replace(/[^A-Za-z0-9_.-]+/g, "-")}.png`;
            await page.screenshot({ path: path.join(o.dir, file), fullPage: true });
            shots.push(file);
            return file;
        },
        close: () => browser.close(),
    };
}
