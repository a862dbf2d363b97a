// The kubectl-vs-Pulumi benchmark (run through scripts/bench.sh, which puts the toolchain on PATH).
// Each run starts a fresh local cluster for each tool, so neither profits from the other's caches.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { PREVIEW_ENV, throwawayEnv } from "./lib/pulumi-env";
import { writeScaleStack } from "./lib/scale";
import { pinApplicationCheckout } from "./lib/stack-config";

const ROOT = path.resolve(__dirname, "..");
const CACHE = process.env.EGOV_CACHE ?? path.join(os.homedir(), ".cache/egov-platform");
// What a copy of the project needs to run the program and `npm run render`.
const PROJECT_FILES = ["Pulumi.yaml", "Pulumi.dev.yaml", "index.ts", "package.json", "tsconfig.json", "components", "config", "jobs", "scripts", "tests"];
const HELP = `usage: npm run bench [-- OPTIONS]
kubectl against Pulumi on the same objects, on fresh local clusters (built here: needs Go >= 1.26).
  --runs N            runs per measurement (default 3)
  --scale N           backend services added for the scale measurement (default 81: 90 in all, 10x the nine built-ins)
  --no-scale          skip the scale measurement
  --parallel N        pulumi --parallel (default $EGOV_PULUMI_PARALLEL or 64; 0 = the engine's default, 4 x cores)
  --skip-checkpoints  PULUMI_SKIP_CHECKPOINTS=true (no state file written per step: see README)
  --project DIR       the Pulumi project to measure (default: this repository), e.g. an older checkout
  --slot N            e2e slot whose cluster ports and directory to use (default 5)
  --out FILE          JSON result (default $EGOV_CACHE/logs/bench.json)
  --no-unit           skip timing the unit suite`;

interface Options {
    runs: number; scale: number; parallel: number; skipCheckpoints: boolean;
    project: string; slot: number; out: string; unit: boolean;
}

function parseArgs(argv: string[]): Options {
    const o: Options = {
        runs: 3, scale: 81, parallel: Number(process.env.EGOV_PULUMI_PARALLEL ?? 64), skipCheckpoints: false,
        project: ROOT, slot: 5, out: path.join(CACHE, "logs/bench.json"), unit: true,
    };
    const num = (flag: string, v: string | undefined, min: number) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < min) fail(`${flag} expects a whole number >= ${min}, not ${v}`);
        return n;
    };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        switch (a) {
            case "--runs": o.runs = num(a, argv[++i], 1); break;
            case "--scale": o.scale = num(a, argv[++i], 1); break;
            case "--no-scale": o.scale = 0; break;
            case "--parallel": o.parallel = num(a, argv[++i], 0); break;
            case "--skip-checkpoints": o.skipCheckpoints = true; break;
            case "--project": o.project = path.resolve(argv[++i] ?? fail("--project expects a directory")); break;
            case "--slot": o.slot = num(a, argv[++i], 0); if (o.slot > 9) fail("--slot expects 0-9"); break;
            case "--out": o.out = path.resolve(argv[++i] ?? fail("--out expects a file")); break;
            case "--no-unit": o.unit = false; break;
            case "-h": case "--help": console.log(HELP); process.exit(0); break;
            default: fail(`unknown option ${a} (npm run bench -- --help shows every option)`);
        }
    }
    return o;
}

function fail(msg: string): never {
    console.error(`\x1b[31merror:\x1b[0m ${msg}`);
    process.exit(1);
}
const log = (msg: string) => console.error(`\x1b[1m==>\x1b[0m ${msg}`);

const opts = parseArgs(process.argv.slice(2));
// scripts/bench.sh asks this first, to refuse a wrong option before it installs anything.
if (process.env.EGOV_BENCH_CHECK_ARGS === "1") process.exit(0);
const LOGS = path.join(CACHE, "logs/bench");
fs.mkdirSync(LOGS, { recursive: true });

