// What the pods' runtimes are told: the heap from the container's memory limit (config/runtime.ts), the Ingresses'
// body limit from the services' multipart settings (config/uploads.ts), and the env every container gets.
import * as assert from "assert";
import { loadConfig } from "../config";
import { planPlatform, WorkloadPlan } from "../config/plan";
import { HEAP_SHARE_PERCENT, heapEnv } from "../config/runtime";
import { dataSizeBytes, PackagedProperties, packagedProperties, proxyBodySize } from "../config/uploads";
import { PROXY_BODY_SIZE_ANNOTATION } from "../components/workload";
import { readFacts } from "../scripts/lib/boot-derive";

const MULTIPART = "spring.servlet.multipart.max-request-size";
import { deploy, sourceOf, stackConfig, withObject } from "./support/harness";

const planOf = (raw: Record<string, string>, stack: "dev" | "prod" = "dev") => planPlatform(loadConfig(sourceOf(raw), stack));

describe("heap from the memory limit", () => {
    it("JVM: the share of the limit the JVM reads from the cgroup, written as JDK 8 also parses it", () => {
        assert.strictEqual(HEAP_SHARE_PERCENT, 75);
        for (const limit of ["512Mi", "1Gi", "3G"]) assert.deepStrictEqual(heapEnv("jvm", limit), { name: "JAVA_TOOL_OPTIONS", value: "-XX:MaxRAMPercentage=75.0" });
    });

    it("Node.js: old space in MiB, the share of the limit, rounded down", () => {
        for (const [limit, mib] of [["512Mi", 384], ["1Gi", 768], ["1536Mi", 1152], ["2G", 1430], ["100Mi", 75]] as const) {
            assert.deepStrictEqual(heapEnv("node", limit), { name: "NODE_OPTIONS", value: `--max-old-space-size=${mib}` }, limit);
        }
    });

    it("without a readable limit, no heap flag: the runtime keeps its default rather than a share of the node", () => {
        for (const runtime of ["jvm", "node"] as const) {
            for (const limit of [undefined, "", "0", "lots"]) assert.strictEqual(heapEnv(runtime, limit), undefined, `${runtime} ${String(limit)}`);
        }
    });

    it("the plan gives the Spring services and the frontends theirs from their own limit, and no third-party server one", () => {
        const raw = withObject(stackConfig("dev"), "resources", { frontend: { limits: { memory: "1Gi" } } });
        const p = planOf(raw);
        for (const s of p.services) assert.strictEqual(s.workload.heap?.value, "-XX:MaxRAMPercentage=75.0", s.spec.name);
        for (const f of p.frontends) assert.deepStrictEqual(f.workload.heap, { name: "NODE_OPTIONS", value: "--max-old-space-size=768" }, f.spec.name);
        assert.strictEqual(planOf(stackConfig("dev")).frontends[0].workload.heap?.value, "--max-old-space-size=384", "the default 512Mi");
        const prod = planOf(stackConfig("prod"), "prod");
        const servers: WorkloadPlan[] = [prod.database.workload, prod.messaging.workload, prod.tracing!.workload,
            prod.logging!.opensearch, prod.logging!.logstash, prod.logging!.dashboards, prod.ci!.workload];
        for (const w of servers) assert.strictEqual(w.heap, undefined, `${w.name}: its image sizes its own heap`);
    });
});

describe("the env every pod gets", () => {
    it("is TZ, the stack's time zone as a literal (no auto-named ConfigMap in a Job's immutable template); never a Secret", () => {
        const p = planOf(stackConfig("dev", { timezone: "Europe/Berlin" }));
        assert.deepStrictEqual(p.everyPod.env, [{ name: "TZ", from: "literal", value: "Europe/Berlin" }]);
        assert.strictEqual(p.commonConfig.TZ, undefined);
        for (const e of p.everyPod.env) assert.notStrictEqual((e as { from: string }).from, "secret");
    });
});

describe("request body limits from the services' multipart settings", () => {
    const facts = (sizes: Record<string, string | undefined>): Record<string, PackagedProperties> => Object.fromEntries(
        Object.entries(sizes).map(([s, v]): [string, PackagedProperties] => [s, v === undefined ? {} : { "spring.servlet.multipart.max-request-size": { value: v } }]));

    it("reads Spring data sizes in binary units; -1 is no limit; anything else is refused", () => {
        for (const [v, bytes] of [["50MB", 50 * 2 ** 20], ["10MB", 10 * 2 ** 20], ["1GB", 2 ** 30], ["10KB", 10240], ["512", 512], ["512B", 512], ["-1", Infinity]] as const) {
            assert.strictEqual(dataSizeBytes(v), bytes, v);
        }
        for (const v of ["", "50 mebibytes", "1.5GB", "50MiB", "MB"]) assert.throws(() => dataSizeBytes(v), /not a Spring data size/, v);
    });

    it("is the largest among the given services, in MiB, plus the margin; a service without the setting adds nothing", () => {
        assert.strictEqual(proxyBodySize(["a", "b", "c"], facts({ a: "50MB", b: "10MB", c: undefined })), "51m");
        assert.strictEqual(proxyBodySize(["a"], facts({ a: "1GB" })), "1025m");
        assert.strictEqual(proxyBodySize(["a"], facts({ a: "1500KB" })), "3m", "rounded up to a whole MiB");
        assert.strictEqual(proxyBodySize(["b"], facts({ a: "1GB", b: "10MB" })), "11m", "only the services named");
        assert.strictEqual(proxyBodySize(["c", "unknown"], facts({ c: undefined })), undefined, "none sets one: the controller's default stays");
        assert.strictEqual(proxyBodySize(["a", "b"], facts({ a: "-1", b: "10MB" })), "0", "one without a limit: nginx checks nothing");
    });

    it("reads the services' packaged application.yml from the application checkout, as the boot facts record it", () => {
        const packaged = packagedProperties(loadConfig(sourceOf(stackConfig("dev")), "dev").application);
        assert.strictEqual(packaged["portal-service"]["spring.servlet.multipart.max-request-size"].value, "50MB");
        assert.strictEqual(packaged.apigateway["spring.servlet.multipart.max-request-size"], undefined);
        for (const s of readFacts().services) {
            assert.strictEqual(packaged[s.name]?.[MULTIPART]?.value, s.packaged[MULTIPART]?.value, s.name);
        }
    });

    it("is on the Ingresses uploads pass through (the gateway's and the frontends', whose /server/* goes to it), on no other", async () => {
        const p = planOf(stackConfig("dev"));
        for (const a of [...p.services, ...p.frontends]) {
            const carries = a.workload.name === "apigateway" || a.workload.name.startsWith("frontend-");
            assert.strictEqual(a.workload.ingress?.maxBodySize, carries ? "51m" : undefined, a.workload.name);
        }
        const d = await deploy(stackConfig("prod"), "prod");
        const ingresses = d.of("Ingress");
        assert.ok(ingresses.length >= 7);
        for (const ing of ingresses) {
            const host = ing.spec.rules[0].host as string;
            const carries = /^(api|admin|portal)\./.test(host);
            assert.strictEqual(ing.metadata.annotations?.[PROXY_BODY_SIZE_ANNOTATION], carries ? "51m" : undefined, host);
        }
    });
});
