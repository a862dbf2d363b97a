// The plan (config/plan.ts) on its own: no Pulumi runtime, no mocks; the config is validated as `pulumi up` does.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { loadConfig } from "../config";
import { maxPodsOf, singleWriterProblems } from "../config/volumes";
import { planPlatform, PlatformPlan, WorkloadPlan } from "../config/plan";
import { serviceGraph } from "../config/graph";
import { ROOT, sourceOf, stackConfig, TS_LOADER, withObject } from "./support/harness";

const configOf = (stack: "dev" | "prod", overrides: Record<string, unknown> = {}) => loadConfig(sourceOf(stackConfig(stack, overrides)), stack);
const planOf = (stack: "dev" | "prod", overrides: Record<string, unknown> = {}) => planPlatform(configOf(stack, overrides));

/** Every workload record of a plan, by name. */
function workloads(p: PlatformPlan): Map<string, WorkloadPlan> {
    const all: WorkloadPlan[] = [
        p.database.workload, p.messaging.workload,
        ...(p.tracing ? [p.tracing.workload] : []),
        ...(p.logging ? [p.logging.opensearch, p.logging.logstash, p.logging.dashboards] : []),
        ...(p.ci ? [p.ci.workload] : []),
        ...p.services.map((s) => s.workload), ...p.frontends.map((f) => f.workload),
    ];
    const byName = new Map(all.map((w) => [w.name, w]));
    assert.strictEqual(byName.size, all.length, "one record per workload");
    return byName;
}

