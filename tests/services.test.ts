// Backend services added through the `services` stack config key: accepted ones get everything a built-in
// service gets; bad entries are refused with the key, the value and what is allowed.
import * as assert from "assert";
import { loadConfig } from "../config";
import { backendServices } from "../config/catalog";
import { serviceGraph } from "../config/graph";
import { deploy, Deployed, GENERATED, Obj, sourceOf, stackConfig, configProblems } from "./support/harness";
import { assertAllInvariants } from "./support/invariants";

type Raw = Record<string, string>;

const notice = {
    name: "notice-service", image: "registry.example.go.kr/egov/notice-service:1.0.0", port: 8080, replicas: 2,
    ingressHost: "notice", needsDatabase: true, usesDiscovery: true, usesConfigServer: true, routedByGateway: true, usesToken: true,
};
const stats = { name: "stats-batch", image: "registry.example.go.kr/egov/stats:2.1", port: 9000 };
const withServices = (services: unknown, extra: Record<string, unknown> = {}): Raw => stackConfig("dev", { services, ...extra });

const problemsOf = (raw: Record<string, string>) => configProblems(raw);

const envOf = (d: Deployed, name: string): Obj[] => d.find("Deployment", `${name}-deployment`)!.spec.template.spec.containers[0].env;

describe("services added from stack config", () => {
    let d: Deployed;
    let raw: Raw;
    before(async () => {
        raw = withServices([notice, stats]);
        d = await deploy(raw);
    });

    it("join the catalog after the built-ins", () => {
        const cfg = loadConfig(sourceOf(raw), "dev");
        assert.deepStrictEqual(cfg.services.map((s) => s.name), [...backendServices.map((s) => s.name), "notice-service", "stats-batch"]);
        assert.strictEqual(cfg.replicas["notice-service"], 2);
        assert.strictEqual(cfg.replicas["stats-batch"], 1, "the stack's replicas when the entry sets none");
    });

    it("get a Deployment of their own image, a Service, an autoscaler and, with ingressHost, an Ingress and a URL", () => {
        const dep = d.find("Deployment", "notice-service-deployment")!;
        assert.strictEqual(dep.spec.template.spec.containers[0].image, notice.image);
        assert.deepStrictEqual(dep.spec.template.spec.containers[0].ports, [{ name: "http", containerPort: 8080 }]);
        assert.strictEqual(d.find("Service", "notice-service")!.spec.ports[0].port, 8080);
        const hpa = d.find("HorizontalPodAutoscaler", "notice-service-hpa-cpu")!;
        assert.strictEqual(hpa.spec.minReplicas, 2);
        assert.strictEqual(hpa.spec.scaleTargetRef.name, "notice-service-deployment");
        assert.strictEqual(d.find("Ingress", "notice-service-ingress")!.spec.rules[0].host, "notice.egov-dev.localtest.me");
        assert.strictEqual(d.exports.urls["notice-service"], "http://notice.egov-dev.localtest.me");
        assert.ok(d.find("Deployment", "stats-batch-deployment"));
        assert.strictEqual(d.find("Ingress", "stats-batch-ingress"), undefined, "no ingressHost, no Ingress");
        assertAllInvariants(d, "egov-dev", (app) => (app === "notice-service" ? 2 : 1));
    });

    it("get credentials exactly as their flags ask, from Secrets, never as plain values", () => {
        const env = Object.fromEntries(envOf(d, "notice-service").map((e) => [e.name, e]));
        assert.strictEqual(env.DB_PASSWORD.valueFrom.secretKeyRef.name, "mysql-secret");
        assert.strictEqual(env.EUREKA_PASSWORD.valueFrom.secretKeyRef.name, "eureka-secret");
        assert.strictEqual(env.TOKEN_SECRET.valueFrom.secretKeyRef.name, "token-secret");
        assert.strictEqual(env.SERVER_PORT.value, "8080");
        assert.strictEqual(env.SPRING_RABBITMQ_PASSWORD, undefined, "usesMessaging was not asked for");
        // The health-probe switch comes with the Spring probes (components/workload.ts), the graceful stop with every
        // Spring service (config/rollout.ts), TZ with every container and the heap with every JVM one, not from a flag.
        const always = ["MANAGEMENT_ENDPOINT_HEALTH_PROBES_ENABLED", "SERVER_SHUTDOWN", "SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE", "TZ", "JAVA_TOOL_OPTIONS"];
        const bare = envOf(d, "stats-batch").map((e) => e.name).filter((n) => !always.includes(n));
        assert.deepStrictEqual(bare.sort(), ["SERVER_PORT"], "every flag but setsServerPort defaults to false");
        for (const e of [...envOf(d, "notice-service"), ...envOf(d, "stats-batch")]) assert.ok(!String(e.value ?? "").includes(GENERATED));
    });

    it("become graph nodes with the edges their flags imply", () => {
        const g = serviceGraph(loadConfig(sourceOf(raw), "dev"));
        assert.ok(g.allows("notice-service", "mysql", 3306));
        assert.ok(g.allows("notice-service", "config", 8888));
        assert.ok(g.allows("apigateway", "notice-service", 8080), "routedByGateway");
        assert.ok(!g.allows("notice-service", "rabbitmq", 5672));
        assert.deepStrictEqual(g.dependenciesOf("stats-batch"), []);
        const at = (n: string) => g.deployOrder.indexOf(n);
        assert.ok(at("config") < at("notice-service") && at("mysql") < at("notice-service"));
    });

    it("take per-service replicas through serviceReplicas too, bounded by the autoscaler", async () => {
        const cfg = loadConfig(sourceOf(withServices([stats], { serviceReplicas: { "stats-batch": 3 } })), "dev");
        assert.strictEqual(cfg.replicas["stats-batch"], 3);
    });

    it("keep every invariant with dozens of them (the benchmark measures 10x on a real engine)", async function () {
        this.timeout(120_000); // a few hundred mocked resources; speed is the benchmark's business, not this test's
        const many = Array.from({ length: 30 }, (_, i) => ({ ...stats, name: `svc-${i}`, usesConfigServer: true, needsDatabase: true }));
        const big = await deploy(withServices(many));
        assert.strictEqual(big.of("Deployment").filter((o) => /^svc-\d+-deployment$/.test(o.metadata.name)).length, 30);
        assertAllInvariants(big, "egov-dev", () => 1);
    });
});

