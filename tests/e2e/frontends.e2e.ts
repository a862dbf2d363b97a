// The frontend images of `npm run frontends`, run for real: both frontends built from the upstream source with a
// test stack's values and assembled without a container daemon; the admin image unpacked and its own command
// started from its own files with the pod's environment, in a network namespace of its own where a stand-in
// gateway listens at the address the image was built for (the namespace's loopback, named by the rootfs'
// /etc/hosts as cluster DNS would). The base image is made from this machine (scripts/lib/frontend-build.ts
// hostBase: Debian's libc, dash and env as installed here, Node.js from the npm registry). Builds are cached by
// content under $EGOV_CACHE/frontends: the first run builds (minutes), reruns take seconds.
// Needs no cluster; tests/support/e2e.sh runs it with the rest.
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadConfig } from "../../config";
import { frontends } from "../../config/catalog";
import { FRONTEND_PATCHES, HEALTH_PATH } from "../../config/frontend-patches";
import { BUILT_FOR_ANNOTATION, frontendBuildValues, START_COMMAND } from "../../config/frontends";
import { buildFrontends, CACHE, FrontendsResult, ociImageTool } from "../../scripts/lib/frontend-build";
import { deployFresh, Obj, sourceOf, stackConfig } from "../support/harness";

const ROOT = path.resolve(__dirname, "../..");
const UPSTREAM = process.env.EGOV_UPSTREAM ?? path.resolve(__dirname, "../../../shared/reference/egovframe-msa-edu");
// The dev stack's values under another stack name: the builds are the ones `npm run frontends -- --stack dev`
// makes, so the two share the cache (tests/frontends.test.ts covers other domains, TLS and prod).
const STACK = "proof";
const NAMESPACE = "egov-dev";
const DOMAIN = "egov-dev.localtest.me";
const GATEWAY_HOST = `apigateway.${NAMESPACE}.svc.cluster.local`;

interface ImageConfig { Env?: string[]; Cmd?: string[]; WorkingDir?: string; Labels?: Record<string, string> }

