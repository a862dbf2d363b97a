// End to end: a stack with ingress.kind HTTPRoute on the local cluster, whose API server has the Gateway API CRDs
// (standard channel, pinned; scripts/cluster.sh) and the Gateway gateway-local/local (cluster/gateway.yaml). No Gateway
// controller runs there (kwok): what is checked is what the API server decides, i.e. the routes and the ReferenceGrant
// pass the CRDs' validation with the hosts and backends the program renders, and the NetworkPolicies the cluster
// holds admit the Gateway's namespace to the public ports and nothing else.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { throwawayEnv } from "../../scripts/lib/pulumi-env";
import { pinApplicationCheckout } from "../../scripts/lib/stack-config";
import { deploy, stackConfig, withObject } from "../support/harness";
import { KUBECONFIG, kubectl, kubectlJson, Obj } from "../support/kube";
import { podsOf, PolicySet } from "../support/netpol-eval";

const ROOT = path.resolve(__dirname, "../..");
const POLICY_PACK = path.join(ROOT, "policy", "analyzer");
const PROJECT_FILES = ["Pulumi.yaml", "Pulumi.dev.yaml", "index.ts", "package.json", "tsconfig.json", "images.lock.json", "frontends.lock.json",
    "components", "config", "jobs"];
const NS = "egov-gateway";
const GATEWAY = { name: "local", namespace: "gateway-local", sectionName: "https", implementation: "other" };
// dev, with HTTPRoutes on the local Gateway and a TLS Secret name (so the ReferenceGrant is rendered); without logging,
// tracing and backup (nothing of theirs differs here; time).
const INGRESS = { kind: "HTTPRoute", tlsSecretName: "egov-tls", gateway: GATEWAY };
const PARTS_OFF = ["logging", "tracing", "backup"];

/** host -> "service:port" of HTTPRoutes. */
const targets = (routes: Obj[]) => Object.fromEntries(routes.map((r) =>
    [r.spec.hostnames.join(","), `${r.spec.rules[0].backendRefs[0].name}:${r.spec.rules[0].backendRefs[0].port}`]));

