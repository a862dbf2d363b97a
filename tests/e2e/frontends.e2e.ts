// The frontend images of `npm run frontends`, run for real: both frontends built from the upstream source with a
// test stack's values and assembled without a container daemon; each image unpacked and its own command
// started from its own files with the pod's environment, in a network namespace of its own where a stand-in
// gateway listens at the address the image was built for (the namespace's loopback, named by the rootfs'
// /etc/hosts as cluster DNS would) and answers the pages' server-side requests with the services' JSON
// (tests/support/frontend-fixtures.ts): pages rendered with that data, two users' sessions whose tokens never
// cross, the health path with the gateway down, and the rendered network policy against the address seen. The base image is made from this machine (scripts/lib/frontend-build.ts
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
import { BUILT_FOR_ANNOTATION, frontendBuildValues, FrontendName, SITE_IDS, START_COMMAND } from "../../config/frontends";
import { buildFrontends, CACHE, FrontendsResult, ociImageTool } from "../../scripts/lib/frontend-build";
import { imageEnv, inspectLayout, pruneRootfs, unpackedRootfs } from "../support/frontend-images";
import { adminBoardPage, FixturePage, FixtureUser, portalBoardPost, portalHome, USERS } from "../support/frontend-fixtures";
import { deployFresh, Obj, sourceOf, stackConfig } from "../support/harness";
import { workloads } from "../support/invariants";
import { egressTargets, podsOf, PolicySet, serviceBackends } from "../support/netpol-eval";

const ROOT = path.resolve(__dirname, "../..");
const UPSTREAM = process.env.EGOV_UPSTREAM ?? path.resolve(__dirname, "../../../shared/reference/egovframe-msa-edu");
// The dev stack's values under another stack name: the builds are the ones `npm run frontends -- --stack dev`
// makes, so the two share the cache (tests/frontends.test.ts covers other domains, TLS and prod).
const STACK = "proof";
const NAMESPACE = "egov-dev";
const DOMAIN = "egov-dev.localtest.me";
const GATEWAY_HOST = `apigateway.${NAMESPACE}.svc.cluster.local`;
const DNS = { namespace: "kube-system", labels: { "k8s-app": "kube-dns" } };
const INGRESS_CONTROLLER = { namespace: "ingress-nginx", labels: { "app.kubernetes.io/name": "ingress-nginx" } };