// The same ports and cluster directory tests/support/e2e.sh gives this slot.
const o = opts.slot * 1000;
const clusterEnv: Record<string, string> = {
    EGOV_CLUSTER_DIR: path.join(CACHE, `e2e-cluster${opts.slot === 0 ? "" : `-${opts.slot}`}`),
    EGOV_ETCD_PORT: String(23890 + o), EGOV_ETCD_PEER_PORT: String(23900 + o), EGOV_APISERVER_PORT: String(16543 + o),
    EGOV_KCM_PORT: String(20357 + o), EGOV_SCHEDULER_PORT: String(20359 + o), EGOV_KWOK_PORT: String(20347 + o),
};

/** Runs a command, its output into a log file; returns wall seconds. Fails the bench when it fails, unless allowed. */
function run(label: string, cmd: string, args: string[], extra: { cwd?: string; env?: Record<string, string>; allowFail?: boolean } = {}): number {
    const logFile = path.join(LOGS, `${label.replace(/[^A-Za-z0-9.-]+/g, "_")}.log`);
    const start = process.hrtime.bigint();
    const res = spawnSync(cmd, args, {
        cwd: extra.cwd ?? ROOT, env: { ...process.env, ...extra.env }, encoding: "utf8", maxBuffer: 256 << 20,
    });
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    fs.writeFileSync(logFile, `$ ${cmd} ${args.join(" ")}\n${res.stdout ?? ""}\n${res.stderr ?? ""}`);
    if ((res.status !== 0 || res.error) && !extra.allowFail) {
        console.error((res.stdout ?? "").slice(-3000), (res.stderr ?? "").slice(-3000));
        fail(`${label} failed (exit ${res.status}); log: ${logFile}`);
    }
    return secs;
}

// --- cluster -----------------------------------------------------------------------------------------

function freshCluster(): string {
    run("cluster-down", "bash", ["scripts/cluster.sh", "down", "--purge"], { env: clusterEnv, allowFail: true });
    const res = spawnSync("bash", ["scripts/cluster.sh", "up"], { cwd: ROOT, env: { ...process.env, ...clusterEnv }, encoding: "utf8" });
    const kubeconfig = /^KUBECONFIG=(.*)$/m.exec(res.stdout ?? "")?.[1];
    if (res.status !== 0 || !kubeconfig) fail(`the bench cluster did not start:\n${res.stderr}`);
    return kubeconfig;
}

function stopCluster(): void {
    run("cluster-down", "bash", ["scripts/cluster.sh", "down", "--purge"], { env: clusterEnv, allowFail: true });
}

// --- the project copy and its stacks -----------------------------------------------------------------

const work = fs.mkdtempSync(path.join(os.tmpdir(), "egov-bench-"));
process.on("exit", () => { stopCluster(); fs.rmSync(work, { recursive: true, force: true }); });
process.on("SIGINT", () => process.exit(130));
for (const f of PROJECT_FILES) {
    if (fs.existsSync(path.join(opts.project, f))) fs.cpSync(path.join(opts.project, f), path.join(work, f), { recursive: true });
}
fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(work, "node_modules"));
pinApplicationCheckout(work, opts.project);
const state = path.join(work, ".state");
fs.mkdirSync(state);

// Only what any user has to have (a backend and a passphrase): how the program runs comes from the project itself.
const plainEnv = throwawayEnv({ stateDir: state });
const pulumiEnv: Record<string, string> = { ...plainEnv, ...(opts.skipCheckpoints ? { PULUMI_SKIP_CHECKPOINTS: "true" } : {}) };
const parallel = opts.parallel > 0 ? ["--parallel", String(opts.parallel)] : [];

function pulumi(label: string, stack: string, args: string[]): number {
    const env = args[0] === "preview" ? { ...pulumiEnv, ...PREVIEW_ENV } : pulumiEnv;
    return run(label, "pulumi", [...args, "--stack", stack, "--non-interactive"], { cwd: work, env });
}

