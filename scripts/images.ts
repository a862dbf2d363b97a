// npm run images -- --stack NAME [--refs]: the images a stack runs, as `SOURCE DESTINATION` lines for a mirroring
// tool (README: Air-gapped clusters), or with --refs the exact references the containers run. No cluster needed.
import { parseArgs, readStackConfig } from "./lib/stack-config";

const USAGE = "usage: npm run images -- --stack NAME [--refs]";

async function main(): Promise<void> {
    const opts = parseArgs(process.argv.slice(2), { stack: "value", refs: "flag" }, USAGE);
    if (!opts.stack) throw new Error(USAGE);
    const { raw, source } = readStackConfig(opts.stack);
    process.stderr.write(`images of stack ${opts.stack} (config from ${source})\n`);
    // Loaded only now: a wrong argument or stack is reported without loading the Pulumi SDK.
    const [{ loadConfig }, { imageList }, { deploy }] = await Promise.all([import("../config"), import("./lib/image-list"), import("./lib/mocked-run")]);
    const cfg = loadConfig((k) => raw[k], opts.stack);
    const lines = imageList(await deploy(raw, opts.stack), cfg);
    for (const l of lines) process.stdout.write(opts.refs ? `${l.runs}\n` : `${l.source} ${l.destination}\n`);
}

process.stdout.on("error", (e: NodeJS.ErrnoException) => process.exit(e.code === "EPIPE" ? 0 : 1));

main().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
});
