// Gateway API beside Ingress (ingress.kind HTTPRoute): the config refuses what cannot work, the HTTPRoutes carry the
// same hosts, backends, TLS and request-size limits as the Ingresses, and the network policy admits the Gateway's data plane.
import * as assert from "assert";
import { bodySizePolicy } from "../components/gateway";
import { PROXY_BODY_SIZE_ANNOTATION } from "../components/workload";
import { deployerRules } from "../scripts/lib/admin";
import { configProblems, deploy, Deployed, Obj, stackConfig, withObject } from "./support/harness";
import { workloads } from "./support/invariants";
import { podsOf, PolicySet } from "./support/netpol-eval";

const gateway = { name: "public", namespace: "gateway-system", implementation: "nginx-gateway-fabric" };
/** The committed dev stack sets ingress.className; an HTTPRoute stack leaves it unset (undefined drops it). */
const routeStack = (g: Obj = gateway, more: Obj = {}) =>
    withObject(stackConfig("dev"), "ingress", { kind: "HTTPRoute", className: undefined, gateway: g, ...more });

/** host -> "service:port" of every Ingress rule or HTTPRoute. */
const ingressTargets = (d: Deployed) => Object.fromEntries(d.of("Ingress").map((i) =>
    [i.spec.rules[0].host, `${i.spec.rules[0].http.paths[0].backend.service.name}:${i.spec.rules[0].http.paths[0].backend.service.port.number}`]));
const routeTargets = (d: Deployed) => Object.fromEntries(d.of("HTTPRoute").map((r) =>
    [r.spec.hostnames[0], `${r.spec.rules[0].backendRefs[0].name}:${r.spec.rules[0].backendRefs[0].port}`]));

