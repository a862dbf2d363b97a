// The frontend images of `npm run frontends` as files a test runs: their image config and their unpacked
// filesystems, cached by image digest under $EGOV_CACHE/frontends/rootfs (never written to: a server runs on a
// read-only view). Shared by tests/e2e/frontends.e2e.ts (stand-in gateway) and tests/e2e/apps-browser.ts (the
// platform running here, tests/support/frontend-resolver.ts).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { APP_HOME } from "../../config/frontends";
import { CACHE } from "../../scripts/lib/frontend-build";

export interface ImageConfig { Env?: string[]; Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string; Labels?: Record<string, string> }

export const ROOTFS_CACHE = path.join(CACHE, "frontends", "rootfs");

/** The digest and image config of an OCI layout (oci-image inspect). */
export function inspectLayout(tool: string, layout: string): { digest: string; config: ImageConfig } {
    return JSON.parse(execFileSync(tool, ["inspect", "--layout", layout], { encoding: "utf8" })) as { digest: string; config: ImageConfig };
}

/**
 * The layout's filesystem, unpacked once per digest, with the destinations of the runtime's mounts created (what
 * the container runtime does before it makes the root read-only): "/etc/hosts" a file, the others directories.
 */
export function unpackedRootfs(tool: string, layout: string, mountPoints: readonly string[] = []): string {
    const dir = path.join(ROOTFS_CACHE, inspectLayout(tool, layout).digest.replace("sha256:", ""));
    // The app's directory marks a whole one (a run elsewhere may have been removing it, see pruneRootfs).
    if (!fs.existsSync(path.join(dir, APP_HOME))) {
        fs.rmSync(dir, { recursive: true, force: true });
        const tmp = `${dir}.tmp-${process.pid}`;
        fs.rmSync(tmp, { recursive: true, force: true });
        execFileSync(tool, ["unpack", "--layout", layout, "--rootfs", tmp]);
        fs.renameSync(tmp, dir);
    }
    fs.utimesSync(dir, new Date(), new Date());
    for (const m of mountPoints) {
        if (m === "/etc/hosts") { if (!fs.existsSync(path.join(dir, m))) fs.writeFileSync(path.join(dir, m), ""); }
        else fs.mkdirSync(path.join(dir, m), { recursive: true });
    }
    return dir;
}

/** Removes unpacked filesystems but those of `keepLayouts` and any used in the last two hours (another run may be using it). */
export function pruneRootfs(tool: string, keepLayouts: readonly string[]): void {
    const keep = new Set(keepLayouts.map((l) => inspectLayout(tool, l).digest.replace("sha256:", "")));
    for (const d of fs.existsSync(ROOTFS_CACHE) ? fs.readdirSync(ROOTFS_CACHE) : []) {
        const recent = Date.now() - fs.statSync(path.join(ROOTFS_CACHE, d)).mtimeMs < 2 * 3600_000;
        if (!keep.has(d) && !recent) fs.rmSync(path.join(ROOTFS_CACHE, d), { recursive: true, force: true });
    }
}

/** KEY=VALUE lines of an image config's Env as a record. */
export function imageEnv(config: ImageConfig): Record<string, string> {
    return Object.fromEntries((config.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}
