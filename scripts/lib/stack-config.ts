// A stack's raw config for the offline scripts: `pulumi config --json` when a backend answers, else the
// committed Pulumi.<stack>.yaml. Secure values are never decrypted: they become a marker string.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT } from "../../config/project";

export const ROOT = path.resolve(__dirname, "..", "..");

export type RawConfig = Record<string, string>;

export const SECURE_MARKER = "<redacted: secure stack config, not decrypted>";

const asRaw = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/**
 * A copy of the project elsewhere (the e2e suites, the bench) deploys the same application checkout: a relative
 * applicationCheckout in the copy's stack files (read from the project directory) becomes the absolute path it
 * names from `from`, the project copied.
 */
export function pinApplicationCheckout(work: string, from = ROOT): void {
    for (const f of fs.readdirSync(work).filter((n) => /^Pulumi\..+\.yaml$/.test(n))) {
        const file = path.join(work, f);
        const text = fs.readFileSync(file, "utf8");
        const pinned = text.replace(new RegExp(`^(\\s*${PROJECT}:applicationCheckout:\\s*)(['"]?)([^'"\\s#]+)\\2`, "m"),
            (m, key: string, _q: string, value: string) => (path.isAbsolute(value) || value.startsWith("~") ? m : `${key}${path.resolve(from, value)}`));
        if (pinned !== text) fs.writeFileSync(file, pinned);
    }
}

/** Raw config (key without project prefix -> string, as the SDK hands it over) of a Pulumi.<stack>.yaml file. */
export function rawConfigFromFile(file: string): RawConfig {
    const doc = parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    const raw: RawConfig = {};
    for (const [k, v] of Object.entries(doc?.config ?? {})) {
        if (!k.startsWith(`${PROJECT}:`)) continue;
        const secure = v !== null && typeof v === "object" && !Array.isArray(v) && "secure" in v;
        raw[k.slice(PROJECT.length + 1)] = secure ? SECURE_MARKER : asRaw(v);
    }
    return raw;
}

/** Raw config from `pulumi config --json` (no --show-secrets), or undefined when no backend/stack answers. */
function rawConfigFromPulumi(stack: string): RawConfig | undefined {
    let out: string;
    try {
        out = execFileSync("pulumi", ["config", "--json", "--stack", stack], {
            cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000,
            env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
        });
    } catch {
        return undefined;
    }
    const entries = JSON.parse(out) as Record<string, { value?: unknown; secret?: boolean }>;
    const raw: RawConfig = {};
    for (const [k, e] of Object.entries(entries)) {
        if (!k.startsWith(`${PROJECT}:`)) continue;
        raw[k.slice(PROJECT.length + 1)] = e.secret ? SECURE_MARKER : asRaw(e.value);
    }
    return raw;
}

export interface StackConfig {
    readonly raw: RawConfig;
    /** Where the config came from, for the user. */
    readonly source: string;
}

/**
 * The config the stack would deploy with. The target cluster is never contacted, so a kubeconfig path that does
 * not exist on this machine is replaced by an empty placeholder (it changes no rendered object).
 */
export function readStackConfig(stack: string): StackConfig {
    let raw = rawConfigFromPulumi(stack);
    let source = `pulumi config --stack ${stack}`;
    if (raw === undefined) {
        const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
        if (!fs.existsSync(file)) throw new Error(`no stack ${stack}: \`pulumi config\` did not answer and ${file} does not exist`);
        raw = rawConfigFromFile(file);
        source = path.relative(ROOT, file);
    }
    const kc = raw.kubeconfig;
    if (kc && !kc.includes("\n") && !fs.existsSync(kc.replace(/^~(?=\/|$)/, os.homedir()))) {
        const placeholder = path.join(os.tmpdir(), `egov-offline-kubeconfig-${process.pid}`);
        fs.writeFileSync(placeholder, "apiVersion: v1\nkind: Config\n");
        process.on("exit", () => fs.rmSync(placeholder, { force: true }));
        raw = { ...raw, kubeconfig: placeholder };
    }
    return { raw, source };
}

/**
 * `--name value` command-line options; -h/--help prints `usage` (its first line "usage: npm run NAME ...") on stdout
 * and exits 0 before anything else is read; exits 2 with the usage on anything unknown.
 */
export function parseArgs(argv: readonly string[], known: Record<string, string>, usage: string): Record<string, string> {
    if (argv.includes("-h") || argv.includes("--help")) {
        process.stdout.write(`${usage}\n`);
        process.exit(0);
    }
    const opts: Record<string, string> = {};
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const name = a.replace(/^--/, "").split("=")[0];
        if (!a.startsWith("--") || !(name in known)) {
            process.stderr.write(`unknown argument ${a}\n${usage.split("\n")[0]}\n(--help shows the usage)\n`);
            process.exit(2);
        }
        if (a.includes("=")) opts[name] = a.slice(a.indexOf("=") + 1);
        else if (known[name] === "flag") opts[name] = "true";
        else if (i + 1 < argv.length) opts[name] = argv[++i];
        else {
            process.stderr.write(`${a} needs a value\n${usage}\n`);
            process.exit(2);
        }
    }
    return opts;
}
