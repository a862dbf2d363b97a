// What the program and the policy pack do with frontends.lock.json (the record `npm run frontends` writes): the
// stack runs its recorded digests; an image built for other values is refused in prod and warned about
// elsewhere, naming both; no record runs the published images with a warning. The real build and run of the
// images is tests/e2e/frontends.e2e.ts.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, loadConfig } from "../config";
import { defaultImages, frontends } from "../config/catalog";
import { FRONTEND_PATCHES, HEALTH_PATH } from "../config/frontend-patches";
import { BUILT_FOR_ANNOTATION, FrontendBuild, frontendBuildValues, frontendEnvFile, readFrontendsLock, readinessPath } from "../config/frontends";
import { serviceGraph } from "../config/graph";
import { frontendBuiltForStack, ResourceValidationArgs } from "../policy/rules";
import { BUILD_NODE_OPTIONS, buildNodeOptions, toolchainVersions } from "../scripts/lib/frontend-build";
import { deployFresh, Obj, sourceOf, stackConfig } from "./support/harness";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const admin = frontends.find((f) => f.name === "admin")!;
const portal = frontends.find((f) => f.name === "portal")!;

/** A record as npm run frontends writes it, for the dev stack's values unless told otherwise. */
function record(domain = "egov-dev.localtest.me", namespace = "egov-dev"): Record<string, FrontendBuild> {
    const out: Record<string, FrontendBuild> = {};
    for (const f of frontends) {
        out[f.name] = {
            image: `harbor.agency.go.kr/egov/egovframe-msa-edu-frontend-${f.name}:dev`,
            digest: D(f.name === "admin" ? "a" : "b"),
            builtFor: {
                apiUrl: `http://apigateway.${namespace}.svc.cluster.local:8000`,
                publicUrl: `http://${f.ingressHost}.${domain}`,
                siteId: f.name === "admin" ? "1" : "2",
                timezone: "Asia/Seoul",
            },
            base: `docker.io/library/node:22.23.5-bookworm-slim@${D("c")}`,
            node: "22.23.5",
        };
    }
    return out;
}

