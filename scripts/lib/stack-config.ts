// A stack's raw config for the offline scripts: `pulumi config --json` when a backend answers, else the
// committed Pulumi.<stack>.yaml. Secure values are never decrypted: they become a marker string.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT } from "../../config/project";
import { SECURE_MARKER } from "../../config/reader";

export const ROOT = path.resolve(__dirname, "..", "..");

export type RawConfig = Record<string, string>;

export { SECURE_MARKER };

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

/**
 * The program's key (no prefix) of a key in a stack file, or undefined when the key is another namespace's
 * (`kubernetes:`, `pulumi:`). As Pulumi reads the file: a key without a namespace is the project's (docs
 * content/docs/iac/concepts/config.md, pulumi/docs: "Configuration methods operate on a particular namespace, which
 * by default is the name of the current project"), and `<ns>:config:<name>` is the old spelling of `<ns>:<name>`
 * (pulumi/pulumi sdk/go/common/resource/config/key.go, ParseKey); any other colon is a key Pulumi refuses to parse.
 * Checked against the CLI: `pulumi config --json` (v3.274.1) lists `replicas:` as egov-platform:replicas.
 */
export function projectKey(fileKey: string): string | undefined {
    const parts = fileKey.split(":");
    if (parts.length === 1) return fileKey;
    if (parts.length === 2) return parts[0] === PROJECT ? parts[1] : undefined;
    if (parts.length === 3 && parts[1] === "config") return parts[0] === PROJECT ? parts[2] : undefined;
    throw new Error(`${fileKey}: not a configuration key (keys are <namespace>:<name>, or <name> for ${PROJECT}'s own)`);
}

/** Pulumi's encrypted value: a map whose only entry is `secure: <ciphertext>`, anywhere in the value. */
function holdsSecure(v: unknown): boolean {
    if (v === null || typeof v !== "object") return false;
    const entries = Object.entries(v);
    if (!Array.isArray(v) && entries.length === 1 && entries[0][0] === "secure" && typeof entries[0][1] === "string") return true;
    return entries.some(([, x]) => holdsSecure(x));
}

/**
 * Raw config (key without project prefix -> string, as the SDK hands it over) of a Pulumi.<stack>.yaml file: the
 * project's keys, prefixed or not. A key holding an encrypted value anywhere is secret as a whole (so the CLI
 * lists it) and becomes SECURE_MARKER. One key written both ways is refused: the CLI silently takes the one
 * later in the file (v3.274.1), so which value deploys would depend on line order.
 */
export function rawConfigFromFile(file: string): RawConfig {
    const doc = parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    const raw: RawConfig = {};
    const spelt = new Map<string, string>();
    const problems: string[] = [];
    for (const [k, v] of Object.entries(doc?.config ?? {})) {
        let key: string | undefined;
        try {
            key = projectKey(k);
        } catch (e) {
            problems.push((e as Error).message);
            continue;
        }
        if (key === undefined) continue;
        const before = spelt.get(key);
        if (before !== undefined) {
            problems.push(`${before} and ${k} are one key, ${PROJECT}:${key}, set twice; keep one of them`);
            continue;
        }
        spelt.set(key, k);
        raw[key] = holdsSecure(v) ? SECURE_MARKER : asRaw(v);
    }
    if (problems.length > 0) throw new Error(`${file}:\n  - ${problems.join("\n  - ")}`);
    return raw;
}

/** The keys of raw config stored encrypted (both readers turn them into SECURE_MARKER). */
export function secretKeysOf(raw: RawConfig): string[] {
    return Object.keys(raw).filter((k) => raw[k] === SECURE_MARKER);
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
    /** Keys stored encrypted, as the program's runtime knows them (kubeconfig stays one after its placeholder). */
    readonly secretKeys: readonly string[];
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
    const secretKeys = secretKeysOf(raw);
    const kc = raw.kubeconfig;
    if (kc && !kc.includes("\n") && !fs.existsSync(kc.replace(/^~(?=\/|$)/, os.homedir()))) {
        const placeholder = path.join(os.tmpdir(), `egov-offline-kubeconfig-${process.pid}`);
        fs.writeFileSync(placeholder, "apiVersion: v1\nkind: Config\n");
        process.on("exit", () => fs.rmSync(placeholder, { force: true }));
        raw = { ...raw, kubeconfig: placeholder };
    }
    return { raw, source, secretKeys };
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
