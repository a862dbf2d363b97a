// npm run render -- --stack NAME --out DIR: the exact objects the stack would apply, one YAML file per object
// (DIR/<namespace>/<Kind>/<name>.yaml, cluster-scoped under DIR/_cluster/), secret values replaced by markers.
// Runs the program under mocks: no cluster, no Pulumi backend needed.
import * as path from "path";
import { parseArgs, readStackConfig } from "./lib/stack-config";

const USAGE = `usage: npm run render -- --stack NAME --out DIR
The exact objects the stack would apply, one YAML file per object (DIR/<namespace>/<Kind>/<name>.yaml), secret values
replaced by markers. Runs the program under mocks: needs Node.js and npm only (no Pulumi CLI, cluster or state).
  --stack NAME   the stack (Pulumi.NAME.yaml)
  --out DIR      where the files go
  -h, --help     this text`;

async function main(): Promise<void> {
    const opts = parseArgs(process.argv.slice(2), { stack: "value", out: "value" }, USAGE);
    if (!opts.stack || !opts.out) throw new Error(USAGE);
    const { raw, source, secretKeys } = readStackConfig(opts.stack);
    // Loaded only now: a wrong argument or stack is reported without loading the Pulumi SDK.
    const [{ deploy }, { renderFiles, writeTree }] = await Promise.all([import("./lib/mocked-run"), import("./lib/render")]);
    const files = renderFiles(await deploy(raw, opts.stack, secretKeys), opts.stack);
    // npm runs scripts from the package root; INIT_CWD is where the user typed the command.
    const out = path.resolve(process.env.INIT_CWD ?? process.cwd(), opts.out);
    writeTree(out, files, opts.stack);
    process.stderr.write(`rendered ${files.size} objects of stack ${opts.stack} (config from ${source}) to ${out}\n`);
}

main().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
});