describe("ingress.kind HTTPRoute (Gateway API)", () => {
    describe("config", () => {
        it("refuses an unknown kind, naming the key and what is allowed", () => {
            const p = configProblems(withObject(stackConfig("dev"), "ingress", { kind: "Gateway" }));
            assert.ok(p.some((m) => /ingress\.kind: "Gateway" is not allowed; expected one of Ingress, HTTPRoute/.test(m)), p.join("\n"));
        });

        it("accepts the default Ingress and an HTTPRoute with its Gateway", () => {
            assert.deepStrictEqual(configProblems(stackConfig("dev")), []);
            assert.deepStrictEqual(configProblems(routeStack()), []);
        });

        it("requires the Gateway with HTTPRoute and refuses it with Ingress", () => {
            const none = configProblems(withObject(stackConfig("dev"), "ingress", { kind: "HTTPRoute", className: undefined }));
            assert.ok(none.some((m) => /ingress\.gateway: null is not allowed; expected the Gateway the HTTPRoutes attach to/.test(m)), none.join("\n"));
            const withIngress = configProblems(withObject(stackConfig("dev"), "ingress", { gateway }));
            assert.ok(withIngress.some((m) => /ingress\.gateway: .* expected no gateway with ingress\.kind Ingress/.test(m)), withIngress.join("\n"));
        });

        it("requires the Gateway's name, namespace and controller, and refuses an IngressClass or waiting for an address with HTTPRoute", () => {
            const p = configProblems(routeStack({ namespace: "Gateway System" }));
            assert.ok(p.some((m) => /ingress\.gateway\.name: null .* the Gateway's name \(required\)/.test(m)), p.join("\n"));
            assert.ok(p.some((m) => /ingress\.gateway\.namespace: "Gateway System" is not allowed; expected a namespace name/.test(m)), p.join("\n"));
            assert.ok(p.some((m) => /ingress\.gateway\.implementation: null .* nginx-gateway-fabric, envoy-gateway, other/.test(m)), p.join("\n"));
            const bad = configProblems(routeStack({ ...gateway, implementation: "traefik", port: 443 }));
            assert.ok(bad.some((m) => /ingress\.gateway\.implementation: "traefik" is not allowed; expected one of nginx-gateway-fabric, envoy-gateway, other/.test(m)));
            assert.ok(bad.some((m) => /ingress\.gateway\.port: .* a known field of ingress\.gateway/.test(m)), bad.join("\n"));
            const cls = configProblems(routeStack(gateway, { className: "nginx" }));
            assert.ok(cls.some((m) => /ingress\.className: "nginx" .* no IngressClass with ingress\.kind HTTPRoute/.test(m)), cls.join("\n"));
            const wait = configProblems(routeStack(gateway, { waitForAddress: true }));
            assert.ok(wait.some((m) => /ingress\.waitForAddress: true .* false with ingress\.kind HTTPRoute/.test(m)), wait.join("\n"));
        });

        it("in prod with TLS, requires the listener the routes attach to", () => {
            const prod = (g: Obj) => {
                const raw = withObject(stackConfig("prod"), "ingress", { kind: "HTTPRoute", className: undefined, gateway: g, waitForAddress: false });
                return configProblems(raw, "prod");
            };
            const p = prod(gateway);
            assert.ok(p.some((m) => /ingress\.gateway\.sectionName: null .* HTTPS listener in prod with TLS/.test(m)), p.join("\n"));
            assert.ok(!prod({ ...gateway, sectionName: "https" }).some((m) => m.includes("ingress.")), prod({ ...gateway, sectionName: "https" }).join("\n"));
        });

        it("reads the data plane's pods only with HTTPRoute, and checks their labels", () => {
            const withIngress = configProblems(withObject(stackConfig("dev"), "networkPolicy", { gatewayDataPlane: { namespace: "gw" } }));
            assert.ok(withIngress.some((m) => /networkPolicy\.gatewayDataPlane: .* unset with ingress\.kind Ingress/.test(m)), withIngress.join("\n"));
            const labels = configProblems(withObject(routeStack(), "networkPolicy",
                { gatewayDataPlane: { podLabels: { "bad key!": "x", "app.kubernetes.io/name": "not a value" } } }));
            assert.ok(labels.some((m) => /podLabels\["bad key!"\]: .* a label key/.test(m)), labels.join("\n"));
            assert.ok(labels.some((m) => /podLabels\["app\.kubernetes\.io\/name"\]: "not a value" .* a label value/.test(m)), labels.join("\n"));
        });
    });

    describe("rendered", () => {
        let ingress: Deployed;
        let route: Deployed;
        before(async () => {
            ingress = await deploy(withObject(stackConfig("dev"), "ingress", { tlsSecretName: "egov-tls" }));
            route = await deploy(routeStack({ ...gateway, sectionName: "https" }, { tlsSecretName: "egov-tls" }));
        });

        it("an HTTPRoute per public host instead of the Ingress, with the same hosts and backends", () => {
            assert.strictEqual(route.of("Ingress").length, 0);
            const routes = route.of("HTTPRoute");
            assert.ok(routes.length >= 8, `${routes.length} routes`);
            assert.deepStrictEqual(routeTargets(route), ingressTargets(ingress));
            for (const r of routes) {
                assert.strictEqual(r.apiVersion, "gateway.networking.k8s.io/v1");
                assert.strictEqual(r.metadata.namespace, "egov-dev");
                assert.deepStrictEqual(r.spec.parentRefs, [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "public", namespace: "gateway-system", sectionName: "https" }]);
                assert.deepStrictEqual(r.spec.rules[0].matches, [{ path: { type: "PathPrefix", value: "/" } }]);
            }
        });

        it("lets the Gateway's namespace read the TLS Secret through a ReferenceGrant, and only then", async () => {
            const grants = route.of("ReferenceGrant");
            assert.deepStrictEqual(grants.map((g) => [g.metadata.namespace, g.spec.from, g.spec.to]), [["egov-dev",
                [{ group: "gateway.networking.k8s.io", kind: "Gateway", namespace: "gateway-system" }], [{ group: "", kind: "Secret", name: "egov-tls" }]]]);
            assert.strictEqual(ingress.of("ReferenceGrant").length, 0, "an Ingress names its Secret itself");
            const sameNs = await deploy(routeStack({ ...gateway, namespace: "egov-dev" }, { tlsSecretName: "egov-tls" }));
            assert.strictEqual(sameNs.of("ReferenceGrant").length, 0, "a Gateway in the stack's namespace needs no grant");
            assert.strictEqual(route.exports.urls.apigateway, ingress.exports.urls.apigateway);
            assert.match(route.exports.urls.apigateway, /^https:/);
        });

        it("sets the request-size limit of the upload routes as the controller's policy, the Ingress' value", () => {
            const limits = Object.fromEntries(ingress.of("Ingress").filter((i) => i.metadata.annotations?.[PROXY_BODY_SIZE_ANNOTATION])
                .map((i) => [i.metadata.name.replace(/-ingress$/, "-route"), i.metadata.annotations[PROXY_BODY_SIZE_ANNOTATION]]));
            assert.ok(Object.keys(limits).length >= 3, JSON.stringify(limits));
            const policies = route.of("ClientSettingsPolicy");
            assert.deepStrictEqual(Object.fromEntries(policies.map((p) => [p.spec.targetRef.name, p.spec.body.maxSize])), limits);
            for (const p of policies) assert.deepStrictEqual([p.apiVersion, p.spec.targetRef.kind, p.metadata.namespace], ["gateway.nginx.org/v1alpha1", "HTTPRoute", "egov-dev"]);
        });

        it("envoy-gateway: a BackendTrafficPolicy buffer in Mi; other: no policy", () => {
            const plan = (implementation: "envoy-gateway" | "other" | "nginx-gateway-fabric", maxBodySize?: string) => bodySizePolicy({
                kind: "HTTPRoute", host: "api.x", port: 8000, waitForAddress: false, maxBodySize, gateway: { ...gateway, implementation },
            }, "apigateway-route");
            assert.deepStrictEqual(plan("envoy-gateway", "51m"), { apiVersion: "gateway.envoyproxy.io/v1alpha1", kind: "BackendTrafficPolicy",
                spec: { targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "apigateway-route" }], requestBuffer: { limit: "51Mi" } } });
            assert.strictEqual(plan("envoy-gateway", "0"), undefined, "no limit: Envoy streams without one");
            assert.strictEqual(plan("other", "51m"), undefined);
            assert.strictEqual(plan("nginx-gateway-fabric"), undefined, "no upload route: the controller's default stays");
            assert.deepStrictEqual(plan("nginx-gateway-fabric", "0")?.spec.body, { maxSize: "0" });
        });

        it("gives a namespace-scoped deployer's Role the routes, the grant and the policy, and no Ingress", () => {
            const objects = route.all.filter((r) => r.type.startsWith("kubernetes:") && r.obj?.apiVersion).map((r) => r.obj);
            const rules = deployerRules(objects);
            const may = (group: string, resource: string) => rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes("create"));
            for (const [group, resource] of [["gateway.networking.k8s.io", "httproutes"], ["gateway.networking.k8s.io", "referencegrants"],
                ["gateway.nginx.org", "clientsettingspolicies"]]) assert.ok(may(group, resource), `${group}/${resource}`);
            assert.ok(!may("networking.k8s.io", "ingresses"));
        });

        it("admits the Gateway's data plane to the public ports, and no longer the ingress controller", async () => {
            const pods = podsOf(workloads(route));
            const ps = new PolicySet(route.of("NetworkPolicy"));
            const dataPlane = { namespace: "gateway-system", labels: { "gateway.networking.k8s.io/gateway-name": "public" } };
            const otherGateway = { namespace: "gateway-system", labels: { "gateway.networking.k8s.io/gateway-name": "internal" } };
            const controller = { namespace: "ingress-nginx", labels: { "app.kubernetes.io/name": "ingress-nginx" } };
            for (const [app, port] of [["apigateway", 8000], ["frontend-portal", 3000], ["jenkins", 8080]] as const) {
                assert.ok(ps.allows(dataPlane, pods.get(app)!, port), `data plane -> ${app}`);
                assert.ok(!ps.allows(otherGateway, pods.get(app)!, port), `another Gateway's pods -> ${app}`);
                assert.ok(!ps.allows(controller, pods.get(app)!, port), `ingress-nginx -> ${app}`);
            }
            assert.ok(!ps.allows(dataPlane, pods.get("mysql")!, 3306), "no public port, no data plane");
            assert.ok(new PolicySet(ingress.of("NetworkPolicy")).allows(controller, podsOf(workloads(ingress)).get("apigateway")!, 8000));

            const envoy = await deploy(withObject(routeStack({ ...gateway, implementation: "envoy-gateway" }), "networkPolicy",
                { gatewayDataPlane: { podLabels: { "app.kubernetes.io/component": "proxy" } } }));
            const eps = new PolicySet(envoy.of("NetworkPolicy"));
            const api = podsOf(workloads(envoy)).get("apigateway")!;
            assert.ok(eps.allows({ namespace: "envoy-gateway-system", labels: { "app.kubernetes.io/component": "proxy" } }, api, 8000),
                "envoy-gateway's namespace by default, the labels given");
            assert.ok(!eps.allows({ namespace: "gateway-system", labels: { "app.kubernetes.io/component": "proxy" } }, api, 8000));
            assert.ok(!eps.allows({ namespace: "envoy-gateway-system", labels: { "gateway.envoyproxy.io/owning-gateway-name": "public" } }, api, 8000));
        });
    });
});