describe("frontend images built for the stack (frontends.lock.json)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-fe-lock-"));
    const lockFile = path.join(dir, "frontends.lock.json");
    const withLock = <T>(content: unknown, fn: () => T): T => {
        fs.writeFileSync(lockFile, JSON.stringify(content));
        process.env.EGOV_FRONTENDS_LOCK = lockFile;
        try {
            return fn();
        } finally {
            delete process.env.EGOV_FRONTENDS_LOCK;
        }
    };
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("are built with the gateway's in-cluster address, the public URL from domain and TLS, the reference's site ids and the time zone", () => {
        const cfg = loadConfig(sourceOf(stackConfig("prod", { kubeContext: undefined })), "prod", [], undefined, { frontendRecord: false });
        assert.deepStrictEqual(frontendBuildValues(cfg, admin), {
            apiUrl: "http://apigateway.egov.svc.cluster.local:8000", publicUrl: "https://admin.egov.example.go.kr", siteId: "1", timezone: "Asia/Seoul",
        });
        assert.strictEqual(frontendBuildValues(cfg, portal).siteId, "2");
        const env = frontendEnvFile(frontendBuildValues(cfg, portal), portal, "prod");
        for (const line of ["NODE_ENV=production", "PORT=3000", "SERVER_API_URL=http://apigateway.egov.svc.cluster.local:8000",
            "PROXY_HOST=https://portal.egov.example.go.kr", "SITE_ID=2", "TZ=Asia/Seoul"]) assert.ok(env.split("\n").includes(line), line);
    });

    it("a stack with a record runs its digests, without a warning", async () => {
        fs.writeFileSync(lockFile, JSON.stringify({ dev: record() }));
        process.env.EGOV_FRONTENDS_LOCK = lockFile;
        try {
            const cfg = loadConfig(sourceOf(stackConfig("dev")), "dev");
            for (const f of frontends) assert.deepStrictEqual(cfg.frontendImages[f.name], { built: record()[f.name] });
            const d = await deployFresh(stackConfig("dev"), "dev");
            for (const f of frontends) {
                const dep = d.k8s.find((r) => r.obj.kind === "Deployment" && r.obj.metadata.labels?.app === `frontend-${f.name}`)!.obj;
                assert.strictEqual(dep.spec.template.spec.containers[0].image, `${record()[f.name].image}@${record()[f.name].digest}`);
                assert.deepStrictEqual(JSON.parse(dep.spec.template.metadata.annotations[BUILT_FOR_ANNOTATION]), record()[f.name].builtFor);
            }
        } finally {
            delete process.env.EGOV_FRONTENDS_LOCK;
        }
    });

    it("prod refuses an image built for another domain or gateway, naming both", () => {
        const raw = stackConfig("prod");
        const err = withLock({ prod: record("other.example.go.kr", "egov") }, () => {
            try {
                loadConfig(sourceOf(raw), "prod");
            } catch (e) {
                return e;
            }
            return undefined;
        });
        assert.ok(err instanceof ConfigError, "prod must refuse");
        const text = err.problems.join("\n");
        assert.match(text, /frontend admin image .*@sha256:a{64} .* was built for public URL http:\/\/admin\.other\.example\.go\.kr \(the stack needs https:\/\/admin\.egov\.example\.go\.kr\); prod refuses it/);
        assert.match(text, /frontend portal .*public URL http:\/\/portal\.other\.example\.go\.kr/);
        // Another gateway address (another namespace) too.
        const ns = withLock({ prod: { admin: record("egov.example.go.kr", "egov-dev").admin } }, () => {
            try { loadConfig(sourceOf(raw), "prod"); } catch (e) { return (e as ConfigError).problems.join("\n"); }
            return "";
        });
        assert.match(ns, /API address http:\/\/apigateway\.egov-dev\.svc\.cluster\.local:8000 \(the stack needs http:\/\/apigateway\.egov\.svc\.cluster\.local:8000\)/);
    });

    it("prod refuses to run published images (no record for the stack) unless frontends.allowPublishedImages says so, naming the risk", () => {
        const raw = stackConfig("prod", { frontends: undefined });
        const err = withLock({}, () => {
            try { loadConfig(sourceOf(raw), "prod"); } catch (e) { return e; }
            return undefined;
        });
        assert.ok(err instanceof ConfigError, "prod without a record must refuse");
        const text = err.problems.join("\n");
        for (const f of frontends) {
            assert.match(text, new RegExp(`frontend ${f.name}: prod runs only images built for it, and frontends\\.lock\\.json has no ${f.name} image for stack prod; ` +
                "build them for it: npm run frontends -- --stack prod .*Or set frontends\\.allowPublishedImages: true to run the published image, knowing what it risks"));
        }
        // One frontend built, the other not: the missing one is still refused.
        const fits = { ...record().admin, builtFor: frontendBuildValues(loadConfig(sourceOf(raw), "prod", [], undefined, { frontendRecord: false }), admin) };
        const one = withLock({ prod: { admin: fits } }, () => {
            try { loadConfig(sourceOf(raw), "prod"); } catch (e) { return (e as ConfigError).problems; }
            return [];
        });
        assert.deepStrictEqual(one.map((p) => p.split(":")[0]), ["frontend portal"]);
        // Said explicitly (as the committed prod stack does), the published images run, with the warning.
        const allowed = withLock({}, () => loadConfig(sourceOf(stackConfig("prod", { frontends: { allowPublishedImages: true } })), "prod"));
        assert.match(allowed.frontendImages.admin.warning ?? "", /runs the published image/);
        assert.strictEqual(allowed.frontends.allowPublishedImages, true);
        assert.strictEqual(JSON.parse(stackConfig("prod").frontends).allowPublishedImages, true, "the committed example says it, with its reason");
        // Other environments and the commands that read no record (npm run frontends, the policy pack) are not stopped.
        assert.strictEqual(withLock({}, () => loadConfig(sourceOf(stackConfig("dev")), "dev")).frontends.allowPublishedImages, false);
        assert.doesNotThrow(() => withLock({}, () => loadConfig(sourceOf(raw), "prod", [], undefined, { frontendRecord: false })));
        assert.throws(() => loadConfig(sourceOf(stackConfig("prod", { frontends: { allowPublishedImages: "maybe" } })), "prod", [], undefined, { frontendRecord: false }),
            /frontends\.allowPublishedImages/);
    });

    it("outside prod such an image runs with a warning naming both; without a record the published image runs with a warning", () => {
        const cfg = withLock({ dev: { admin: record("other.example.go.kr").admin } }, () => loadConfig(sourceOf(stackConfig("dev")), "dev"));
        assert.strictEqual(cfg.frontendImages.admin.built?.digest, D("a"));
        assert.match(cfg.frontendImages.admin.warning ?? "", /built for public URL http:\/\/admin\.other\.example\.go\.kr \(the stack needs http:\/\/admin\.egov-dev\.localtest\.me\)/);
        assert.strictEqual(cfg.frontendImages.portal.built, undefined);
        assert.match(cfg.frontendImages.portal.warning ?? "", /runs the published image.*npm run frontends -- --stack dev/);
    });

    it("refuses a malformed record, naming the entry", () => {
        const bad = { dev: { admin: { ...record().admin, digest: "sha256:nope" }, mobile: record().admin } };
        const { problems } = withLock(bad, () => readFrontendsLock());
        assert.strictEqual(problems.length, 2, problems.join("\n"));
        assert.match(problems[0], /^frontends\.lock\.json\[dev\]\.admin: .* is not allowed/);
        assert.match(problems[1], /^frontends\.lock\.json\[dev\]\.mobile: not a frontend/);
        assert.throws(() => withLock(bad, () => loadConfig(sourceOf(stackConfig("dev")), "dev")), /frontends\.lock\.json\[dev\]\.admin/);
    });

    describe("policy frontend-built-for-stack", () => {
        const wanted = { "frontend-admin": frontendBuildValues(loadConfig(sourceOf(stackConfig("dev")), "dev", [], undefined, { frontendRecord: false }), admin) };
        const deployment = (builtFor: string): Obj => ({
            metadata: { name: "frontend-admin-deployment", namespace: "egov-dev" },
            spec: { template: { metadata: { labels: { app: "frontend-admin" }, annotations: { [BUILT_FOR_ANNOTATION]: builtFor } },
                spec: { containers: [{ name: "frontend-admin", image: "r/egovframe-msa-edu-frontend-admin:dev@sha256:1" }] } } },
        });
        const check = (environment: string, builtFor: string) => {
            const policy = frontendBuiltForStack({ environment, serviceType: "ClusterIP", networkPolicy: true, frontends: wanted });
            const out: string[] = [];
            const args = { type: "kubernetes:apps/v1:Deployment", props: deployment(builtFor) } as unknown as ResourceValidationArgs;
            void (policy.validateResource as (a: ResourceValidationArgs, r: (m: string) => void) => void)(args, (m) => out.push(m));
            return { level: policy.enforcementLevel, out };
        };

        it("reports an image built for another public URL, naming both: mandatory in prod, advisory elsewhere", () => {
            const other = JSON.stringify({ ...wanted["frontend-admin"], publicUrl: "http://admin.other.go.kr" });
            const p = check("prod", other);
            assert.strictEqual(p.level, "mandatory");
            assert.deepStrictEqual(p.out, ["Deployment egov-dev/frontend-admin-deployment runs r/egovframe-msa-edu-frontend-admin:dev@sha256:1, built for " +
                "public URL http://admin.other.go.kr (the stack needs http://admin.egov-dev.localtest.me); rebuild: npm run frontends -- --stack <stack>"]);
            assert.strictEqual(check("dev", other).level, "advisory");
            assert.strictEqual(check("dev", other).out.length, 1);
        });

        it("accepts an image built for the stack, and leaves images of unknown build to the program's warning", () => {
            assert.deepStrictEqual(check("prod", JSON.stringify(wanted["frontend-admin"])).out, []);
            assert.deepStrictEqual(check("prod", "unknown").out, []);
        });
    });

    it("probe the health route of an image built with the patch set, and / of any other image (the only path it is known to answer)", async () => {
        const patched = Object.fromEntries(frontends.map((f) => [f.name, { ...record()[f.name], patches: FRONTEND_PATCHES.filter((p) => p.app === f.name).map((p) => p.id) }]));
        const probesOf = async (rec: unknown) => {
            fs.writeFileSync(lockFile, JSON.stringify({ dev: rec }));
            process.env.EGOV_FRONTENDS_LOCK = lockFile;
            try {
                const d = await deployFresh(stackConfig("dev"), "dev");
                return frontends.map((f) => {
                    const c = d.k8s.find((r) => r.obj.kind === "Deployment" && r.obj.metadata.labels?.app === `frontend-${f.name}`)!.obj.spec.template.spec.containers[0];
                    return { ready: c.readinessProbe.httpGet.path, start: c.startupProbe.tcpSocket?.port, live: c.livenessProbe.tcpSocket?.port };
                });
            } finally {
                delete process.env.EGOV_FRONTENDS_LOCK;
            }
        };
        assert.deepStrictEqual(await probesOf(patched), frontends.map(() => ({ ready: HEALTH_PATH, start: 3000, live: 3000 })));
        // A build from before the patch set (no patches recorded) and the published images: their health route hangs or is missing.
        assert.deepStrictEqual((await probesOf(record())).map((p) => p.ready), ["/", "/"]);
        assert.deepStrictEqual((await probesOf({})).map((p) => p.ready), ["/", "/"]);
        assert.deepStrictEqual(frontends.map((f) => readinessPath(f.name, { ...record()[f.name], patches: ["portal-health-ends"] })), ["/", HEALTH_PATH]);
    });

    it("server-side rendering calls the gateway's in-cluster address, which the graph (and so the network policy) lets the frontends reach", () => {
        const cfg = loadConfig(sourceOf(stackConfig("prod", { kubeContext: undefined })), "prod", [], undefined, { frontendRecord: false });
        const graph = serviceGraph(cfg);
        for (const f of frontends) {
            const api = new URL(frontendBuildValues(cfg, f).apiUrl);
            const [service, namespace] = api.hostname.split(".");
            assert.strictEqual(namespace, cfg.namespace);
            assert.ok(graph.allows(`frontend-${f.name}`, service, Number(api.port)), `frontend-${f.name} -> ${api.host}`);
        }
    });

    it("build on a Node.js LTS line at least the one the frontends declare, with the legacy OpenSSL provider, the base image carrying the same", () => {
        const v = toolchainVersions();
        const major = (x: string) => Number(x.split(".")[0]);
        for (const f of frontends) {
            const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../shared/reference/egovframe-msa-edu/frontend", f.name, "package.json"), "utf8")) as Obj;
            assert.ok(major(v.FRONTEND_NODE_VERSION) >= major(pkg.engines.node), `${f.name} engines.node ${pkg.engines.node}`);
        }
        // Even majors are the LTS lines; 20 is the oldest still supported. 17+ (OpenSSL 3) build Next.js 11 only with the flag.
        assert.ok(major(v.FRONTEND_NODE_VERSION) >= 20 && major(v.FRONTEND_NODE_VERSION) % 2 === 0, v.FRONTEND_NODE_VERSION);
        assert.strictEqual(BUILD_NODE_OPTIONS, "--openssl-legacy-provider");
        assert.strictEqual(buildNodeOptions("--max-old-space-size=2048"), "--max-old-space-size=2048 --openssl-legacy-provider", "a caller's heap flag is kept");
        assert.strictEqual(buildNodeOptions(undefined), "--openssl-legacy-provider");
        assert.ok(defaultImages.frontendBase.startsWith(`node:${v.FRONTEND_NODE_VERSION}-`), defaultImages.frontendBase);
    });
});
