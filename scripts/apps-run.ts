// npm run apps:run -- --stack NAME [--only a,b]: the stack's workloads run here as the cluster would run them
// (scripts/lib/local-run.ts, docs/apps-run.md); prints each Service's address and each workload's time to Ready,
// then stays up until Ctrl-C, which removes everything it made (logs stay in the run directory).
import * as path from "path";
import { parseArgs, readStackConfig, ROOT } from "./lib/stack-config";

const USAGE = `usage: npm run apps:run -- --stack NAME [--only a,b] [--run-dir DIR] [--budget-scale N]
Runs the stack's rendered workloads on this machine (needs root): each pod in a network namespace of its own, the
backend services from the jars npm run apps:build makes, MySQL and RabbitMQ as Debian's MariaDB and RabbitMQ, the
rendered probes polled; prints the Services' addresses and the times to Ready, and stays up until Ctrl-C.
  --stack NAME     the stack (Pulumi.NAME.yaml); its applicationCheckout is built and run
  --only a,b       only these workloads (app labels) and what they need ready first
  --run-dir DIR    where logs go (default: a new directory under $TMPDIR)
  --budget-scale N every start budget times N, for a machine busy with other work (then not the cluster's verdict)
  -h, --help       this text`;

async function main(): Promise<void> {
    const opts = parseArgs(process.argv.slice(2), { stack: "value", only: "value", "run-dir": "value", "budget-scale": "value" }, USAGE);
    if (!opts.stack) throw new Error(USAGE);
    const { raw } = readStackConfig(opts.stack);
    if (!raw.applicationCheckout) throw new Error(`stack ${opts.stack} has no applicationCheckout`);
    const checkout = path.resolve(ROOT, raw.applicationCheckout.replace(/^~(?=\/|$)/, process.env.HOME ?? "~"));
    const { LocalCluster, builtJars, localRunProblems } = await import("./lib/local-run");
    const { backendImages, mysqlImages, rabbitmqImages } = await import("./lib/local-images");
    const problems = localRunProblems();
    if (problems.length) throw new Error(`apps:run cannot run here: ${problems.join("; ")}`);
    const t0 = Date.now();
    const jars = builtJars(checkout);
    const only = opts.only?.split(",").map((s) => s.trim()).filter(Boolean);
    const budgetScale = opts["budget-scale"] === undefined ? 1 : Number(opts["budget-scale"]);
    if (!(budgetScale >= 1)) throw new Error(`--budget-scale: ${opts["budget-scale"]} is not a number of at least 1`);
    const cluster = await LocalCluster.start({
        stack: opts.stack, images: [backendImages(checkout, jars), mysqlImages(), rabbitmqImages()], ...(only ? { only } : {}), budgetScale,
        ...(opts["run-dir"] ? { runDir: path.resolve(process.env.INIT_CWD ?? process.cwd(), opts["run-dir"]) } : {}),
    });
    const out = process.stdout;
    out.write(`\nstarted in ${((Date.now() - t0) / 1000).toFixed(1)}s; logs in ${cluster.logsDir}\n`);
    for (const name of cluster.order) out.write(`  ${name.padEnd(26)} ${cluster.pods(name).map((p) => p.ip).join(",").padEnd(14)} Ready in ${((cluster.readyMs[name] ?? 0) / 1000).toFixed(1)}s\n`);
    for (const s of cluster.objects.filter((o) => o.kind === "Service" && o.spec?.clusterIP !== "None")) {
        try {
            const a = cluster.serviceAddress(s.metadata.name);
            out.write(`  service ${String(s.metadata.name).padEnd(24)} http://${a.ip}:${a.port}\n`);
        } catch { /* no address */ }
    }
    for (const [name, why] of Object.entries(cluster.notRun)) out.write(`  not run: ${name}: ${why}\n`);
    out.write("Ctrl-C stops everything.\n");
    await new Promise(() => undefined);
}

main().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
});
