// npm run images -- --stack NAME [--refs | --lock [--from REGISTRY]]: the images a stack runs, as `SOURCE DESTINATION`
// lines for a mirroring tool when the stack has an imageMirror (README: Air-gapped clusters), else the sources to
// pull; with --refs the exact references the containers run; with --lock their digests into images.lock.json, read
// with crane from the mirror. No cluster needed.
import * as fs from "fs";
import { parseArgs, readStackConfig } from "./lib/stack-config";

const USAGE = `usage: npm run images -- --stack NAME [--refs | --lock [--from REGISTRY]]
The images a stack runs: SOURCE DESTINATION lines for a mirroring tool when the stack has an imageMirror, else the
sources to pull. Needs Node.js and npm only (no Pulumi CLI, cluster or state); --lock needs crane too.
  --stack NAME      the stack (Pulumi.NAME.yaml)
  --refs            the exact references the containers run instead
  --lock            write the digest of each image into images.lock.json (commit it; image.requireDigests needs
                    it), read with crane from where the cluster pulls: the stack's imageMirror, --from, or else
                    the source registries. Nothing is written unless every image resolves.
  --from REGISTRY   with --lock: the mirror to read, e.g. harbor.agency.go.kr/egov (its layout as imageMirror's)
  -h, --help        this text`;

async function main(): Promise<void> {
    const opts = parseArgs(process.argv.slice(2), { stack: "value", refs: "flag", lock: "flag", from: "value" }, USAGE);
    if (!opts.stack) throw new Error(USAGE);
    if (opts.from !== undefined && !opts.lock) throw new Error(`--from is an option of --lock\n${USAGE}`);
    if (opts.lock && opts.refs) throw new Error(`--lock and --refs exclude each other\n${USAGE}`);
    const { raw: stackRaw, source, secretKeys } = readStackConfig(opts.stack);
    process.stderr.write(`images of stack ${opts.stack} (config from ${source})\n`);
    // Loaded only now: a wrong argument or stack is reported without loading the Pulumi SDK.
    const [{ loadConfig }, { imageList }, { deploy }] = await Promise.all([import("../config"), import("./lib/image-list"), import("./lib/mocked-run")]);
    // Listed whether or not the digests are pinned yet: this command is how they get pinned (image.requireDigests).
    const imageKey = stackRaw.image ? JSON.parse(stackRaw.image) as Record<string, unknown> : {};
    const raw: Record<string, string> = { ...stackRaw, image: JSON.stringify({ ...imageKey, requireDigests: false }) };
    const cfg = loadConfig((k) => raw[k], opts.stack, Object.keys(raw), (k) => secretKeys.includes(k));
    const lines = imageList(await deploy(raw, opts.stack, secretKeys), cfg);
    if (opts.lock) {
        const [{ imagesLockFile }, { craneBinary, mergedLock, resolveDigests }, { CACHE }] =
            await Promise.all([import("../config/images"), import("./lib/image-lock"), import("./lib/app-build")]);
        const from = opts.from ?? cfg.imageMirror;
        const { digests, problems } = resolveDigests(lines, from, craneBinary(CACHE));
        if (problems.length) throw new Error(`no digest for ${problems.length} image(s) at ${from ?? "their source registries"}; images.lock.json is unchanged:\n  ${problems.join("\n  ")}`);
        const file = imagesLockFile();
        fs.writeFileSync(file, mergedLock(file, digests));
        process.stderr.write(`${file}: ${Object.keys(digests).length} digests of stack ${opts.stack}, read from ${from ?? "their source registries"}\n`);
        return;
    }
    if (imageKey.requireDigests === true) {
        const missing = lines.filter((l) => l.lockKey !== undefined && !l.runs.includes("@")).length;
        if (missing > 0) process.stderr.write(`stack ${opts.stack} requires digests (image.requireDigests) and ${missing} image(s) have none yet: ` +
            `copy them to the mirror, then npm run images -- --stack ${opts.stack} --lock\n`);
    }
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
