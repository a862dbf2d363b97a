// The application checkout a stack deploys (stack config `applicationCheckout`): the team's own checkout of
// egovframe-msa-edu at the version its images were built from. The platform reads the applications' own
// configuration repository (`config/`) from it and serves it as written (config/served.ts); nothing of it is
// committed here. A checkout that is missing, or at another version than the platform's facts were derived
// from, stops the run before anything changes.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { ApplicationCheckout, Json } from "./types";
import { expandHome } from "./files";
import { APPLICATION_SQL } from "./migrations";
import { PROJECT } from "./project";
import { Reader } from "./reader";

/** The application source the platform's facts (scripts/lib/boot-facts.json, config/wiring.ts) were derived from. */
export const UPSTREAM = {
    repo: "https://github.com/eGovFramework/egovframe-msa-edu",
    commit: "d830e08efa9aa3b8d2eaa1c66dcb81c13fd19f47",
} as const;

/** Where the project lives: relative checkout paths in a stack file are read from here, as Pulumi runs it. */
const PROJECT_DIR = path.resolve(__dirname, "..");

/** The checkout's commit: its SOURCE_COMMIT file (an export), else git's HEAD. */
export function checkoutCommit(dir: string): string | undefined {
    const file = path.join(dir, "SOURCE_COMMIT");
    if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim().split(/\s+/)[0] || undefined;
    try {
        return execFileSync("git", ["-C", dir, "rev-parse", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
        return undefined;
    }
}

/** The files of the applications' configuration repository: `config/*.yml`, by name. */
function configRepository(dir: string): Record<string, string> {
    const files: Record<string, string> = {};
    for (const f of fs.readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) files[f] = fs.readFileSync(path.join(dir, f), "utf8");
    return files;
}

/** backend/<service>/src/main/resources/application.yml of every service that has one, by service. */
function packagedConfig(backend: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const svc of fs.readdirSync(backend).sort()) {
        const f = path.join(backend, svc, "src", "main", "resources", "application.yml");
        if (fs.existsSync(f)) out[svc] = fs.readFileSync(f, "utf8");
    }
    return out;
}

export function readApplicationCheckout(r: Reader, value: Json | undefined): ApplicationCheckout {
    const key = "applicationCheckout";
    const none: ApplicationCheckout = { path: "", commit: "", configFiles: {}, sqlFiles: {}, packagedConfig: {} };
    const fix = "a checkout of egovframe-msa-edu at the version your images were built from " +
        `(${UPSTREAM.commit.slice(0, 12)}), e.g. \`pulumi config set ${key} ~/src/egovframe-msa-edu\``;
    if (value === undefined || value === null || value === "") {
        r.problems.push(`${PROJECT}:${key}: not set; expected ${fix}; the platform serves its config/ and checks the stack against its source`);
        return none;
    }
    if (typeof value !== "string") return r.reject(key, value, fix) ?? none;
    const dir = path.resolve(PROJECT_DIR, expandHome(value));
    const configDir = path.join(dir, "config");
    if (!fs.existsSync(path.join(configDir, "application.yml")) || !fs.existsSync(path.join(dir, "backend"))) {
        return r.reject(key, value, `${fix} (${dir} has no config/application.yml and backend/)`) ?? none;
    }
    const commit = checkoutCommit(dir);
    if (commit === undefined) {
        return r.reject(key, value, `${fix} (its version cannot be read: no SOURCE_COMMIT file and not a git checkout)`) ?? none;
    }
    if (commit !== UPSTREAM.commit) {
        r.problems.push(`${PROJECT}:${key}: ${JSON.stringify(value)} is at ${commit}, but this platform's facts were derived from ` +
            `${UPSTREAM.commit}; check out that version, or move the platform to yours (docs/boot-check.md, "A newer upstream commit")`);
        return none;
    }
    // The schema and reference data the platform migrates (config/migrations.ts): all of them, or the run stops.
    const sqlFiles: Record<string, string> = {};
    const missing = APPLICATION_SQL.map((a) => a.file).filter((f) => !fs.existsSync(path.join(dir, f)));
    if (missing.length > 0) return r.reject(key, value, `${fix} (${dir} has no ${missing.join(", ")}: the schema the platform migrates)`) ?? none;
    for (const a of APPLICATION_SQL) sqlFiles[a.file] = fs.readFileSync(path.join(dir, a.file), "utf8");
    return { path: dir, commit, configFiles: configRepository(configDir), sqlFiles, packagedConfig: packagedConfig(path.join(dir, "backend")) };
}