function freshStack(stack: string, kubeconfig: string): void {
    run(`stack-rm-${stack}`, "pulumi", ["stack", "rm", "--yes", "--force", "--preserve-config", "--stack", stack], { cwd: work, env: pulumiEnv, allowFail: true });
    run(`stack-init-${stack}`, "pulumi", ["stack", "init", stack, "--secrets-provider", "passphrase"], { cwd: work, env: pulumiEnv });
    run(`config-${stack}`, "pulumi", ["config", "set", "kubeconfig", kubeconfig, "--stack", stack], { cwd: work, env: pulumiEnv });
}

// --- the kubectl side: the objects the stack renders --------------------------------------------------

const renderCmd = (process.env.EGOV_BENCH_RENDER ?? "npm run --silent render --").split(" ");

function render(stack: string): string {
    const out = path.join(work, `rendered-${stack}`);
    fs.rmSync(out, { recursive: true, force: true });
    run(`render-${stack}`, renderCmd[0], [...renderCmd.slice(1), "--stack", stack, "--out", out], { cwd: work, env: pulumiEnv });
    const files = listYaml(out);
    if (files.length === 0) fail(`render of ${stack} wrote no objects into ${out}`);
    return out;
}

function listYaml(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name)).map((e) => path.join(e.parentPath, e.name));
}

interface Rendered { namespaces: string[]; statefulSets: Array<{ ns: string; name: string; replicas: number }> }

function inventory(dir: string): Rendered {
    const r: Rendered = { namespaces: [], statefulSets: [] };
    for (const f of listYaml(dir)) {
        for (const doc of fs.readFileSync(f, "utf8").split(/^---$/m)) {
            const obj = parse(doc) as { kind?: string; metadata?: { name: string; namespace?: string }; spec?: { replicas?: number } } | null;
            if (!obj?.kind || !obj.metadata) continue;
            if (obj.metadata.namespace && !r.namespaces.includes(obj.metadata.namespace)) r.namespaces.push(obj.metadata.namespace);
            if (obj.kind === "StatefulSet") r.statefulSets.push({ ns: obj.metadata.namespace!, name: obj.metadata.name, replicas: obj.spec?.replicas ?? 1 });
        }
    }
    return r;
}

function kubectl(label: string, kubeconfig: string, args: string[]): number {
    return run(label, "kubectl", ["--kubeconfig", kubeconfig, ...args]);
}

/** kubectl apply --server-side, then kubectl wait until what `pulumi up` waits for is ready. */
function kubectlApplyAndWait(label: string, kubeconfig: string, dir: string, inv: Rendered): number {
    let t = kubectl(`${label}-apply`, kubeconfig, ["apply", "--server-side", "--field-manager=bench", "-R", "-f", dir]);
    for (const ns of inv.namespaces) {
        t += kubectl(`${label}-wait-deploy-${ns}`, kubeconfig, ["wait", "-n", ns, "--for=condition=Available", "deployment", "--all", "--timeout=600s"]);
        t += kubectl(`${label}-wait-pvc-${ns}`, kubeconfig, ["wait", "-n", ns, "--for=jsonpath={.status.phase}=Bound", "pvc", "--all", "--timeout=600s"]);
    }
    for (const s of inv.statefulSets) {
        t += kubectl(`${label}-wait-sts-${s.name}`, kubeconfig, ["wait", "-n", s.ns, `--for=jsonpath={.status.readyReplicas}=${s.replicas}`, `statefulset/${s.name}`, "--timeout=600s"]);
    }
    return t;
}

// --- measurements ------------------------------------------------------------------------------------

type Times = Record<string, number[]>;
const times: Times = {};
const record = (step: string, secs: number) => {
    (times[step] ??= []).push(secs);
    log(`${step}: ${secs.toFixed(1)} s`);
    // Keep what was measured if a later step fails or the run is interrupted.
    fs.mkdirSync(path.dirname(opts.out), { recursive: true });
    fs.writeFileSync(opts.out, JSON.stringify({ partial: true, date: new Date().toISOString(), times }, null, 2));
};

