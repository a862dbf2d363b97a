// What each resource waits for before it is sent: the deploy order the service graph asks for, on the
// resources that mean "ready", and nothing more (no idle waits on the critical path).
import * as assert from "assert";
import { loadConfig } from "../config";
import { serviceGraph } from "../config/graph";
import { deployFresh, Deployed, Obj, sourceOf, stackConfig } from "./support/harness";

// The mock monitor passes a resource's dependency URNs in its register request but not to the mocks;
// record them here. Every instance shares the prototype, so wrapping it covers the monitor deploy() makes.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks") as { MockMonitor: { prototype: Obj } };

interface Registration { readonly urn: string; readonly parent: string; readonly dependencies: readonly string[] }

async function deployRecording(raw: Record<string, string>): Promise<{ d: Deployed; regs: Registration[] }> {
    const regs: Registration[] = [];
    const original = MockMonitor.prototype.registerResource;
    MockMonitor.prototype.registerResource = function (this: Obj, req: Obj, callback: (err: unknown, res: Obj) => void) {
        return original.call(this, req, (err: unknown, res: Obj) => {
            if (res) regs.push({ urn: res.getUrn(), parent: req.getParent(), dependencies: req.getDependenciesList() });
            callback(err, res);
        });
    };
    try {
        return { d: await deployFresh(raw), regs };
    } finally {
        MockMonitor.prototype.registerResource = original;
    }
}

const typeOf = (urn: string) => urn.split("::")[2].split("$").pop()!;
const nameOf = (urn: string) => urn.split("::").pop()!;
const label = (urn: string) => `${typeOf(urn).split(":").pop()}/${nameOf(urn)}`;

describe("deploy order and readiness", () => {
    let regs: Registration[];
    let d: Deployed;
    const raw = stackConfig("dev", { services: [{ name: "notice-service", image: "r.example/notice:1", port: 8080, needsDatabase: true, usesConfigServer: true }] });
    before(async () => {
        ({ d, regs } = await deployRecording(raw));
    });
    const depsOf = (type: string, name: string) => {
        const r = regs.find((x) => typeOf(x.urn) === type && nameOf(x.urn) === name);
        assert.ok(r, `${type} ${name} was not registered`);
        return r.dependencies.map(label).sort();
    };

    it("a backend service's pods wait for the pods and Services of exactly the servers the graph says must be ready; nothing else of it waits", () => {
        const g = serviceGraph(loadConfig(sourceOf(raw), "dev"));
        const kindOf: Record<string, string> = { mysql: "StatefulSet", rabbitmq: "StatefulSet" };
        const under = (urn: string): Registration[] => regs.filter((x) => x.parent === urn).flatMap((x) => [x, ...under(x.urn)]);
        const isServerObject = (l: string) => /^(Deployment|StatefulSet|Service)\//.test(l);
        for (const name of ["user-service", "apigateway", "config", "discovery", "notice-service"]) {
            const servers = g.dependenciesOf(name).filter((e) => e.readyBefore).map((e) => e.to);
            const expected = servers.flatMap((s) => [`${kindOf[s] ?? "Deployment"}/${s}`, `Service/${s}`]).sort();
            // Only the Deployment waits: with a file backend every step rewrites the whole state, so the components,
            // Services, autoscalers, disruption budgets and ingresses are created at once, while the state is small.
            assert.deepStrictEqual(depsOf("egov:platform:BackendService", name), [], name);
            const component = regs.find((x) => typeOf(x.urn) === "egov:platform:BackendService" && nameOf(x.urn) === name)!;
            const objects = under(component.urn).filter((x) => !typeOf(x.urn).startsWith("egov:platform:"));
            const deployment = objects.find((x) => typeOf(x.urn) === "kubernetes:apps/v1:Deployment");
            assert.ok(deployment, `${name} has no Deployment`);
            assert.deepStrictEqual(deployment.dependencies.map(label).filter((l) => isServerObject(l) && !l.endsWith(`/${name}`)).sort(), expected, name);
            assert.ok(objects.length > 2, `${name} has its Service and more besides the Deployment`);
            for (const o of objects.filter((x) => x !== deployment)) {
                assert.deepStrictEqual(o.dependencies.map(label).filter((l) => isServerObject(l) && !l.endsWith(`/${name}`)), [], `${label(o.urn)} of ${name} waits`);
            }
        }
        assert.deepStrictEqual(depsOf("kubernetes:apps/v1:Deployment", "config").filter((x) => /^(Service|StatefulSet)\/rabbitmq$/.test(x)),
            ["Service/rabbitmq", "StatefulSet/rabbitmq"], "config needs the broker (Spring Cloud Bus)");
    });

    it("never waits for a whole component, an autoscaler or an ingress", () => {
        for (const r of regs) {
            for (const dep of r.dependencies) {
                assert.ok(!/egov:platform:|HorizontalPodAutoscaler|Ingress/.test(typeOf(dep)), `${label(r.urn)} waits for ${label(dep)}`);
            }
        }
    });

    it("Services are not awaited: their selector is static data and pod readiness is awaited on the workload", () => {
        for (const r of regs.filter((x) => typeOf(x.urn) === "kubernetes:core/v1:Service")) {
            assert.ok(!r.dependencies.some((dep) => /apps\/v1:(Deployment|StatefulSet)/.test(typeOf(dep)) && nameOf(dep) === nameOf(r.urn)), `${label(r.urn)} waits for its workload`);
        }
        for (const svc of d.of("Service")) {
            assert.strictEqual(svc.metadata.annotations?.["pulumi.com/skipAwait"], "true", svc.metadata.name);
            assert.ok(svc.spec.selector && Object.keys(svc.spec.selector).length > 0, `${svc.metadata.name} selects pods`);
        }
    });

    it("workloads keep their readiness checks: no Deployment or StatefulSet skips its await", () => {
        for (const w of [...d.of("Deployment"), ...d.of("StatefulSet")]) {
            assert.strictEqual(w.metadata.annotations?.["pulumi.com/skipAwait"], undefined, w.metadata.name);
        }
    });

    it("frontends and the infrastructure start at once: nothing they need is a readiness edge", () => {
        assert.deepStrictEqual(depsOf("egov:platform:Frontend", "frontend-portal"), []);
        assert.deepStrictEqual(depsOf("egov:platform:Database", "database"), []);
    });
});

describe("readinessTimeout", () => {
    const problems = (v: unknown) => {
        try {
            loadConfig(sourceOf(stackConfig("dev", { readinessTimeout: v })), "dev");
            return [];
        } catch (e) {
            return (e as { problems: string[] }).problems;
        }
    };
    it("defaults to the provider's 10 minutes and takes a number of seconds", () => {
        assert.strictEqual(loadConfig(sourceOf(stackConfig("dev")), "dev").readinessTimeout, 600);
        assert.strictEqual(loadConfig(sourceOf(stackConfig("dev", { readinessTimeout: 20 })), "dev").readinessTimeout, 20);
    });
    it("refuses a timeout too short to start anything, too long, or not a number", () => {
        for (const bad of [5, 9000, "soon"]) {
            assert.deepStrictEqual(problems(bad), [`egov-platform:readinessTimeout: ${JSON.stringify(bad)} is not allowed; expected a whole number from 10 to 7200`]);
        }
    });
});
