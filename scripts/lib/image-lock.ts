// Fills images.lock.json from a registry (npm run images -- --lock): the digest of every image a stack runs, read
// with crane from where the cluster pulls it (the stack's imageMirror, --from, or the source registries). The
// mirror's copy keeps the manifest, so its digest is the source's: the lock pins what the cluster pulls.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DIGEST, formatImageRef, mirrored, parseImageRef } from "../../config/images";
import type { ImageLine } from "./image-list";

/** crane: $CRANE, else the toolchain's ($EGOV_CACHE/bin, npm run toolchain), else the one on PATH. */
export function craneBinary(cache: string): string {
    if (process.env.CRANE) return process.env.CRANE;
    const built = path.join(cache, "bin", "crane");
    return fs.existsSync(built) ? built : "crane";
}

export interface LockResult {
    /** lock key -> digest, for every image of the stack (only when nothing failed). */
    readonly digests: Record<string, string>;
    /** One line per image whose digest could not be read, naming it and where it was looked up. */
    readonly problems: string[];
}

/** Reads the digest of each image of `lines` at `from` (a mirror prefix; undefined: the source registries). */
export function resolveDigests(lines: readonly ImageLine[], from: string | undefined, crane: string): LockResult {
    const digests: Record<string, string> = {};
    const problems: string[] = [];
    for (const l of lines) {
        if (l.lockKey === undefined || digests[l.lockKey] !== undefined) continue;
        const src = parseImageRef(l.lockKey);
        if (typeof src === "string") throw new Error(`image ${l.lockKey}: ${src}`);
        const ref = formatImageRef(mirrored(src, from));
        const r = spawnSync(crane, ["digest", ref], { encoding: "utf8" });
        const out = (r.stdout ?? "").trim();
        if (r.error) throw new Error(`${crane}: ${r.error.message}; install crane (npm run toolchain builds it) or set CRANE`);
        if (r.status !== 0 || !DIGEST.test(out)) {
            problems.push(`${l.lockKey}: ${ref}: ${((r.stderr ?? "").trim().split("\n").pop() || out || `crane exited ${r.status}`)}`);
            continue;
        }
        digests[l.lockKey] = out;
    }
    return { digests: problems.length ? {} : digests, problems };
}

/** The lock with `digests` merged over its entries (other stacks' images kept), keys sorted. */
export function mergedLock(file: string, digests: Readonly<Record<string, string>>): string {
    const before = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string> : {};
    const all = { ...before, ...digests };
    return `${JSON.stringify(Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]])), null, 2)}\n`;
}
