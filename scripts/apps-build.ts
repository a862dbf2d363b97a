// npm run apps:build -- [--stack NAME | --checkout DIR] [--runtime DIR] [--only a,b] [--out DIR]
// Builds the backend services of the application checkout from their source with Maven, as their build.gradle
// files describe, cached by content (docs/app-build.md).
import * as fs from "fs";
import * as path from "path";
import { buildApps } from "./lib/app-build";
import { parseArgs, readStackConfig, ROOT } from "./lib/stack-config";

const USAGE = `usage: npm run apps:build -- [--stack NAME | --checkout DIR] [--runtime DIR] [--only a,b] [--out DIR]
Builds eGovFrame's runtime modules, egovframe-cloud-module-common and the services of the application checkout from
their source with Maven (Maven Central; OpenJDK 17), from Maven poms derived from each build.gradle; cached by content
under $EGOV_CACHE/apps (docs/app-build.md). Prints one line per module: name, kind, jar, seconds or "cached".
  --stack NAME      the stack whose applicationCheckout is built (default: dev)
  --checkout DIR    an application checkout instead of the stack's
  --runtime DIR     the egovframe-runtime checkout (default: egovframe-runtime beside the application checkout)
  --only a,b        only these services (backend/ directory names); the libraries they need are always built
  --out DIR         copy each service's executable jar there as <service>.jar
  -h, --help        this text`;

async function main(): Promise<void> {
    const opts = parseArgs(process.argv.slice(2), { stack: "value", checkout: "value", runtime: "value", only: "value", out: "value" }, USAGE);
    if (opts.stack && opts.checkout) throw new Error(`--stack and --checkout exclude each other\n${USAGE}`);
    let checkout: string;
    if (opts.checkout) checkout = path.resolve(opts.checkout);
    else {
        const stack = opts.stack ?? "dev";
        const { raw, source } = readStackConfig(stack);
        const value = raw.applicationCheckout;
        if (!value) throw new Error(`stack ${stack} (${source}) has no applicationCheckout`);
        // As the program reads it: relative to the project directory.
        checkout = path.resolve(ROOT, value.replace(/^~(?=\/|$)/, process.env.HOME ?? "~"));
    }
    const runtime = path.resolve(opts.runtime ?? path.join(checkout, "..", "egovframe-runtime"));
    const start = Date.now();
    const out = buildApps({
        checkout, runtime, ...(opts.only ? { only: opts.only.split(",").map((s) => s.trim()).filter(Boolean) } : {}),
        log: (m) => process.stderr.write(`${m}\n`),
    });
    if (opts.out) fs.mkdirSync(path.resolve(opts.out), { recursive: true });
    for (const b of out) {
        if (opts.out && b.kind === "service") fs.copyFileSync(b.jar, path.join(path.resolve(opts.out), `${b.module}.jar`));
        process.stdout.write(`${b.module} ${b.kind} ${b.jar} ${b.cached ? "cached" : `${b.seconds}s`}${b.startClass ? ` ${b.startClass}` : ""}\n`);
    }
    process.stderr.write(`apps:build: ${out.length} modules, ${out.filter((b) => !b.cached).length} built, in ${Math.round((Date.now() - start) / 1000)}s\n`);
}

main().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
});