describe("the plan", () => {
    for (const stack of ["dev", "prod"] as const) {
        it(`${stack}: one record per workload of the service graph that runs pods of its own, with the graph's ports`, () => {
            const cfg = configOf(stack);
            const graph = serviceGraph(cfg);
            const records = workloads(planPlatform(cfg));
            // Jobs, agents and the provisioner are pods without a Service: they have records of their own kind.
            const served = [...graph.nodes.values()].filter((n) => Object.keys(n.ports).length > 0);
            assert.deepStrictEqual([...records.keys()].sort(), served.map((n) => n.name).sort());
            for (const node of served) {
                const w = records.get(node.name)!;
                const ports = Object.fromEntries([...w.ports, ...Object.values(w.extraServices ?? {}).flat()].map((p) => [p.name, p.port]));
                for (const [name, port] of Object.entries(node.ports)) {
                    assert.strictEqual(ports[name], port, `${node.name}: port ${name} is ${port} in the graph and ${ports[name]} in its record`);
                }
            }
        });

        it(`${stack}: each service waits for exactly the servers the graph marks readyBefore, and comes after them`, () => {
            const cfg = configOf(stack);
            const graph = serviceGraph(cfg);
            const p = planPlatform(cfg);
            const order = p.services.map((s) => s.spec.name);
            for (const s of p.services) {
                const want = graph.dependenciesOf(s.spec.name).filter((e) => e.readyBefore).map((e) => e.to);
                assert.deepStrictEqual([...s.workload.waitsFor], want, s.spec.name);
                for (const to of s.workload.waitsFor) {
                    if (order.includes(to)) assert.ok(order.indexOf(to) < order.indexOf(s.spec.name), `${to} is planned before ${s.spec.name}`);
                }
            }
            assert.deepStrictEqual(p.services.find((s) => s.spec.name === "discovery")!.workload.waitsFor, []);
            assert.deepStrictEqual(p.services.find((s) => s.spec.name === "board-service")!.workload.waitsFor, ["config", "discovery", "mysql", "rabbitmq"]);
        });
    }

    it("decides how many pods a workload can have in one place, which the volume check reads too", () => {
        const cfg = configOf("dev", { autoscaling: { enabled: true, maxReplicas: 4 }, serviceReplicas: { "board-service": 2 } });
        const records = workloads(planPlatform(cfg));
        for (const w of records.values()) assert.strictEqual(w.maxPods, maxPodsOf(cfg, w.name), w.name);
        assert.strictEqual(records.get("board-service")!.maxPods, 4);
        assert.deepStrictEqual(records.get("board-service")!.autoscaling, cfg.autoscaling);
        // The Eureka server runs one replica: more without peer replication would be separate registries.
        assert.strictEqual(records.get("discovery")!.autoscaling, undefined);
        assert.strictEqual(records.get("discovery")!.maxPods, 1);
        assert.strictEqual(records.get("mysql")!.maxPods, 1);

        const fixed = configOf("dev", { autoscaling: { enabled: false }, serviceReplicas: { "board-service": 3 } });
        const board = workloads(planPlatform(fixed)).get("board-service")!;
        assert.strictEqual(board.autoscaling, undefined);
        assert.strictEqual(board.replicas, 3);
        assert.strictEqual(board.maxPods, 3);
        // The same count refuses a ReadWriteOnce shared volume for it.
        const rwo = { ...fixed, storage: { ...fixed.storage, shared: { backend: "cinder" as const, setBy: "storage.shared.backend" } } };
        assert.match(singleWriterProblems(rwo, "egov-platform").join("\n"), /board-service \(up to 3 pods\)/);
    });

    it("resolves every image once, below the mirror and pinned by digest when the stack asks", () => {
        const mirror = "harbor.agency.go.kr/egov";
        const p = planOf("prod", { imageMirror: mirror });
        for (const w of workloads(p).values()) assert.ok(w.image.startsWith(`${mirror}/`), `${w.name}: ${w.image}`);
        for (const image of [p.rotation.mysql.image, p.rotation.rabbitmq.image, ...Object.values(p.backup!.images), ...Object.values(p.storage.nfsDriver?.images ?? {})]) {
            if (image) assert.ok(image.startsWith(`${mirror}/`), image);
        }
        const digest = `sha256:${"a".repeat(64)}`;
        const pinned = planOf("dev", { imageDigests: { "docker.io/library/mysql:8.4.11": digest } });
        assert.strictEqual(pinned.database.workload.image, `docker.io/library/mysql:8.4.11@${digest}`);
        assert.strictEqual(pinned.rotation.mysql.image, pinned.database.workload.image);
    });

    it("has a record only for the parts the stack turns on, and exposes only those", () => {
        const all = planOf("dev");
        assert.ok(all.tracing && all.logging && all.ci);
        assert.ok(all.urls.zipkin && all.urls.dashboards && all.urls.jenkins);
        const none = planOf("dev", { tracing: { enabled: false }, logging: { enabled: false }, ci: { enabled: false } });
        assert.strictEqual(none.tracing, undefined);
        assert.strictEqual(none.logging, undefined);
        assert.strictEqual(none.ci, undefined);
        assert.deepStrictEqual(Object.keys(none.urls).sort(), ["admin", "apigateway", "discovery", "portal", "rabbitmq"]);
        assert.ok(!none.storage.volumes.some((v) => ["opensearch", "jenkins"].includes(v.name)));
        assert.deepStrictEqual(none.parts, { ...all.parts, tracing: false, logging: false, ci: false });
    });

    it("plans the off-site copies, the drill, the snapshots and the archive together with backup.offsite", () => {
        const prod = planOf("prod");
        assert.ok(prod.parts.offsite && prod.backup?.offsite);
        assert.ok(prod.backup.drill, "prod drills its restores");
        assert.strictEqual(prod.backup.opensearchSnapshot?.repoPath, prod.logging?.snapshotPath);
        assert.ok(prod.storage.volumes.some((v) => v.name === "opensearch-snapshots"));
        assert.strictEqual(prod.ci?.archive?.offsite, prod.backup.offsite);

        const raw = stackConfig("prod");
        delete raw.backup;
        const local = planPlatform(loadConfig(sourceOf(withObject(raw, "backup", { enabled: true })), "prod"));
        assert.strictEqual(local.backup?.offsite, undefined);
        assert.strictEqual(local.backup?.drill, undefined);
        assert.strictEqual(local.logging?.snapshotPath, undefined);
        assert.strictEqual(local.ci?.archive, undefined);
        assert.ok(!local.storage.volumes.some((v) => v.name === "opensearch-snapshots"));
    });

    it("gives the namespace the strictest Pod Security level every planned part meets", () => {
        const p = planOf("prod");
        assert.strictEqual(p.namespace.labels["pod-security.kubernetes.io/enforce"], p.podSecurityLevel);
        assert.strictEqual(p.podSecurityLevel, "restricted");
        for (const w of workloads(p).values()) assert.strictEqual(w.security.exceptions?.restricted, undefined, w.name);
    });

    it("is plain data: planning loads no Pulumi module", () => {
        const script = "require('./config/plan'); " +
            "const loaded = Object.keys(require.cache).filter((k) => k.includes('@pulumi')); console.log(JSON.stringify(loaded));";
        const out = execFileSync(process.execPath, ["-r", TS_LOADER, "-e", script], { cwd: ROOT, encoding: "utf8" });
        assert.deepStrictEqual(JSON.parse(out.trim().split("\n").pop()!), []);
    });

    it("is what components render from: they import nothing but types from config/", () => {
        const dir = path.join(ROOT, "components");
        const offenders: string[] = [];
        for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
            const src = fs.readFileSync(path.join(dir, file), "utf8");
            for (const m of src.matchAll(/^import\s+(type\s+)?[^;]*?from\s+"(\.\.\/config[^"]*)"/gms)) {
                if (!m[1]) offenders.push(`${file}: ${m[0].replace(/\s+/g, " ")}`);
            }
            if (/require\(["']\.\.\/config/.test(src)) offenders.push(`${file}: require of config/`);
        }
        assert.deepStrictEqual(offenders, []);
    });

    it("nothing under config/ imports the config reader (config/index.ts) back", () => {
        const dir = path.join(ROOT, "config");
        const back = fs.readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "index.ts")
            .filter((f) => /from\s+"\.(\/index)?"/.test(fs.readFileSync(path.join(dir, f), "utf8")));
        assert.deepStrictEqual(back, []);
    });
});
