// npm run images -- --stack NAME [--refs]: the images a stack runs, as `SOURCE DESTINATION` lines for a mirroring
// tool when the stack has an imageMirror (README: Air-gapped clusters), else the sources to pull; with --refs the
// exact references the containers run. No cluster needed.
import { parseArgs, readStackConfig } from "./lib/stack-config";

const USAGE = `usage: npm run images -- --stack NAME [--refs]
The images a stack runs: SOURCE DESTINATION lines for a mirroring tool when the stack has an imageMirror, else the
sources to pull. Needs Node.js and npm only (no Pulumi CLI, cluster or state).
  --stack NAME   the stack (Pulumi.NAME.yaml)
  --refs         the exact references the containers run instead
  -h, --help     this text`;

async function main(): Promise<void> {
    const opts = parseArgs(process.argv.slice(2), { stack: "value", refs: "flag" }, USAGE);
    if (!opts.stack) throw new Error(USAGE);
    const { raw, source, secretKeys } = readStackConfig(opts.stack);
    process.stderr.write(`images of stack ${opts.stack} (config from ${source})\n`);
    // Loaded only now: a wrong argument or stack is reported without loading the Pulumi SDK.
    const [{ loadConfig }, { imageList }, { deploy }] = await Promise.all([import("../config"), import("./lib/image-list"), import("./lib/mocked-run")]);
    const cfg = loadConfig((k) => raw[k], opts.stack, Object.keys(raw), (k) => secretKeys.includes(k));
    const lines = imageList(await deploy(raw, opts.stack, secretKeys), cfg);
    // Without a mirror each source is its own destination: `SOURCE SOURCE` pairs would make a copy loop push the
    // images back onto their public registry, so only what to pull is listed.
    const pairs = !opts.refs && cfg.imageMirror !== undefined;
    if (!opts.refs && !pairs) {
        process.stderr.write(`stack ${opts.stack} sets no imageMirror: listing the images to pull, one per line; for SOURCE DESTINATION ` +
            `pairs to copy into your registry, set it first (pulumi config set imageMirror harbor.agency.go.kr/egov --stack ${opts.stack})\n`);
    }
    for (const l of lines) process.stdout.write(opts.refs ? `${l.runs}\n` : pairs ? `${l.source} ${l.destination}\n` : `${l.source}\n`);
}

process.stdout.on("error", (e: NodeJS.ErrnoException) => process.exit(e.code === "EPIPE" ? 0 : 1));

main().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
});
