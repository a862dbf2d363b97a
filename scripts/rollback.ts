// Puts back the stack config of an earlier successful update, from the stack's history (`pulumi stack history`):
// images, replicas, every setting. Run by `npm run rollback` (scripts/deploy.sh), which then previews and applies it
// like any change. Generated credentials and data volumes are resources in the state, not config: untouched, and the
// credential generations (`rotation`) are carried forward, never restored (CARRIED_FORWARD).
//
//   ts-node --swc scripts/rollback.ts --stack NAME [--to N]     restore update N's config
//   ts-node --swc scripts/rollback.ts --stack NAME --list       the numbered updates
//
// Updates are numbered from the stack's first (1), as Pulumi Cloud numbers them; the DIY backends (file, PostgreSQL,
// S3) record no numbers (`pulumi stack history` shows Version 0), so this count is the one to pass to --to.
// Prints the number it chose on stdout. Secret values go to `pulumi config set --secret` on stdin, never argv.
import { execFileSync } from "child_process";
import { PROJECT } from "../config/project";

interface ConfigValue { readonly value?: string; readonly objectValue?: unknown; readonly secret: boolean }
export interface Update {
    readonly version: number;
    readonly kind: string;
    readonly result?: string;
    readonly startTime: string;
    readonly config: Record<string, ConfigValue>;
}

/** History (newest first, as the CLI lists it) with each entry's number: its own version, else its place from the oldest. */
export function numbered(history: readonly Update[]): Update[] {
    const n = history.length;
    return history.map((u, i) => ({ ...u, version: u.version > 0 ? u.version : n - i }));
}

/**
 * Config a rollback keeps as it is now. An earlier rotation generation is not the earlier password (that value left the
 * state): it would be a new random one that no rotation Job sets, or a user a retire Job locked; the pods would be
 * locked out of MySQL and RabbitMQ. So generations only go forward (docs/day-2.md).
 */
export const CARRIED_FORWARD: readonly string[] = [`${PROJECT}:rotation`];
const ours = (config: Record<string, ConfigValue>, all = false): Record<string, ConfigValue> =>
    Object.fromEntries(Object.entries(config).filter(([k]) => k.startsWith(`${PROJECT}:`) && (all || !CARRIED_FORWARD.includes(k)))
        .sort(([a], [b]) => a.localeCompare(b)));

/** The config a rollback to `target` writes: the target's, with the carried-forward keys as they are now. */
export function restoredConfig(target: Update, current: Record<string, ConfigValue>): Record<string, ConfigValue> {
    const now = ours(current, true);
    const kept = Object.fromEntries(CARRIED_FORWARD.filter((k) => k in now).map((k) => [k, now[k]]));
    return Object.fromEntries(Object.entries({ ...ours(target.config), ...kept }).sort(([a], [b]) => a.localeCompare(b)));
}
const same = (a: ConfigValue | undefined, b: ConfigValue | undefined) =>
    a !== undefined && b !== undefined && a.secret === b.secret && JSON.stringify(a.objectValue ?? a.value) === JSON.stringify(b.objectValue ?? b.value);
const differs = (a: Record<string, ConfigValue>, b: Record<string, ConfigValue>) =>
    [...new Set([...Object.keys(a), ...Object.keys(b)])].some((k) => !same(a[k], b[k]));

/**
 * The update to go back to: `to` if given (it must have succeeded), else the newest success whose config differs from
 * now in more than the carried-forward keys (a rotation alone is nothing to roll back).
 */
export function chooseTarget(history: readonly Update[], current: Record<string, ConfigValue>, to?: number): Update {
    const succeeded = numbered(history).filter((u) => u.kind === "update" && u.result === "succeeded").sort((a, b) => b.version - a.version);
    const list = succeeded.map((u) => `${u.version} (${u.startTime})`).join(", ") || "none";
    if (to !== undefined) {
        const u = succeeded.find((x) => x.version === to);
        if (!u) throw new Error(`update ${to} is not a successful update of this stack; successful updates: ${list}`);
        return u;
    }
    const u = succeeded.find((x) => differs(ours(x.config), ours(current)));
    if (!u) throw new Error(`no earlier successful update has a configuration other than the current one (successful updates: ${list})`);
    return u;
}

function pulumi(args: string[], input?: string): string {
    return execFileSync("pulumi", args, { encoding: "utf8", input, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "inherit"], maxBuffer: 256 << 20 });
}

function main(argv: string[]): void {
    let stack = "", to: number | undefined, list = false;
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--stack") stack = argv[++i] ?? "";
        else if (argv[i] === "--list") list = true;
        else if (argv[i] === "--to" && /^[0-9]+$/.test(argv[i + 1] ?? "")) to = Number(argv[++i]);
        else throw new Error(`unknown argument ${argv[i]}\nusage: npm run rollback -- --stack NAME [--to N | --list]`);
    }
    if (!stack) throw new Error("usage: npm run rollback -- --stack NAME [--to N | --list]");
    if (list) {
        const history = JSON.parse(pulumi(["stack", "history", "--stack", stack, "--json", "--page-size", "10000"]) || "[]") as Update[];
        for (const u of numbered(history)) {
            const image = u.config[`${PROJECT}:image`]?.objectValue as { tag?: string } | undefined;
            process.stdout.write(`${u.version}\t${u.startTime}\t${u.kind}\t${u.result ?? ""}\timage.tag=${image?.tag ?? "(default)"}\n`);
        }
        return;
    }
    const history = JSON.parse(pulumi(["stack", "history", "--stack", stack, "--json", "--show-secrets", "--page-size", "10000"]) || "[]") as Update[];
    const current = ours(JSON.parse(pulumi(["config", "--stack", stack, "--json", "--show-secrets"])) as Record<string, ConfigValue>, true);
    const target = chooseTarget(history, current, to);
    const wanted = restoredConfig(target, current);
    const gone = Object.keys(current).filter((k) => !(k in wanted));
    if (gone.length > 0) pulumi(["config", "rm-all", "--stack", stack, ...gone]);
    const plain: Record<string, ConfigValue> = {};
    for (const [k, v] of Object.entries(wanted)) {
        if (same(v, current[k])) continue;
        if (v.secret && v.objectValue !== undefined) throw new Error(`${k} is a secret object: set it by hand, then run npm run deploy`);
        if (v.secret) pulumi(["config", "set", "--stack", stack, "--secret", k], v.value ?? "");
        else plain[k] = v;
    }
    if (Object.keys(plain).length > 0) pulumi(["config", "set-all", "--stack", stack, "--json", JSON.stringify(plain)]);
    const changed = [...gone, ...Object.keys(wanted).filter((k) => !same(wanted[k], current[k]))].map((k) => k.slice(PROJECT.length + 1)).sort();
    const carried = CARRIED_FORWARD.filter((k) => k in current && !same(current[k], ours(target.config, true)[k])).map((k) => k.slice(PROJECT.length + 1));
    process.stderr.write(`config of update ${target.version} (${target.startTime}) restored; keys changed: ${changed.join(", ") || "none"}` +
        `${carried.length > 0 ? `; carried forward (never rolled back): ${carried.join(", ")}` : ""}\n`);
    process.stdout.write(`${target.version}\n`);
}

if (require.main === module) {
    try {
        main(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(`error: ${(e as Error).message}\n`);
        process.exit(1);
    }
}