describe("frontend images built for a stack (npm run frontends)", function () {
    this.timeout(3600_000);
    const raw = stackConfig("dev", { namespace: NAMESPACE, domain: DOMAIN, environment: "dev" });
    const cfg = loadConfig(sourceOf(raw), STACK, [], undefined, { frontendRecord: false });
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "egov-frontends-"));
    const lockFile = path.join(work, "frontends.lock.json");
    let built: FrontendsResult;
    let tool: string;
    const inspect = (layout: string) => inspectLayout(tool, layout);
    // Unpacked filesystems, cached by image digest (tests/support/frontend-images.ts).
    const unpacked = (name: string, mountPoints: readonly string[] = []) => unpackedRootfs(tool, built.layouts[name], mountPoints);

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
        // Keep the unpacked filesystems of the current images, and of any used lately.
        // Pruned first: the current images' layouts are in `work`.
        if (tool) pruneRootfs(tool, Object.values(built?.layouts ?? {}));
        fs.rmSync(work, { recursive: true, force: true });
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

    /** A request of the proof (tests/support/frontend-proof.js): one at a time, a session keeping its cookies. */
    interface Step { id: string; session?: string; method?: "GET" | "POST" | "PUT"; path: string; body?: string }
    interface Res { status: number; body: string; ms: number; headers: Record<string, string | string[]>; sentCookie?: string | null }
    /** A request as the stand-in gateway saw it, with the step in flight. */
    interface Seen { step: string | null; method: string; url: string; host: string; siteId?: string; authorization?: string; tokenId?: string; cookie?: string; body: string }
    interface Proof { readyAfterMs: number | null; health: Res; healthGatewayDown: Res; steps: Record<string, Res>; gatewaySaw: Seen[]; log: string }
    /** Every gateway address the frontends' server-side requests were seen at (the policy check reads them). */
    const gatewaySeenAt = new Set<string>();

    /**
     * Runs the image's own command from its own files with the pod's environment, in a namespace of its own where a
     * stand-in gateway listens at the address the image was built for; returns what frontend-proof.js saw.
     */
    const runPod = async (name: FrontendName, proof: { steps: Step[]; routes?: Record<string, unknown>; users?: readonly FixtureUser[] }): Promise<Proof> => {
        // The gateway's address as the build baked it in; cluster DNS for the pod resolves its name to the
        // namespace's loopback (the kubelet bind-mounts the pod's /etc/hosts the same way).
        const api = new URL(frontendBuildValues(cfg, frontends.find((f) => f.name === name)!).apiUrl);
        const hosts = path.join(work, "hosts");
        fs.writeFileSync(hosts, `127.0.0.1 localhost\n127.0.0.1 ${api.hostname}\n`);
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
        const env: Record<string, string> = imageEnv(config);
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
        const root = fs.mkdtempSync(path.join(work, `pod-root-${name}-`));
        const port = container.ports[0].containerPort as number;
        // What the kubelet asks: the probe's own path, which must answer before anything else is tried.
        const healthPath = container.readinessProbe.httpGet.path as string;
        assert.strictEqual(healthPath, HEALTH_PATH, "an image built with the patch set is probed at its health route");
        const input = JSON.stringify({ rootfs: root, workdir: config.WorkingDir, cmd: config.Cmd, env, gatewayPort: Number(api.port), port, healthPath,
            timeoutMs: 180_000, steps: proof.steps, gateway: { routes: proof.routes ?? {}, users: proof.users ?? [] } });
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
            rootfs, hosts, root, process.execPath, path.join(__dirname, "..", "support", "frontend-proof.js"), input], { encoding: "utf8", timeout: 300_000, maxBuffer: 64 << 20 });
        const r = JSON.parse(out.trim().split("\n").pop()!) as Proof;
        assert.ok(r.readyAfterMs !== null, `the ${name} server never answered ${healthPath}; server log:\n${r.log}`);
        console.log(`      ${name} server answered ${healthPath} ${r.readyAfterMs} ms after start`);
        for (const s of r.gatewaySaw) gatewaySeenAt.add(s.host);
        // The probe calls nothing: with the stand-in stopped it answers at once (the kubelet waits 3 s).
        assert.deepStrictEqual([r.healthGatewayDown.status, JSON.parse(r.healthGatewayDown.body)], [200, { status: "UP" }], `gateway down; server log:\n${r.log}`);
        assert.ok(r.healthGatewayDown.ms < 1000, `${healthPath} with the gateway down answered in ${r.healthGatewayDown.ms} ms`);
        console.log(`      ${name} ${healthPath} with the gateway down: ${r.healthGatewayDown.status} in ${r.healthGatewayDown.ms} ms`);
        return r;
    };

    const nextData = (html: string): Obj => {
        const m = /<script id="__NEXT_DATA__" type="application\/json">(.*?)<\/script>/s.exec(html);
        assert.ok(m, "the page carries its props (__NEXT_DATA__)");
        return JSON.parse(m[1]) as Obj;
    };
    /**
     * A server-rendered page: exactly the requests its getServerSideProps makes reached the gateway at the address
     * the image was built for with the site header, and their answers are in the HTML as the page's props, from
     * which the browser renders it (both upstream App components render only a loader on the server: they wait for
     * the browser's menus and user).
     */
    const checkPage = (name: FrontendName, r: Proof, step: string, page: FixturePage, quiet = false) => {
        const why = `server log:\n${r.log}`;
        const res = r.steps[step];
        assert.strictEqual(res.status, 200, `${page.path}: ${res.body.slice(0, 300)}; ${why}`);
        const saw = r.gatewaySaw.filter((s) => s.step === step);
        assert.deepStrictEqual(saw.map((s) => `${s.method} ${s.url}`).sort(), Object.keys(page.routes).sort(), `${page.path}: the server-side requests; ${why}`);
        const api = new URL(frontendBuildValues(cfg, frontends.find((f) => f.name === name)!).apiUrl);
        for (const s of saw) {
            assert.strictEqual(s.host, api.host, `${s.url}: straight to the gateway's Service (no /server: that is the browser's path)`);
            assert.strictEqual(s.siteId, SITE_IDS[name], `${s.url}: the site header goes along`);
        }
        const pageProps = nextData(res.body).props.pageProps as Obj;
        for (const [k, v] of Object.entries(page.props)) assert.deepStrictEqual(pageProps[k], v, `${page.path}: prop ${k} is the gateway's answer`);
        if (!quiet) console.log(`      ${name} ${page.path}: ${res.status}, ${saw.length} server-side requests at ${api.host}: ${saw.map((s) => `${s.method} ${s.url}`).join(", ")}`);
    };

    it("the admin image, started from its own files with the pod's environment, renders a page with server-side data from the gateway, sends /server/* there, and its health path answers at once with the gateway down", async () => {
        const apiPath = Object.keys(adminBoardPage.routes)[0].replace(/^GET /, "");
        const r = await runPod("admin", {
            routes: adminBoardPage.routes,
            steps: [{ id: "login-page", path: "/auth/login" }, { id: "board", path: adminBoardPage.path }, { id: "api", path: `/server${apiPath}` }],
        });
        const why = `server log:\n${r.log}`;
        assert.deepStrictEqual([r.health.status, JSON.parse(r.health.body)], [200, { status: "UP" }], `the probe's path answers; ${why}`);
        assert.strictEqual(r.steps["login-page"].status, 200, why);
        assert.match(r.steps["login-page"].body, /<div id="__next"/, "a Next.js page");
        assert.deepStrictEqual(r.gatewaySaw.filter((s) => s.step === "login-page"), [], "the login page fetches nothing");
        checkPage("admin", r, "board", adminBoardPage);
        // The browser's path: the page's host /server/*, rewritten by the server to the baked address.
        assert.strictEqual(r.steps.api.status, 200, `${JSON.stringify(r.steps.api)}; ${why}`);
        assert.deepStrictEqual(JSON.parse(r.steps.api.body), adminBoardPage.routes[`GET ${apiPath}`], "the gateway's answer came back");
        const api = new URL(frontendBuildValues(cfg, frontends.find((f) => f.name === "admin")!).apiUrl);
        assert.deepStrictEqual(r.gatewaySaw.filter((s) => s.step === "api").map((s) => [s.url, s.host]), [[apiPath, api.host]], "the request reached the baked address with the path");
    });

    it("the portal image renders its home page and a board post with server-side data from the gateway in the cluster (patched SSR), and its health path answers at once with the gateway down", async () => {
        const r = await runPod("portal", {
            routes: { ...portalHome.routes, ...portalBoardPost.routes },
            steps: [{ id: "home", path: portalHome.path }, { id: "post", path: portalBoardPost.path }],
        });
        assert.deepStrictEqual([r.health.status, JSON.parse(r.health.body)], [200, { status: "UP" }], `server log:\n${r.log}`);
        checkPage("portal", r, "home", portalHome);
        checkPage("portal", r, "post", portalBoardPost);
    });

    /**
     * Two browsers log in as different users (the stand-in's login answers each its own tokens), then use the login
     * route's token refresh and a server-rendered page, interleaved, plus requests with no session. One request at a
     * time, so each request the gateway sees belongs to one step. Each must carry no token but its own session's.
     */
    const sessionsProof = async (name: FrontendName, loginRoute: string, refreshRoute: string, page: FixturePage) => {
        const [a, b] = USERS[name];
        const login = (u: FixtureUser): string => JSON.stringify({ email: u.email, password: "proof-password", provider: "email" });
        const steps: Step[] = [
            { id: "a-login", session: "a", method: "POST", path: loginRoute, body: login(a) },
            { id: "a-page", session: "a", path: page.path },
            { id: "b-login", session: "b", method: "POST", path: loginRoute, body: login(b) },
            { id: "a-page-2", session: "a", path: page.path },
            { id: "anon-page", path: page.path },
            { id: "b-page", session: "b", path: page.path },
            { id: "a-refresh", session: "a", method: "PUT", path: refreshRoute },
            { id: "b-refresh", session: "b", method: "PUT", path: refreshRoute },
            { id: "a-page-3", session: "a", path: page.path },
            { id: "anon-refresh", method: "PUT", path: refreshRoute },
            { id: "anon-page-2", path: page.path },
        ];
        const r = await runPod(name, { routes: page.routes, users: [a, b], steps });
        const why = `server log:\n${r.log}`;
        const own = { a, b } as Record<string, FixtureUser>;
        const secrets = [a, b].flatMap((u) => [u.accessToken, u.refreshToken, u.userId]);
        const carried = (s: Seen) => secrets.filter((t) => [s.authorization, s.tokenId, s.cookie, s.body].some((v) => v?.includes(t)));
        for (const st of steps) {
            const mine = st.session ? [own[st.session].accessToken, own[st.session].refreshToken, own[st.session].userId] : [];
            for (const s of r.gatewaySaw.filter((x) => x.step === st.id)) {
                const foreign = carried(s).filter((t) => !mine.includes(t));
                assert.deepStrictEqual(foreign, [], `${st.id} (${st.session ? `session ${st.session}` : "no session"}): ${s.method} ${s.url} reached the gateway ` +
                    `carrying ${JSON.stringify({ authorization: s.authorization, tokenId: s.tokenId, cookie: s.cookie })}, not its own`);
            }
        }
        // What each session did worked, with its own tokens.
        for (const [who, u] of Object.entries(own)) {
            const li = r.steps[`${who}-login`];
            assert.strictEqual(li.status, 200, `${who} logs in; ${li.body}; ${why}`);
            assert.deepStrictEqual(JSON.parse(li.body), { "access-token": u.accessToken, "token-id": u.userId }, `${who}'s browser gets its own token`);
            const rf = r.steps[`${who}-refresh`];
            assert.strictEqual(rf.sentCookie, `refresh-token=${u.refreshToken}`, `${who}'s cookie jar holds its refresh token`);
            assert.strictEqual(rf.status, 200, `${who} refreshes; ${rf.body}; ${why}`);
            assert.deepStrictEqual(r.gatewaySaw.filter((s) => s.step === `${who}-refresh`).map((s) => [s.method, s.url, s.authorization]),
                [["PUT", "/user-service/api/v1/users/token/refresh", u.refreshToken]], `${who}'s refresh goes to user-service with its own refresh token`);
        }
        // The server-rendered pages: rendered with the data, and no user's token sent by the server (the access token
        // lives in the browser's memory only; docs/frontends.md).
        for (const st of steps.filter((x) => x.id.includes("-page"))) {
            checkPage(name, r, st.id, page, true);
            for (const s of r.gatewaySaw.filter((x) => x.step === st.id)) assert.deepStrictEqual([s.authorization, s.tokenId], [undefined, undefined], `${st.id} ${s.url}`);
        }
        assert.strictEqual(r.steps["anon-refresh"].status, 401, "no session: nothing to refresh");
        assert.deepStrictEqual(r.gatewaySaw.filter((s) => s.step === "anon-refresh"), [], "and nothing sent");
        console.log(`      ${name}: ${r.gatewaySaw.length} gateway requests over ${steps.length} steps of two sessions and none; no token crossed`);
    };

    it("admin: two logged-in sessions and one without, interleaved through the login proxy route and a server-rendered page: each request at the gateway carries only its own session's token", async () => {
        await sessionsProof("admin", "/api/proxy/user-service/login", "/api/proxy/client/refresh", adminBoardPage);
    });

    it("portal: the same through its login route and a server-rendered board post", async () => {
        await sessionsProof("portal", "/api/login/user-service/login", "/api/login/user-service/api/v1/users/token/refresh", portalBoardPost);
    });

    it("the rendered network policy lets both frontends reach exactly the gateway address their servers were seen calling, and nothing else but DNS", async () => {
        assert.deepStrictEqual([...gatewaySeenAt], [new URL(frontendBuildValues(cfg, frontends[0]).apiUrl).host], "one address, the built one");
        process.env.EGOV_FRONTENDS_LOCK = lockFile;
        let d: Awaited<ReturnType<typeof deployFresh>>;
        try {
            d = await deployFresh(raw, STACK);
        } finally {
            delete process.env.EGOV_FRONTENDS_LOCK;
        }
        const policies = new PolicySet(d.of("NetworkPolicy"));
        const pods = podsOf(workloads(d));
        for (const seenAt of gatewaySeenAt) {
            const backends = serviceBackends(d.of("Service"), pods, seenAt);
            assert.deepStrictEqual(backends.map((b) => b.app), ["apigateway"], `${seenAt} is the gateway's Service`);
            for (const f of frontends) {
                const from = pods.get(`frontend-${f.name}`)!;
                assert.deepStrictEqual(egressTargets(policies, from, pods), backends.map((b) => `${b.app}:${b.port}`), `frontend-${f.name}: egress to pods`);
                for (const b of backends) assert.ok(policies.allows(from, pods.get(b.app)!, b.port), `frontend-${f.name} -> ${b.app}:${b.port} both ways`);
                assert.ok(policies.allows(from, DNS, 53, "UDP") && policies.allows(from, DNS, 53, "TCP"), "cluster DNS");
                for (const port of [80, 443]) assert.ok(!policies.egressAllowed(from, INGRESS_CONTROLLER, port, "TCP"), `not the public host through the ingress controller :${port}`);
                assert.ok(!policies.egressAllowed(from, { ip: "203.0.113.7" }, 443, "TCP"), "nothing outside the cluster");
            }
        }
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