function kubectlSequence(prefix: string, dir: string, full: boolean): void {
    const kubeconfig = freshCluster();
    const inv = inventory(dir);
    record(`${prefix}kubectl apply + wait`, kubectlApplyAndWait(`${prefix}kubectl`, kubeconfig, dir, inv));
    if (full) {
        record(`${prefix}kubectl re-apply`, kubectl("kubectl-reapply", kubeconfig, ["apply", "--server-side", "--field-manager=bench", "-R", "-f", dir]));
        record(`${prefix}kubectl apply --dry-run=server`, kubectl("kubectl-dry-run", kubeconfig,
            ["apply", "--server-side", "--field-manager=bench", "--dry-run=server", "-R", "-f", dir]));
        record(`${prefix}kubectl delete --wait`, kubectl("kubectl-delete", kubeconfig, ["delete", "--wait", "--ignore-not-found", "-R", "-f", dir]));
    }
}

function pulumiSequence(prefix: string, stack: string, full: boolean): void {
    const kubeconfig = freshCluster();
    freshStack(stack, kubeconfig);
    if (full) {
        // `pulumi preview` as typed in the project directory (no flag, no variable beyond backend and passphrase), against
        // npm run policy's preview (deploy.sh's --parallel and no per-step checkpoints) on the same empty stack.
        record(`${prefix}plain pulumi preview (empty stack)`,
            run(`${stack}-preview-plain`, "pulumi", ["preview", "--stack", stack, "--non-interactive"], { cwd: work, env: plainEnv }));
    }
    record(`${prefix}pulumi preview (empty stack)`, pulumi(`${stack}-preview-first`, stack, ["preview", ...parallel]));
    record(`${prefix}pulumi up (first)`, pulumi(`${stack}-up-first`, stack, ["up", "--yes", "--skip-preview", ...parallel]));
    record(`${prefix}pulumi preview (no changes)`, pulumi(`${stack}-preview-noop`, stack, ["preview", "--expect-no-changes", ...parallel]));
    record(`${prefix}pulumi up --skip-preview (no-op)`, pulumi(`${stack}-up-noop-skip`, stack, ["up", "--yes", "--skip-preview", "--expect-no-changes", ...parallel]));
    if (full) {
        record(`${prefix}pulumi up (no-op, with preview)`, pulumi(`${stack}-up-noop`, stack, ["up", "--yes", "--expect-no-changes", ...parallel]));
        record(`${prefix}pulumi destroy`, pulumi(`${stack}-destroy`, stack, ["destroy", "--yes", "--skip-preview", ...parallel]));
    }
}

/**
 * The floor of the 10x first `up`: the same `up` on a fresh cluster with the per-step checkpoints skipped, i.e. what it
 * costs without the file backend's rewrites of the whole state (unsafe for real use: a crash loses what was created).
 */
function scaleFloor(stack: string): void {
    freshStack(stack, freshCluster());
    record("10x: pulumi up (first, no checkpoints)", run(`${stack}-up-first-no-checkpoints`, "pulumi",
        ["up", "--yes", "--skip-preview", ...parallel, "--stack", stack, "--non-interactive"],
        { cwd: work, env: { ...pulumiEnv, PULUMI_SKIP_CHECKPOINTS: "true" } }));
}

