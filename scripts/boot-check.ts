// npm run boot-check -- --stack NAME [--upstream DIR] [--write-facts]: resolves what each upstream application
// needs to start and to pass its probes (derived from its source) against what the stack gives it, and what the
// config server serves each service against the application's own config files; prints every requirement with
// where it is satisfied from, or why not, and exits 1 on any unsatisfied one. The facts are derived from the
// stack's applicationCheckout (or --upstream DIR, which the stack is then rendered with too), else the committed
// scripts/lib/boot-facts.json is used; --write-facts stores the derived facts there.
import * as fs from "fs";
import * as path from "path";
import { expandHome } from "../config/files";
import { parseArgs, readStackConfig, ROOT } from "./lib/stack-config";

const USAGE = `usage: npm run boot-check -- --stack NAME [--upstream DIR] [--write-facts]
What each application needs to start and pass its probes, and what the config server serves it, checked against what
the stack gives it; exit 1 on anything unsatisfied. Needs Node.js and npm only (no Pulumi CLI, cluster or state).
  --stack NAME      the stack (Pulumi.NAME.yaml)
  --upstream DIR    derive the facts from that application checkout (default: the stack's applicationCheckout, else
                    the committed scripts/lib/boot-facts.json)
  --write-facts     store the derived facts in scripts/lib/boot-facts.json
  -h, --help        this text`;

async function main(): Promise<void> {
    const opts = parseArgs(process.argv.slice(2), { stack: "value", upstream: "value", "write-facts": "flag" }, USAGE);
    if (!opts.stack) throw new Error(USAGE);
    const derive = await import("./lib/boot-derive");
    const cwd = process.env.INIT_CWD ?? process.cwd();
    const { raw, source, secretKeys } = readStackConfig(opts.stack);
    // The stack renders with the tree the facts come from: its served config is read from the same checkout.
    if (opts.upstream) raw.applicationCheckout = path.resolve(cwd, opts.upstream);
    // What the services need does not depend on how their images are pinned: a stack that requires digests (prod) is
    // checked before its lock is filled from the agency's mirror (npm run images -- --lock), and says so.
    let unpinned = "";
    const image = raw.image ? (JSON.parse(raw.image) as Record<string, unknown>) : undefined;
    if (image?.requireDigests === true) {
        raw.image = JSON.stringify({ ...image, requireDigests: false });
        unpinned = "; image digests not checked here (image.requireDigests: npm run images -- --lock pins them, and preview refuses an unpinned image)";
    }
    const upstream = path.resolve(ROOT, expandHome(raw.applicationCheckout ?? ""));
    let facts;
    let origin: string;
    if (fs.existsSync(path.join(upstream, "backend"))) {
        facts = derive.deriveFacts(upstream);
        origin = `derived from ${upstream} (commit ${facts.commit})`;
        if (opts["write-facts"]) {
            fs.writeFileSync(derive.FACTS_FILE, derive.factsJson(facts));
            origin += `, written to ${path.relative(ROOT, derive.FACTS_FILE)}`;
        }
    } else if (opts.upstream) {
        throw new Error(`--upstream ${upstream}: no backend/ directory there`);
    } else {
        facts = derive.readFacts();
        origin = `${path.relative(ROOT, derive.FACTS_FILE)} (commit ${facts.commit}; ${upstream} not found)`;
    }
    const [{ deploy }, check, { loadConfig }, { serviceGraph }] = await Promise.all([
        import("./lib/mocked-run"), import("./lib/boot-check"), import("../config"), import("../config/graph"),
    ]);
    const deployed = await deploy(raw, opts.stack, secretKeys);
    // The keys and their secrecy as the program gets them: an unknown key or plaintext kubeconfig contents fail both.
    const graph = serviceGraph(loadConfig((k) => raw[k], opts.stack, Object.keys(raw), (k) => secretKeys.includes(k)));
    const reports = check.bootCheck(facts, deployed, graph);
    process.stdout.write(`boot check of stack ${opts.stack} (config from ${source}); facts ${origin}${unpinned}\n\n`);
    for (const r of reports) process.stdout.write(`${check.formatReport(r)}\n\n`);
    const failed = check.failures(reports);
    const count = reports.reduce((n, r) => n + r.findings.length, 0);
    if (failed.length > 0) {
        process.stdout.write(`${failed.length} of ${count} requirements unsatisfied:\n`);
        for (const f of failed) process.stdout.write(`  ${f.workload} ${f.finding.key} [${f.finding.needs}]\n`);
        process.exit(1);
    }
    process.stdout.write(`all ${count} requirements of ${reports.length} workloads satisfied\n`);
}

main().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
});