// Each: entries, the key the message must name, the value it must quote, words of what is allowed.
const refused: Array<[title: string, raw: () => Raw, key: string, value: string, allowed: RegExp]> = [
    ["not a list", () => withServices({ name: "x" }), "services", '{"name":"x"}', /a list/],
    ["an entry that is not an object", () => withServices(["notice"]), "services[0]", '"notice"', /an object/],
    ["an unknown field", () => withServices([{ ...stats, cpu: "2" }]), "services[0].cpu", '"2"', /known field of a service/],
    ["an unknown flag", () => withServices([{ ...stats, usesRedis: true }]), "services[0].usesRedis", "true", /known field/],
    ["the gateway flag", () => withServices([{ ...stats, isGateway: true }]), "services[0].isGateway", "true", /known field/],
    ["a flag that is not a boolean", () => withServices([{ ...stats, needsDatabase: "yes" }]), "services[0].needsDatabase", '"yes"', /true or false/],
    ["an upper-case name", () => withServices([{ ...stats, name: "Notice" }]), "services[0].name", '"Notice"', /DNS label starting with a letter/],
    ["a name starting with a digit", () => withServices([{ ...stats, name: "1st" }]), "services[0].name", '"1st"', /starting with a letter/],
    ["a name too long", () => withServices([{ ...stats, name: "a".repeat(64) }]), "services[0].name", "aaaa", /at most 63/],
    ["no name", () => withServices([{ image: stats.image, port: 8080 }]), "services[0].name", "null", /required/],
    ["a built-in service's name", () => withServices([{ ...stats, name: "board-service" }]), "services[0].name", '"board-service"', /no built-in workload/],
    ["an infrastructure name", () => withServices([{ ...stats, name: "mysql" }]), "services[0].name", '"mysql"', /no built-in workload/],
    ["a frontend's name", () => withServices([{ ...stats, name: "frontend-admin" }]), "services[0].name", '"frontend-admin"', /no built-in workload/],
    ["a duplicate name", () => withServices([stats, stats]), "services[1].name", '"stats-batch"', /unique among services/],
    ["no image", () => withServices([{ name: "x", port: 8080 }]), "services[0].image", "null", /required/],
    ["a bad image", () => withServices([{ ...stats, image: "Not An Image" }]), "services[0].image", '"Not An Image"', /image reference/],
    ["no port", () => withServices([{ name: "x", image: stats.image }]), "services[0].port", "null", /required/],
    ["port 0", () => withServices([{ ...stats, port: 0 }]), "services[0].port", "0", /from 1024 to 65535/],
    ["port 80 (a non-root pod cannot bind it everywhere)", () => withServices([{ ...stats, port: 80 }]), "services[0].port", "80", /from 1024 to 65535/],
    ["port 70000", () => withServices([{ ...stats, port: 70000 }]), "services[0].port", "70000", /from 1024 to 65535/],
    ["a built-in host", () => withServices([{ ...stats, ingressHost: "api" }]), "services[0].ingressHost", '"api"', /no built-in part uses/],
    ["an infrastructure host", () => withServices([{ ...stats, ingressHost: "dashboards" }]), "services[0].ingressHost", '"dashboards"', /no built-in part uses/],
    ["a duplicate host", () => withServices([{ ...stats, ingressHost: "x" }, { ...notice, ingressHost: "x" }]), "services[1].ingressHost", '"x"', /unique among services/],
    ["zero replicas", () => withServices([{ ...stats, replicas: 0 }]), "services[0].replicas", "0", /from 1 to 50/],
    ["replicas above the autoscaler's max", () => withServices([{ ...stats, replicas: 5 }]), "serviceReplicas.stats-batch", "5", /at most autoscaling.maxReplicas/],
    ["replicas in two places", () => withServices([{ ...stats, replicas: 2 }], { serviceReplicas: { "stats-batch": 3 } }), "serviceReplicas.stats-batch", "3", /in one place/],
];

describe("services from stack config that are refused", () => {
    for (const [title, raw, key, value, allowed] of refused) {
        it(title, () => {
            const problems = problemsOf(raw());
            const hit = problems.find((p) => p.startsWith(`egov-platform:${key}: `));
            assert.ok(hit, `no problem names ${key}; got:\n${problems.join("\n")}`);
            assert.ok(hit.includes(value), `${hit} does not quote ${value}`);
            assert.match(hit, allowed);
        });
    }

    it("reports every bad entry at once", () => {
        const problems = problemsOf(withServices([{ ...stats, name: "mysql" }, { ...stats, port: -1 }, { ...stats, name: "x", image: "" }]));
        assert.ok(problems.some((p) => p.includes("services[0].name")));
        assert.ok(problems.some((p) => p.includes("services[1].port")));
        assert.ok(problems.some((p) => p.includes("services[2].image")));
    });
});