/** Floors: what any run pays before it touches our program's resources. */
function floors(kubeconfig: string): void {
    record("floor: pulumi version", run("floor-version", "pulumi", ["version"]));
    record("floor: kubectl get namespaces", kubectl("floor-kubectl", kubeconfig, ["get", "namespaces"]));
    // A program with the same runtime, SDK and provider, declaring only one ConfigMap.
    const tiny = path.join(work, "floor");
    fs.mkdirSync(tiny, { recursive: true });
    fs.writeFileSync(path.join(tiny, "Pulumi.yaml"), "name: egov-floor\nruntime: nodejs\n");
    fs.writeFileSync(path.join(tiny, "package.json"), JSON.stringify({ name: "egov-floor", main: "index.ts" }));
    fs.copyFileSync(path.join(work, "tsconfig.json"), path.join(tiny, "tsconfig.json"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(tiny, "node_modules"));
    fs.writeFileSync(path.join(tiny, "index.ts"), [
        'import * as k8s from "@pulumi/kubernetes";',
        `const p = new k8s.Provider("cluster", { kubeconfig: ${JSON.stringify(kubeconfig)} });`,
        'new k8s.core.v1.ConfigMap("floor", { metadata: { namespace: "default" }, data: { a: "b" } }, { provider: p });',
    ].join("\n"));
    const f = (label: string, args: string[]) => run(label, "pulumi", [...args, "--stack", "floor", "--non-interactive"], { cwd: tiny, env: pulumiEnv });
    run("floor-init", "pulumi", ["stack", "init", "floor"], { cwd: tiny, env: pulumiEnv });
    record("floor: pulumi preview, one ConfigMap", f("floor-preview", ["preview"]));
    record("floor: pulumi up, one ConfigMap", f("floor-up", ["up", "--yes", "--skip-preview"]));
    record("floor: pulumi up no-op, one ConfigMap", f("floor-noop", ["up", "--yes", "--skip-preview"]));
    record("floor: pulumi destroy, one ConfigMap", f("floor-destroy", ["destroy", "--yes", "--skip-preview"]));
}

const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return { min: s[0], median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, runs: xs };
};

log(`bench: ${opts.runs} run(s), project ${opts.project}, --parallel ${opts.parallel || "engine default"}, ` +
    `${opts.skipCheckpoints ? "no checkpoints; " : ""}logs in ${LOGS}`);

if (opts.unit) {
    record("unit suite (npx mocha)", run("unit", "npx", ["mocha"], { cwd: opts.project }));
}

// Render once (the objects do not change between runs); render needs the stacks' config.
const kubeconfig = freshCluster();
floors(kubeconfig);
freshStack("dev", kubeconfig);
const devDir = render("dev");
let scaleDir: string | undefined;
if (opts.scale > 0) {
    writeScaleStack(work, opts.scale);
    freshStack("scale", kubeconfig);
    scaleDir = render("scale");
}
log(`rendered ${listYaml(devDir).length} objects for dev${scaleDir ? `, ${listYaml(scaleDir).length} with ${opts.scale} added services` : ""}`);

for (let i = 1; i <= opts.runs; i++) {
    log(`run ${i} of ${opts.runs}`);
    kubectlSequence("", devDir, true);
    pulumiSequence("", "dev", true);
    if (scaleDir) {
        kubectlSequence("10x: ", scaleDir, false);
        pulumiSequence("10x: ", "scale", false);
        if (!opts.skipCheckpoints) scaleFloor("scale");
    }
}

// --- report ------------------------------------------------------------------------------------------