describe("end to end: HTTPRoutes on the local cluster's Gateway API", function () {
    this.timeout(25 * 60 * 1000);
    let work: string;
    let stack: Stack;

    before(async () => {
        assert.ok(KUBECONFIG && fs.existsSync(KUBECONFIG), "EGOV_E2E_KUBECONFIG must name the local cluster's kubeconfig (run through tests/support/e2e.sh)");
        work = fs.mkdtempSync(path.join(os.tmpdir(), "egov-e2e-gw-"));
        for (const f of PROJECT_FILES) fs.cpSync(path.join(ROOT, f), path.join(work, f), { recursive: true });
        fs.copyFileSync(path.join(work, "Pulumi.dev.yaml"), path.join(work, "Pulumi.gw.yaml"));
        pinApplicationCheckout(work);
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(work, "node_modules"));
        fs.mkdirSync(path.join(work, ".state"));
        stack = await LocalWorkspace.createOrSelectStack({ stackName: "gw", workDir: work }, { envVars: throwawayEnv({ stateDir: path.join(work, ".state") }) });
        await stack.setConfig("kubeconfig", { value: KUBECONFIG });
        await stack.setConfig("namespace", { value: NS });
        // As a user switches: the kind, the Gateway, no IngressClass.
        await stack.removeConfig("ingress.className", true);
        await stack.setConfig("ingress.kind", { value: INGRESS.kind }, true);
        await stack.setConfig("ingress.tlsSecretName", { value: INGRESS.tlsSecretName }, true);
        for (const [k, v] of Object.entries(GATEWAY)) await stack.setConfig(`ingress.gateway.${k}`, { value: v }, true);
        for (const part of PARTS_OFF) await stack.setConfig(`${part}.enabled`, { value: "false" }, true);
    });

    after(async () => {
        if (stack) await stack.destroy({ parallel: 64 }).catch((e: Error) => console.log(`      destroy: ${e.message.slice(-500)}`));
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it("the cluster serves the pinned standard-channel CRDs and holds the local Gateway", () => {
        const crd = kubectlJson("get", "crd", "httproutes.gateway.networking.k8s.io");
        const versions = fs.readFileSync(path.join(ROOT, "toolchain/versions.env"), "utf8");
        const pinned = /^GATEWAY_API_VERSION=(.+)$/m.exec(versions)![1];
        assert.strictEqual(crd.metadata.annotations["gateway.networking.k8s.io/bundle-version"], `v${pinned}`);
        assert.strictEqual(crd.metadata.annotations["gateway.networking.k8s.io/channel"], "standard");
        const gw = kubectlJson("-n", "gateway-local", "get", "gateway", "local");
        assert.deepStrictEqual(gw.spec.listeners.map((l: Obj) => l.name), ["http", "https"]);
    });

    it("up succeeds with the policy pack: every route, the grant and the policies accepted by the API server", async () => {
        let output = "";
        const violations: string[] = [];
        const r = await stack.up({
            parallel: 64, policyPacks: [POLICY_PACK], onOutput: (s) => { output += s; },
            onEvent: (e) => { if (e.policyEvent) violations.push(`${e.policyEvent.policyName}: ${e.policyEvent.message}`); },
        }).catch((e: Error) => assert.fail(`up failed:\n${e.message.slice(-4000)}\n${output.slice(-4000)}`));
        assert.strictEqual(r.summary.result, "succeeded");
        assert.deepStrictEqual(violations, []);
        assert.ok(!/unknown field|duplicate field/i.test(output), "no field dropped by the API server's validation");
    });

    it("the HTTPRoutes in the cluster carry the rendered hosts and backends, attached to the Gateway's https listener", async () => {
        const routes = kubectlJson("-n", NS, "get", "httproutes").items as Obj[];
        // The stack as set up above, in a mocked run.
        let raw = withObject(stackConfig("dev", { namespace: NS }), "ingress", { ...INGRESS, className: undefined });
        for (const part of PARTS_OFF) raw = withObject(raw, part, { enabled: false });
        const rendered = (await deploy(raw)).of("HTTPRoute");
        // api, discovery, admin, portal, rabbitmq, jenkins (dashboards and zipkin are off).
        assert.ok(routes.length >= 6 && routes.length === rendered.length, `${routes.length} routes, ${rendered.length} rendered`);
        assert.deepStrictEqual(targets(routes), targets(rendered));
        for (const r of routes) {
            assert.deepStrictEqual(r.spec.parentRefs, [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "local", namespace: "gateway-local",
                sectionName: "https" }], r.metadata.name);
            // The API server's defaults show the object went through the CRD's schema.
            assert.deepStrictEqual([r.spec.rules[0].backendRefs[0].kind, r.spec.rules[0].backendRefs[0].weight], ["Service", 1], r.metadata.name);
        }
        assert.deepStrictEqual(kubectlJson("-n", NS, "get", "ingresses").items, [], "no Ingress beside the routes");
        const grant = kubectlJson("-n", NS, "get", "referencegrants.gateway.networking.k8s.io", "gateway-tls");
        assert.deepStrictEqual(grant.spec.to, [{ group: "", kind: "Secret", name: "egov-tls" }]);
    });

    it("the API server refuses a route its CRD does not allow", () => {
        const route = (spec: Obj) => ({ apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: { name: "probe", namespace: NS }, spec });
        const parentRefs = [{ name: "local", namespace: "gateway-local" }];
        const dryRun = (o: Obj) => spawnSync("kubectl", ["--kubeconfig", KUBECONFIG, "apply", "--dry-run=server", "-f", "-"], { input: JSON.stringify(o), encoding: "utf8" });
        const good = dryRun(route({ hostnames: ["probe.egov.localtest.me"], parentRefs, rules: [{ backendRefs: [{ name: "apigateway", port: 8000 }] }] }));
        assert.strictEqual(good.status, 0, good.stderr);
        const badHost = dryRun(route({ hostnames: ["Not_A_Host"], parentRefs, rules: [{ backendRefs: [{ name: "apigateway", port: 8000 }] }] }));
        assert.notStrictEqual(badHost.status, 0, badHost.stdout);
        assert.match(badHost.stderr, /hostnames/, badHost.stderr);
        const noPort = dryRun(route({ hostnames: ["probe.egov.localtest.me"], parentRefs, rules: [{ backendRefs: [{ name: "apigateway" }] }] }));
        assert.notStrictEqual(noPort.status, 0, noPort.stdout);
        assert.match(noPort.stderr, /port/i, noPort.stderr);
    });

    it("the cluster's NetworkPolicies admit the Gateway's namespace to the public ports, and not the ingress controller", () => {
        const ps = new PolicySet(kubectlJson("-n", NS, "get", "networkpolicies").items as Obj[]);
        const pods = podsOf(kubectlJson("-n", NS, "get", "deployments,statefulsets").items as Obj[]);
        const dataPlane = { namespace: "gateway-local", labels: { app: "proxy" } };
        const controller = { namespace: "ingress-nginx", labels: { "app.kubernetes.io/name": "ingress-nginx" } };
        for (const [app, port] of [["apigateway", 8000], ["frontend-admin", 3000], ["rabbitmq", 15672]] as const) {
            assert.ok(pods.get(app), `${app} deployed`);
            assert.ok(ps.allows(dataPlane, pods.get(app)!, port), `the Gateway's data plane -> ${app}:${port}`);
            assert.ok(!ps.allows(controller, pods.get(app)!, port), `ingress-nginx -> ${app}:${port}`);
        }
        assert.ok(!ps.allows(dataPlane, pods.get("mysql")!, 3306), "no public port: closed to the data plane");
        console.log(`      ${kubectl("-n", NS, "get", "httproutes").trim().split("\n").length - 1} HTTPRoutes, ` +
            `${(kubectlJson("-n", NS, "get", "networkpolicies").items as Obj[]).length} NetworkPolicies in ${NS}`);
    });
});
