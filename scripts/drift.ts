// npm run drift -- --stack NAME: refreshes a deployed stack in preview mode and reports every object the live
// cluster no longer matches. Exit 0: no drift; 1: drift (listed); 2: the check itself failed.
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { detectDrift, formatDrift } from "./lib/drift";
import { parseArgs, ROOT } from "./lib/stack-config";

const USAGE = "usage: npm run drift -- --stack NAME [--dir PROJECT_DIR] [--verbose]";

async function main(): Promise<number> {
    const opts = parseArgs(process.argv.slice(2), { stack: "value", dir: "value", verbose: "flag" }, USAGE);
    if (!opts.stack) throw new Error(USAGE);
    const stack = await LocalWorkspace.selectStack({ stackName: opts.stack, workDir: opts.dir ?? ROOT });
    const items = await detectDrift(stack, opts.verbose ? (s) => process.stderr.write(s) : undefined);
    if (items.length === 0) {
        process.stdout.write(`no drift: stack ${opts.stack} matches the cluster\n`);
        return 0;
    }
    process.stdout.write(`drift in stack ${opts.stack}: ${items.length} object(s) differ from what the program declares ` +
        "(`pulumi up --refresh` puts them back; `pulumi preview --refresh --diff` shows the values)\n");
    process.stdout.write(`${formatDrift(items)}\n`);
    return 1;
}

main().then((code) => process.exit(code), (e: Error) => {
    process.stderr.write(`drift check failed: ${e.message}\n`);
    process.exit(2);
});