describe("frontend images built for a stack (npm run frontends)", function () {
    this.timeout(3600_000);
    const raw = stackConfig("dev", { namespace: NAMESPACE, domain: DOMAIN, environment: "dev" });
    const cfg = loadConfig(sourceOf(raw), STACK, [], undefined, { frontendRecord: false });
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "egov-frontends-"));
    const lockFile = path.join(work, "frontends.lock.json");
    let built: FrontendsResult;
    let tool: string;
    const inspect = (layout: string) =>
        JSON.parse(execFileSync(tool, ["inspect", "--layout", layout], { encoding: "utf8" })) as { digest: string; config: ImageConfig };
    // Unpacked filesystems, cached by image digest (never written to: the server runs on a read-only view of it).
    const ROOTFS_CACHE = path.join(CACHE, "frontends", "rootfs");
    const unpacked = (name: string, mountPoints: readonly string[] = []) => {
        const dir = path.join(ROOTFS_CACHE, inspect(built.layouts[name]).digest.replace("sha256:", ""));
        if (!fs.existsSync(dir)) {
            const tmp = `${dir}.tmp-${process.pid}`;
            fs.rmSync(tmp, { recursive: true, force: true });
            execFileSync(tool, ["unpack", "--layout", built.layouts[name], "--rootfs", tmp]);
            fs.renameSync(tmp, dir);
        }
        // What the container runtime creates before it makes the root read-only: its mounts' destinations.
        for (const m of mountPoints) {
            if (m === "/etc/hosts") { if (!fs.existsSync(path.join(dir, m))) fs.writeFileSync(path.join(dir, m), ""); }
            else fs.mkdirSync(path.join(dir, m), { recursive: true });
        }
        return dir;
    };

    before(function () {
        if (!fs.existsSync(path.join(UPSTREAM, "frontend", "admin", "package.json"))) {
            throw new Error(`the upstream source is not at ${UPSTREAM} (set EGOV_UPSTREAM)`);
        }
        const start = Date.now();
        tool = ociImageTool();
        built = buildFrontends({ stack: STACK, cfg, upstream: UPSTREAM, out: path.join(work, "out"), base: "host", lockFile, log: (m) => console.log(`      ${m}`) });
        console.log(`      both frontends built and assembled in ${Math.round((Date.now() - start) / 1000)}s`);
    });
    after(() => {
        // Keep the unpacked filesystems of the current images only.
        const keep = new Set(Object.values(built?.layouts ?? {}).map((l) => inspect(l).digest.replace("sha256:", "")));
        fs.rmSync(work, { recursive: true, force: true });
        for (const d of fs.existsSync(ROOTFS_CACHE) ? fs.readdirSync(ROOTFS_CACHE) : []) {
            if (!keep.has(d)) fs.rmSync(path.join(ROOTFS_CACHE, d), { recursive: true, force: true });
        }
    });

    it("writes one OCI layout per frontend, recorded by digest with the values it was built for", () => {
        const lock = JSON.parse(fs.readFileSync(lockFile, "utf8")) as Record<string, Record<string, Obj>>;
        assert.deepStrictEqual(Object.keys(lock), [STACK]);
        for (const f of frontends) {
            const layout = path.join(work, "out", f.name);
            const { digest, config } = inspect(layout);
            const entry = lock[STACK][f.name];
            assert.strictEqual(entry.digest, digest, `${f.name}: the record names the layout's digest`);
            assert.strictEqual(entry.image, `docker.io/egovframe/egovframe-msa-edu-frontend-${f.name}:${STACK}`);
            const values = frontendBuildValues(cfg, f);
            assert.deepStrictEqual(entry.builtFor, values);
            assert.deepStrictEqual(JSON.parse(config.Labels?.["egov-platform.built-for"] ?? "null"), values, `${f.name}: the image says it too`);
            assert.deepStrictEqual(config.Cmd, [...START_COMMAND]);
            assert.match(entry.base, /^host@sha256:[a-f0-9]{64}$/);
            const patches = FRONTEND_PATCHES.filter((p) => p.app === f.name).map((p) => p.id);
            assert.deepStrictEqual(entry.patches, patches, `${f.name}: built with the whole patch set`);
            assert.strictEqual(config.Labels?.["egov-platform.patches"], patches.join(","));
        }
        assert.strictEqual(lock[STACK].admin.builtFor.publicUrl, `http://admin.${DOMAIN}`);
        assert.strictEqual(lock[STACK].portal.builtFor.apiUrl, `http://${GATEWAY_HOST}:8000`);
    });

    it("a preview of the stack runs the recorded digests and says on the pods what they were built for", async () => {
        const lock = JSON.parse(fs.readFileSync(lockFile, "utf8")) as Record<string, Record<string, Obj>>;
        process.env.EGOV_FRONTENDS_LOCK = lockFile;
        try {
            const d = await deployFresh(raw, STACK);
            for (const f of frontends) {
                const dep = d.k8s.find((r) => r.obj.kind === "Deployment" && r.obj.metadata.labels?.app === `frontend-${f.name}`)!.obj;
                assert.strictEqual(dep.spec.template.spec.containers[0].image, `${lock[STACK][f.name].image}@${lock[STACK][f.name].digest}`);
                assert.deepStrictEqual(JSON.parse(dep.spec.template.metadata.annotations[BUILT_FOR_ANNOTATION]), frontendBuildValues(cfg, f));
            }
        } finally {
            delete process.env.EGOV_FRONTENDS_LOCK;
        }
    });

    /**
     * Runs the image's own command from its own files with the pod's environment, in a namespace of its own where a
     * stand-in gateway listens at the address the image was built for; returns what frontend-proof.js saw.
     */
    const runPod = async (name: string, proof: { pagePath: string; apiPath?: string; healthWithGatewayDown?: boolean }): Promise<Obj> => {
        // Cluster DNS for the pod: the gateway's Service name resolves to the namespace's loopback (the kubelet
        // bind-mounts the pod's /etc/hosts the same way).
        const hosts = path.join(work, "hosts");
        fs.writeFileSync(hosts, `127.0.0.1 localhost\n127.0.0.1 ${GATEWAY_HOST}\n`);
        const { config } = inspect(built.layouts[name]);
        // The pod's environment: the image's, then the container's (values and ConfigMap keys), as the kubelet does;
        // the stack rendered with the record, as a preview after `npm run frontends` (probes included).
        process.env.EGOV_FRONTENDS_LOCK = lockFile;
        let d: Awaited<ReturnType<typeof deployFresh>>;
        try {
            d = await deployFresh(raw, STACK);
        } finally {
            delete process.env.EGOV_FRONTENDS_LOCK;
        }
        const dep = d.k8s.find((r) => r.obj.kind === "Deployment" && r.obj.metadata.labels?.app === `frontend-${name}`)!.obj;
        const pod = dep.spec.template.spec as Obj;
        const container = pod.containers[0] as Obj;
        const env: Record<string, string> = Object.fromEntries((config.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
        for (const e of container.env ?? []) {
            const ref = e.valueFrom?.configMapKeyRef;
            if (ref) env[e.name] = d.k8s.find((r) => r.obj.kind === "ConfigMap" && r.obj.metadata.name === ref.name)!.obj.data[ref.key];
            else if (e.valueFrom) throw new Error(`frontend env ${e.name} from ${JSON.stringify(e.valueFrom)}: not handled here`);
            else env[e.name] = e.value;
        }
        Object.assign(env, { HOME: "/home/node", HOSTNAME: `frontend-${name}-proof` });
        // The pod's filesystem: the image read-only (readOnlyRootFilesystem) with its emptyDir mounts writable.
        assert.strictEqual(container.securityContext.readOnlyRootFilesystem, true);
        const emptyDirs = (container.volumeMounts as Obj[])
            .filter((m) => pod.volumes.find((v: Obj) => v.name === m.name)?.emptyDir !== undefined).map((m) => m.mountPath as string);
        assert.ok(emptyDirs.includes("/tmp"), JSON.stringify(emptyDirs));
        const rootfs = unpacked(name, ["/dev", "/proc", "/etc/hosts", ...emptyDirs]);
        const root = path.join(work, `pod-root-${name}`);
        fs.mkdirSync(root);
        const port = container.ports[0].containerPort as number;
        // What the kubelet asks: the probe's own path, which must answer before anything else is tried.
        const healthPath = container.readinessProbe.httpGet.path as string;
        assert.strictEqual(healthPath, HEALTH_PATH, "an image built with the patch set is probed at its health route");
        const input = JSON.stringify({ rootfs: root, workdir: config.WorkingDir, cmd: config.Cmd, env, gatewayPort: 8000, port, healthPath, timeoutMs: 180_000, ...proof });
        // A user, network, mount and PID namespace of its own (no port here can collide with the host's), the
        // image's filesystem mounted read-only at a fresh root with the runtime's mounts on top.
        const script = [
            "set -e", "ip link set lo up", 'R=$3', 'mount --bind "$1" "$R"', 'mount -o remount,bind,ro "$R"',
            'mount -t tmpfs tmpfs "$R/dev"', 'for n in null zero random urandom; do touch "$R/dev/$n"; mount --bind "/dev/$n" "$R/dev/$n"; done',
            'mount -t proc proc "$R/proc"', 'mount --bind "$2" "$R/etc/hosts"',
            ...emptyDirs.map((p) => `mount -t tmpfs tmpfs "$R${p}"`),
            'exec "$4" "$5" "$6"',
        ].join("\n");
        const out = execFileSync("unshare", ["--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "sh", "-c", script, "sh",
            rootfs, hosts, root, process.execPath, path.join(__dirname, "..", "support", "frontend-proof.js"), input], { encoding: "utf8", timeout: 300_000 });
        const r = JSON.parse(out.trim().split("\n").pop()!) as Obj;
        assert.ok(r.readyAfterMs !== null, `the ${name} server never answered ${healthPath}; server log:\n${r.log}`);
        console.log(`      ${name} server answered ${healthPath} ${r.readyAfterMs} ms after start`);
        return r;
    };

    it("the admin image, started from its own files with the pod's environment, serves a page and sends /server/* to the gateway it was built for", async () => {
        const apiPath = "/portal-service/api/v1/proof?check=1";
        const r = await runPod("admin", { pagePath: "/auth/login", apiPath });
        const why = `server log:\n${r.log}`;
        assert.strictEqual(r.health.status, 200, `the probe's path answers; ${why}`);
        assert.strictEqual(r.page.status, 200, why);
        assert.match(r.page.body, /<div id="__next"/, "a Next.js page");
        assert.strictEqual(r.api.status, 200, `${JSON.stringify(r.api)}; ${why}`);
        assert.deepStrictEqual(JSON.parse(r.api.body), { standIn: true, url: apiPath }, "the gateway's answer came back");
        assert.deepStrictEqual(r.gatewaySaw.map((s: Obj) => [s.url, s.host]), [[apiPath, `${GATEWAY_HOST}:8000`]], "the request reached the baked address with the path");
    });

    it("the portal image renders its home page with the data requests sent to the gateway in the cluster (patched SSR), and its health path answers with the gateway down", async () => {
        const r = await runPod("portal", { pagePath: "/", healthWithGatewayDown: true });
        const why = `server log:\n${r.log}`;
        assert.deepStrictEqual([r.health.status, JSON.parse(r.health.body)], [200, { status: "UP" }], why);
        assert.strictEqual(r.page.status, 200, why);
        assert.match(r.page.body, /<div id="__next"/, "a Next.js page");
        // getServerSideProps of the home page: banners, newest posts, and (the "lg" site) reservation items, straight to
        // the gateway's Service name (no /server: that is the browser's path through the public host).
        const saw = (r.gatewaySaw as Obj[]).map((s) => `${s.host} ${s.url}`);
        for (const prefix of ["/portal-service/api/v1/2/banners/", "/board-service/api/v1/posts/newest/", "/reserve-item-service/api/v1/reserve-items/latest/"]) {
            assert.ok(saw.some((x) => x.startsWith(`${GATEWAY_HOST}:8000 ${prefix}`)), `${prefix} reached the gateway: ${saw.join(", ")}; ${why}`);
        }
        assert.ok((r.gatewaySaw as Obj[]).every((s) => s.siteId === "2"), "the site header goes along");
        // The probe calls nothing: it answers at once with no gateway to call.
        assert.strictEqual(r.healthGatewayDown.status, 200, why);
        assert.ok(r.healthGatewayDown.ms < 3000, `within the probe's 3 s timeout: ${r.healthGatewayDown.ms} ms`);
    });

    it("--push sends both images to a registry (a real one: crane registry serve) under the stack's tag, and the record names them there", async () => {
        fs.mkdirSync(path.join(work, "registry"));
        const registry = spawn(path.join(CACHE, "bin", "crane"), ["registry", "serve", "--address", "127.0.0.1:0", "--disk", path.join(work, "registry")],
            { stdio: ["ignore", "ignore", "pipe"] });
        try {
            const port = await new Promise<string>((resolve, reject) => {
                let err = "";
                registry.stderr.on("data", (d: Buffer) => {
                    err += d;
                    const m = /serving on port (\d+)/.exec(err);
                    if (m) resolve(m[1]);
                });
                registry.on("exit", (code) => reject(new Error(`crane registry serve exited ${code}: ${err}`)));
            });
            const lock = path.join(work, "pushed.lock.json");
            const pushed = buildFrontends({ stack: STACK, cfg, upstream: UPSTREAM, push: `127.0.0.1:${port}/egov`, base: "host", lockFile: lock, log: () => undefined });
            for (const f of frontends) {
                const entry = pushed.record[f.name]!;
                assert.strictEqual(entry.image, `127.0.0.1:${port}/egov/egovframe-msa-edu-frontend-${f.name}:${STACK}`);
                assert.strictEqual(entry.digest, built.record[f.name]!.digest, "the same image as the layout");
                const res = await fetch(`http://127.0.0.1:${port}/v2/egov/egovframe-msa-edu-frontend-${f.name}/manifests/${STACK}`,
                    { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
                assert.strictEqual(res.status, 200);
                assert.strictEqual(res.headers.get("docker-content-digest"), entry.digest, `${f.name}: the registry serves the recorded digest`);
            }
        } finally {
            registry.kill();
        }
    });

    it("npm run frontends -- --stack dev --out DIR: two OCI layouts and the dev stack's record (the command itself)", () => {
        const lock = path.join(work, "dev.lock.json");
        const out = path.join(work, "dev-out");
        const env = { ...process.env, EGOV_FRONTENDS_LOCK: lock };
        const run = (...args: string[]) => execFileSync("npm", ["run", "-s", "frontends", "--", ...args], { cwd: ROOT, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        const printed = run("--stack", "dev", "--base", "host", "--out", out);
        const record = (JSON.parse(fs.readFileSync(lock, "utf8")) as Record<string, Record<string, Obj>>).dev;
        for (const f of frontends) {
            assert.strictEqual(inspect(path.join(out, f.name)).digest, record[f.name].digest);
            assert.ok(printed.includes(`${f.name} ${record[f.name].image}@${record[f.name].digest}`), printed);
        }
        // Exactly one destination.
        assert.throws(() => run("--stack", "dev", "--out", out, "--push", "127.0.0.1:1/x"), /usage: npm run frontends/);
    });

    it("the bundles name the stack's public hosts and API address, never localhost", () => {
        const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true })
            .flatMap((e) => e.isDirectory() ? files(path.join(dir, e.name)) : /\.(js|json|html)$/.test(e.name) ? [path.join(dir, e.name)] : []);
        for (const f of frontends) {
            const next = path.join(unpacked(f.name), "usr", "app", ".next");
            const all = files(next).map((p) => ({ p, text: fs.readFileSync(p, "utf8") }));
            const client = all.filter((x) => x.p.includes(`${path.sep}static${path.sep}`));
            const values = frontendBuildValues(cfg, f);
            assert.ok(client.some((x) => x.text.includes(values.publicUrl)), `${f.name}: a browser bundle calls ${values.publicUrl}/server`);
            const rewrites = JSON.parse(fs.readFileSync(path.join(next, "routes-manifest.json"), "utf8")) as Obj;
            assert.ok(JSON.stringify(rewrites.rewrites).includes(`${values.apiUrl}/:path*`), `${f.name}: /server/* is rewritten to ${values.apiUrl}`);
            const local = all.filter((x) => /localhost:(3000|8000)/.test(x.text)).map((x) => path.relative(next, x.p));
            assert.deepStrictEqual(local, [], `${f.name}: no bundle keeps the upstream default localhost address`);
        }
    });
});
