// npm run frontends -- --stack NAME [--upstream DIR] [--base REF|oci:DIR|host] (--out DIR | --push REGISTRY)
// Builds both Next.js frontends with the stack's values and assembles their OCI images without a container
// daemon; records the images by digest and what they were built for in frontends.lock.json, which the program
// reads (docs/frontends.md).
import * as path from "path";
import { parseArgs, readStackConfig } from "./lib/stack-config";

const USAGE = `usage: npm run frontends -- --stack NAME [--upstream DIR] [--base REF|oci:DIR|host] (--out DIR | --push REGISTRY)
Builds both Next.js frontends with the stack's values into OCI images (no container daemon) and records them in
frontends.lock.json (docs/frontends.md). Needs Node.js and npm, and Go >= 1.26 once for the image tool (oci-image).
  --stack NAME        the stack whose API address, public URL, site and time zone the frontends are built for
  --upstream DIR      the application checkout (default: the stack's applicationCheckout)
  --base REF|oci:DIR|host   the Node.js base image (default: images.frontendBase of the stack)
  --out DIR           write OCI layouts there
  --push REGISTRY     push the images to that registry
  -h, --help          this text`;

async function main(): Promise<void> {
    const opts = parseArgs(process.argv.slice(2), { stack: "value", upstream: "value", base: "value", out: "value", push: "value" }, USAGE);
    if (!opts.stack || !opts.out === !opts.push) throw new Error(USAGE);
    const { raw, source, secretKeys } = readStackConfig(opts.stack);
    process.stderr.write(`frontends of stack ${opts.stack} (config from ${source})\n`);
    const [{ loadConfig }, { buildFrontends }] = await Promise.all([import("../config"), import("./lib/frontend-build")]);
    // The stack's own record is what this run replaces: a build for other values must not stop it.
    const cfg = loadConfig((k) => raw[k], opts.stack, Object.keys(raw), (k) => secretKeys.includes(k), { frontendRecord: false });
    const start = Date.now();
    const { record } = buildFrontends({
        stack: opts.stack, cfg, base: opts.base,
        // The stack's applicationCheckout, the one its served configuration and boot check read, unless told otherwise.
        upstream: opts.upstream ? path.resolve(opts.upstream) : cfg.application.path,
        out: opts.out && path.resolve(opts.out), push: opts.push,
    });
    for (const [name, b] of Object.entries(record)) process.stdout.write(`${name} ${b.image}@${b.digest}\n`);
    process.stderr.write(`frontends.lock.json: stack ${opts.stack} updated (${Math.round((Date.now() - start) / 1000)}s); commit it\n`);
}

main().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
});
