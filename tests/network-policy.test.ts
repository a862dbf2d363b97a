import * as assert from "assert";
import { loadConfig } from "../config";
import { BackendServiceSpec, backendServices, frontends } from "../config/catalog";
import { frontendBuildValues } from "../config/frontends";
import { serviceGraph, ServiceGraph } from "../config/graph";
import { networkPolicySpecs } from "../components/network-policy";
import { deploy, Deployed, Obj, sourceOf, stackConfig, withObject } from "./support/harness";
import { workloads } from "./support/invariants";
import { egressTargets, Pod, podsOf, PolicySet, serviceBackends } from "./support/netpol-eval";

const dns: Pod = { namespace: "kube-system", labels: { "k8s-app": "kube-dns" } };
const ingressController: Pod = { namespace: "ingress-nginx", labels: { "app.kubernetes.io/name": "ingress-nginx" } };
const apiServer = { ip: "10.96.0.1" };

/** Every port a pod's containers declare. */
const portsOf = (p: Pod) => (p.ports ?? []).map((x) => x.containerPort);

describe("the policy evaluator", () => {
    const a: Pod = { namespace: "ns", labels: { app: "a" } };
    const b: Pod = { namespace: "ns", labels: { app: "b" }, ports: [{ name: "http", containerPort: 80 }] };
    const pol = (name: string, spec: Obj, ns = "ns") => ({ metadata: { name, namespace: ns }, spec });

    it("allows everything without policies and nothing under a default deny", () => {
        assert.ok(new PolicySet([]).allows(a, b, 80));
        const deny = new PolicySet([pol("deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] })]);
        assert.ok(!deny.allows(a, b, 80));
        assert.ok(new PolicySet([pol("deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }, "other")]).allows(a, b, 80),
            "a policy in another namespace selects nothing here");
    });

    it("needs both the client's egress and the server's ingress, on the port and protocol", () => {
        const deny = pol("deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        const egress = pol("a-out", { podSelector: { matchLabels: { app: "a" } }, policyTypes: ["Egress"],
            egress: [{ to: [{ podSelector: { matchLabels: { app: "b" } } }], ports: [{ protocol: "TCP", port: "http" }] }] });
        const ingress = pol("b-in", { podSelector: { matchLabels: { app: "b" } }, policyTypes: ["Ingress"],
            ingress: [{ from: [{ podSelector: { matchLabels: { app: "a" } } }], ports: [{ port: 80 }] }] });
        assert.ok(!new PolicySet([deny, egress]).allows(a, b, 80), "egress alone");
        assert.ok(!new PolicySet([deny, ingress]).allows(a, b, 80), "ingress alone");
        const both = new PolicySet([deny, egress, ingress]);
        assert.ok(both.allows(a, b, 80), "named port resolved against the server's container ports");
        assert.ok(!both.allows(a, b, 81));
        assert.ok(!both.allows(a, b, 80, "UDP"));
        assert.ok(!both.allows(b, a, 80), "not the reverse direction");
        assert.ok(!both.allows({ namespace: "other", labels: { app: "a" } }, b, 80), "a podSelector alone means the policy's namespace");
    });
});

describe("network policy from the service graph", () => {
    let d: Deployed;
    let graph: ServiceGraph;
    let policies: PolicySet;
    let pods: Map<string, Pod>;
    before(async function () {
        this.timeout(120000);
        const raw = stackConfig("dev");
        d = await deploy(raw);
        graph = serviceGraph(loadConfig(sourceOf(raw), "dev"), backendServices);
        policies = new PolicySet(d.of("NetworkPolicy"));
        // The migration Job's pods too: a client of MySQL like the services.
        pods = podsOf([...workloads(d), ...d.of("Job")]);
        assert.deepStrictEqual([...pods.keys()].sort(), [...graph.nodes.values()].filter((n) => !n.startedBy).map((n) => n.name).sort(),
            "a pod for every graph node this program deploys");
        // Jenkins agents are started by Jenkins with app=jenkins-agent in their pod templates, in their own namespace.
        pods.set("jenkins-agent", { namespace: "egov-dev-ci", labels: { app: "jenkins-agent", "jenkins/label": "maven" } });
    });
    const pod = (app: string) => {
        const p = pods.get(app);
        assert.ok(p, `no workload with app=${app}`);
        return p;
    };

    it("selects every pod with a policy of its own, in both directions", () => {

        for (const [app, p] of pods) {
            const own = policies.selecting(p).filter((x) => Object.keys(x.spec.podSelector.matchLabels ?? {}).length > 0);
            assert.strictEqual(own.length, 1, `${app}: ${own.length} policies of its own`);
            assert.ok(policies.selecting(p, "Ingress").length > 0 && policies.selecting(p, "Egress").length > 0, `${app}: both directions governed`);
        }
    });

    it("allows every edge of the graph, on its port", () => {
        assert.ok(graph.edges.length > 40);
        for (const e of graph.edges) assert.ok(policies.allows(pod(e.from), pod(e.to), e.port), `${e.from} -> ${e.to}:${e.port} (${e.why})`);
    });

    it("refuses every pair and port the graph has no edge for", () => {
        let refused = 0;
        for (const [from, a] of pods) {
            for (const [to, b] of pods) {
                for (const port of portsOf(b)) {
                    const expected = graph.allows(from, to, port);
                    assert.strictEqual(policies.allows(a, b, port), expected, `${from} -> ${to}:${port} should be ${expected ? "allowed" : "refused"}`);
                    if (!expected) refused++;
                }
            }
        }
        assert.ok(refused > 300, `only ${refused} refused pairs checked`);
        assert.ok(!policies.allows(pod("frontend-portal"), pod("mysql"), 3306), "a frontend cannot reach MySQL");
        assert.ok(!policies.allows(pod("board-service"), pod("jenkins"), 8080), "a business service cannot reach Jenkins");
        assert.ok(!policies.allows(pod("apigateway"), pod("mysql"), 3306));
        assert.ok(policies.allows(pod("board-service"), pod("user-service"), 8080), "board-service calls user-service (upstream Feign client)");
        assert.ok(!policies.allows(pod("user-service"), pod("board-service"), 8080), "business services call only the services their code calls");
        assert.ok(policies.allows(pod("jenkins-agent"), pod("jenkins"), 50000), "agents reach the controller");
        assert.ok(!policies.allows(pod("jenkins-agent"), pod("mysql"), 3306), "agents do not reach the data");
    });

    it("keeps the NFS driver and the agents in namespaces of their own, reached across only on the graph's edges", () => {
        assert.strictEqual(pod("csi-nfs-controller").namespace, "egov-dev-storage");
        assert.strictEqual(pod("csi-nfs-node").namespace, "egov-dev-storage");
        assert.strictEqual(pod("jenkins").namespace, "egov-dev");
        const inApp = { ...pod("jenkins-agent"), namespace: "egov-dev" };
        assert.ok(!policies.allows(inApp, pod("jenkins"), 50000), "an agent-labelled pod in the application's namespace is not an agent");
        const elsewhere = { ...pod("jenkins-agent"), namespace: "egov-dev-storage" };
        assert.ok(!policies.allows(elsewhere, pod("jenkins"), 50000), "nor is one in the NFS driver's namespace");
        const agentPolicies = d.of("NetworkPolicy").filter((p) => p.metadata.namespace === "egov-dev-ci").map((p) => p.metadata.name).sort();
        assert.deepStrictEqual(agentPolicies, ["allow-dns", "default-deny", "jenkins-agent"]);
        const storagePolicies = d.of("NetworkPolicy").filter((p) => p.metadata.namespace === "egov-dev-storage").map((p) => p.metadata.name).sort();
        assert.deepStrictEqual(storagePolicies, ["allow-dns", "csi-nfs-controller", "csi-nfs-node", "default-deny"]);
        assert.ok(!policies.allows(pod("csi-nfs-controller"), pod("mysql"), 3306));
        assert.ok(!policies.allows(pod("jenkins-agent"), pod("csi-nfs-controller"), 8080));
    });

    it("lets every pod resolve names through cluster DNS, and nothing else outside", () => {
        for (const [app, p] of pods) {
            assert.ok(policies.allows(p, dns, 53, "UDP") && policies.allows(p, dns, 53, "TCP"), `${app} -> DNS`);
            assert.ok(!policies.allows(p, dns, 5353, "UDP"), `${app} -> kube-dns:5353`);
            assert.ok(!policies.allows(p, { namespace: "default", labels: dns.labels }, 53, "UDP"), `${app} -> a look-alike outside kube-system`);
        }
    });

    it("admits the ingress controller's namespace on public ports only", () => {
        for (const node of graph.nodes.values()) {
            for (const port of portsOf(pod(node.name))) {
                const expected = node.publicPorts.includes(port);
                assert.strictEqual(policies.allows(ingressController, pod(node.name), port), expected, `ingress controller -> ${node.name}:${port}`);
            }
        }
        assert.ok(policies.allows(ingressController, pod("apigateway"), 8000));
        assert.ok(!policies.allows({ namespace: "default", labels: ingressController.labels }, pod("apigateway"), 8000), "another namespace");
    });

    it("lets each frontend reach exactly the gateway address its build sends server-side rendering to, and no other pod", () => {
        // The address `npm run frontends` bakes into the bundles (SERVER_API_URL), resolved through the rendered
        // Service as cluster DNS and kube-proxy would (tests/e2e/frontends.e2e.ts checks the address the built
        // servers were seen calling the same way).
        const cfg = loadConfig(sourceOf(stackConfig("dev")), "dev");
        for (const f of frontends) {
            const ssr = new URL(frontendBuildValues(cfg, f).apiUrl).host;
            const backends = serviceBackends(d.of("Service"), pods, ssr);
            assert.deepStrictEqual(backends.map((b) => b.app), ["apigateway"], `${ssr} is the gateway's Service`);
            const from = pod(`frontend-${f.name}`);
            assert.deepStrictEqual(egressTargets(policies, from, pods), backends.map((b) => `${b.app}:${b.port}`), `frontend-${f.name}: egress to pods`);
            for (const b of backends) assert.ok(policies.allows(from, pod(b.app), b.port), `frontend-${f.name} -> ${b.app}:${b.port}`);
            // Not the public host: that would go through the ingress controller.
            for (const port of [80, 443]) assert.ok(!policies.egressAllowed(from, ingressController, port, "TCP"), `frontend-${f.name} -> ingress controller :${port}`);
        }
    });

    it("lets only the pods that call the Kubernetes API reach it", () => {
        const callers = [...graph.nodes.values()].filter((n) => n.callsKubernetesApi).map((n) => n.name).sort();
        assert.deepStrictEqual(callers, ["csi-nfs-controller", "jenkins"]);
        for (const [app, p] of pods) {
            assert.strictEqual(policies.allows(p, apiServer, 443), callers.includes(app), `${app} -> API server`);
            assert.ok(!policies.allows(p, { ip: "10.0.0.5" }, 22), `${app} -> an outside host`);
        }
    });

    it("follows networkPolicy.apiServer and externalEgress; enabled: false renders none", async () => {
        const raw = withObject(stackConfig("dev"), "networkPolicy", {
            apiServer: { cidrs: ["192.168.10.0/30"], ports: [6443] },
            externalEgress: { jenkins: ["10.20.0.0/16"] },
        });
        const custom = await deploy(raw);
        const ps = new PolicySet(custom.of("NetworkPolicy"));
        const custPods = podsOf(workloads(custom));
        const jenkins = custPods.get("jenkins")!;
        assert.ok(ps.allows(jenkins, { ip: "192.168.10.2" }, 6443));
        assert.ok(!ps.allows(jenkins, { ip: "192.168.10.2" }, 443));
        assert.ok(!ps.allows(jenkins, apiServer, 6443), "outside the configured CIDRs");
        assert.ok(ps.allows(jenkins, { ip: "10.20.3.4" }, 22), "jenkins to its git server");
        assert.ok(!ps.allows(custPods.get("board-service")!, { ip: "10.20.3.4" }, 22));
        const off = await deploy(withObject(stackConfig("dev"), "networkPolicy", { enabled: false }));
        assert.strictEqual(off.of("NetworkPolicy").length, 0);
    });

    it("with NodePort, public ports are open to any source and the rest stay closed", async () => {
        const np = await deploy(stackConfig("dev", { serviceType: "NodePort" }));
        const ps = new PolicySet(np.of("NetworkPolicy"));
        const npPods = podsOf(workloads(np));
        const outsider = { ip: "203.0.113.7" };
        assert.ok(ps.allows(outsider, npPods.get("apigateway")!, 8000));
        assert.ok(!ps.allows(outsider, npPods.get("mysql")!, 3306));
        assert.ok(!ps.allows(outsider, npPods.get("rabbitmq")!, 5672));
    });

    it("gives a new catalog entry its policy from its flags alone", () => {
        const cfg = loadConfig(sourceOf(stackConfig("dev")), "dev");
        const business = backendServices.find((s) => s.name === "board-service")!;
        const notice: BackendServiceSpec = { ...business, name: "notice-service", needsSharedVolume: false };
        const g = serviceGraph(cfg, [...backendServices, notice]);
        const specs = networkPolicySpecs(g, cfg.networkPolicy, cfg.serviceType);
        const ps = new PolicySet(Object.entries(specs).map(([name, spec]) => ({ metadata: { name, namespace: "egov-dev" }, spec })));
        const p = (app: string, port?: number): Pod => ({ namespace: "egov-dev", labels: { app }, ports: port ? [{ containerPort: port }] : [] });
        assert.ok(ps.allows(p("apigateway"), p("notice-service", 8080), 8080));
        assert.ok(ps.allows(p("notice-service"), p("mysql", 3306), 3306));
        assert.ok(ps.allows(p("notice-service"), p("config", 8888), 8888));
        assert.ok(!ps.allows(p("notice-service"), p("jenkins", 8080), 8080));
        assert.ok(!ps.allows(p("frontend-admin"), p("notice-service", 8080), 8080));
    });
});