const summary = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, stats(v)]));
const med = (k: string) => summary[k]?.median;
interface Row { step: string; pulumi?: string; baseline: string; factor: number; target: string }
const rows: Row[] = [
    { step: "plain pulumi preview (empty stack)", pulumi: "plain pulumi preview (empty stack)", baseline: "kubectl apply --dry-run=server", factor: 1.5, target: "<= 1.5x server dry-run" },
    { step: "plain pulumi preview vs npm run policy's", pulumi: "plain pulumi preview (empty stack)", baseline: "pulumi preview (empty stack)", factor: 1.1, target: "<= 1.1x (same settings)" },
    { step: "preview (empty stack)", pulumi: "pulumi preview (empty stack)", baseline: "kubectl apply --dry-run=server", factor: 1.5, target: "<= 1.5x server dry-run" },
    { step: "preview (no changes)", pulumi: "pulumi preview (no changes)", baseline: "kubectl apply --dry-run=server", factor: 1.5, target: "<= 1.5x server dry-run" },
    { step: "first up until ready", pulumi: "pulumi up (first)", baseline: "kubectl apply + wait", factor: 1.3, target: "<= 1.3x kubectl apply + wait" },
    { step: "no-op up --skip-preview", pulumi: "pulumi up --skip-preview (no-op)", baseline: "kubectl re-apply", factor: 1.0, target: "<= 1.0x kubectl re-apply" },
    { step: "no-op up with preview", pulumi: "pulumi up (no-op, with preview)", baseline: "kubectl re-apply", factor: 1.5, target: "<= 1.5x kubectl re-apply" },
    { step: "destroy", pulumi: "pulumi destroy", baseline: "kubectl delete --wait", factor: 1.0, target: "<= kubectl delete --wait" },
];
if (scaleDir) {
    for (const [step, k] of [["10x: preview (empty stack)", "pulumi preview (empty stack)"], ["10x: first up", "pulumi up (first)"],
        ["10x: no-op up --skip-preview", "pulumi up --skip-preview (no-op)"], ["10x: preview (no changes)", "pulumi preview (no changes)"]]) {
        rows.push({ step, pulumi: `10x: ${k}`, baseline: k, factor: 5, target: "<= 5x the 1x time" });
    }
    if (summary["10x: pulumi up (first, no checkpoints)"]) {
        rows.push({ step: "10x: first up, per-step checkpoints skipped (floor, unsafe)", pulumi: "10x: pulumi up (first, no checkpoints)", baseline: "pulumi up (first)", factor: Infinity, target: "floor of 10x: first up" });
    }
    rows.push({ step: "10x: kubectl apply + wait (reference)", pulumi: "10x: kubectl apply + wait", baseline: "kubectl apply + wait", factor: Infinity, target: "-" });
}

const fmt = (n: number | undefined) => (n === undefined ? "-" : n.toFixed(1));
const results = rows.map((r) => {
    const p = summary[r.pulumi!];
    const b = summary[r.baseline];
    const ratio = p && b ? p.median / b.median : undefined;
    return { ...r, min: p?.min, median: p?.median, baselineMedian: b?.median, ratio, met: ratio === undefined ? undefined : ratio <= r.factor };
});
const unit = med("unit suite (npx mocha)");

const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
console.log([
    line(["step", "min s", "median s", "compared with", "its median s", "ratio", "target", "met"]),
    line(["---", "---", "---", "---", "---", "---", "---", "---"]),
    ...results.map((r) => line([r.step, fmt(r.min), fmt(r.median), r.baseline, fmt(r.baselineMedian),
        r.ratio === undefined ? "-" : `${r.ratio.toFixed(2)}x`, r.target, r.met === undefined || r.factor === Infinity ? "-" : r.met ? "yes" : "NO"])),
    ...(unit === undefined ? [] : [line(["unit suite", fmt(summary["unit suite (npx mocha)"].min), fmt(unit), "-", "-", "-", "<= 10 s", unit <= 10 ? "yes" : "NO"])]),
].join("\n"));
console.log("\nkubectl and floor steps (min / median s):");
for (const [k, v] of Object.entries(summary)) if (!/^(10x: )?(plain )?pulumi/.test(k)) console.log(`  ${k}: ${fmt(v.min)} / ${fmt(v.median)}`);

const machine = {
    cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverageAtEnd: os.loadavg().map((x) => Number(x.toFixed(2))), node: process.version, platform: `${os.type()} ${os.release()}`,
};
const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: opts.project, encoding: "utf8" }).stdout?.trim();
fs.mkdirSync(path.dirname(opts.out), { recursive: true });
fs.writeFileSync(opts.out, JSON.stringify({ date: new Date().toISOString(), commit, options: { ...opts, project: undefined }, machine, summary, results }, null, 2));
log(`wrote ${opts.out}`);
