// Rolling upgrades that never drop a request, as invariants over the rendered objects: what the Kubernetes
// controllers do with these fields is upstream behaviour (tests/e2e/operating.e2e.ts watches one rollout on
// the local cluster); what a container does in its preStop and on SIGTERM cannot run on kwok, so it is checked
// here from the rendered pod specs, the Eureka step against the JSON shape of Eureka's REST API.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { backendServices, frontends } from "../config/catalog";
import { frontendName } from "../config/graph";
import { minReadySecondsDefault, preStopPauseSeconds, shutdown } from "../config/rollout";
import { configProblems, deploy, Deployed, Obj, stackConfig } from "./support/harness";

const appNames = new Set([...backendServices.map((b) => b.name), ...frontends.map((f) => frontendName(f.name))]);
const isApp = (w: Obj) => appNames.has(w.metadata.labels.app);
const containerOf = (w: Obj): Obj => w.spec.template.spec.containers[0];
const envOf = (w: Obj): Record<string, string> => Object.fromEntries((containerOf(w).env ?? []).map((e: Obj) => [e.name, e.value]));

for (const stack of ["dev", "prod"] as const) {
    describe(`rollouts and stops (${stack} stack)`, () => {
        let d: Deployed;
        // prod's own replicas plus a 4-replica gateway: the count where Kubernetes' default (25% unavailable) would drop one.
        const raw = stack === "prod" ? stackConfig("prod", { serviceReplicas: { apigateway: 4 } }) : stackConfig("dev");
        before(async () => { d = await deploy(raw, stack); });

        it("Deployments never go below their desired ready pods: maxUnavailable 0, a bounded surge, a progress deadline", () => {
            const deployments = d.of("Deployment");
            assert.ok(deployments.length >= 11);
            for (const dep of deployments) {
                const n = dep.metadata.name;
                // The NFS driver's controller alone is Recreate: its health port is on the host, one leader at a time.
                if (n === "csi-nfs-controller") { assert.strictEqual(dep.spec.strategy.type, "Recreate"); continue; }
                assert.strictEqual(dep.spec.strategy.type, "RollingUpdate", n);
                assert.strictEqual(dep.spec.strategy.rollingUpdate.maxUnavailable, 0, n);
                assert.strictEqual(dep.spec.strategy.rollingUpdate.maxSurge, "25%", n);
                assert.ok(n === "csi-nfs-controller" || dep.spec.progressDeadlineSeconds > 0, `${n} has no progress deadline`);
            }
            const app = deployments.filter(isApp);
            assert.ok(app.length >= 11);
            for (const dep of app) {
                assert.strictEqual(dep.spec.progressDeadlineSeconds, 600, "the readinessTimeout default");
                assert.strictEqual(dep.spec.minReadySeconds, minReadySecondsDefault[stack], dep.metadata.name);
            }
        });

        it("StatefulSets roll one pod at a time, each ready before the next", () => {
            const sets = d.of("StatefulSet");
            assert.ok(sets.length >= 2);
            for (const s of sets) {
                assert.deepStrictEqual(s.spec.updateStrategy, { type: "RollingUpdate", rollingUpdate: { partition: 0 } });
                assert.ok([undefined, "OrderedReady"].includes(s.spec.podManagementPolicy), `${s.metadata.name}: ${s.spec.podManagementPolicy}`);
            }
        });

        it("application pods pause in preStop, then shut down gracefully within a grace period longer than both", () => {
            for (const dep of d.of("Deployment").filter(isApp)) {
                const n = dep.metadata.name;
                const c = containerOf(dep);
                const hook: string[] = c.lifecycle?.preStop?.exec?.command;
                assert.ok(hook, `${n} has no preStop hook`);
                const pause = Number(/sleep (\d+)$/.exec(hook.join(" "))?.[1]);
                const backend = dep.metadata.labels.tier === "backend";
                const ownShutdown = backend ? shutdown.springShutdownSeconds : shutdown.frontendShutdownSeconds;
                assert.ok(pause >= shutdown.endpointsSeconds, `${n}: pause ${pause}`);
                assert.ok(dep.spec.template.spec.terminationGracePeriodSeconds > pause + ownShutdown, `${n}: grace period too short`);
                if (!backend) continue;
                const env = envOf(dep);
                assert.strictEqual(env.SERVER_SHUTDOWN, "graceful", n);
                assert.strictEqual(env.SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE, `${shutdown.springShutdownSeconds}s`, n);
                const eurekaClient = "EUREKA_PASSWORD" in Object.fromEntries((c.env as Obj[]).map((e) => [e.name, e]));
                assert.strictEqual(/OUT_OF_SERVICE/.test(hook.join(" ")), eurekaClient, `${n}: de-registers from Eureka iff it registers`);
                assert.strictEqual(pause, preStopPauseSeconds(eurekaClient), n);
                if (n === "discovery-deployment") {
                    assert.strictEqual(env.EUREKA_SERVER_USEREADONLYRESPONSECACHE, "false", "an OUT_OF_SERVICE mark reaches the next registry fetch");
                }
                if (eurekaClient) {
                    // Callers must have refetched the registry and expired their balancer cache within the pause.
                    assert.ok(Number(env.EUREKA_CLIENT_REGISTRYFETCHINTERVALSECONDS) + parseInt(env.SPRING_CLOUD_LOADBALANCER_CACHE_TTL, 10) < pause, n);
                }
            }
        });
    });
}

describe("rollout config", () => {
    it("takes rollout.minReadySeconds from the stack, and refuses a value out of range naming it", () => {
        assert.deepStrictEqual(configProblems(stackConfig("dev", { rollout: { minReadySeconds: 3 } })), []);
        const problems = configProblems(stackConfig("dev", { rollout: { minReadySeconds: 900 } }));
        assert.strictEqual(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /rollout\.minReadySeconds.*900/);
        assert.match(configProblems(stackConfig("dev", { rollout: { minReadyseconds: 3 } })).join("\n"), /rollout\.minReadyseconds/);
    });
});

describe("the Eureka step of the preStop hook", () => {
    // The hook as rendered, run by sh with curl on PATH answering as Eureka's REST API does
    // (GET /eureka/apps/{APP} with Accept: application/json; PUT .../{instanceId}/status?value=OUT_OF_SERVICE).
    it("marks this pod's instance (found by its IP) OUT_OF_SERVICE, then pauses; a failing Eureka never blocks the stop", async function () {
        this.timeout(60_000);
        const d = await deploy(stackConfig("dev"));
        const hook: string[] = containerOf(d.find("Deployment", "user-service-deployment")!).lifecycle.preStop.exec.command;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-prestop-"));
        try {
            const app = {
                application: {
                    name: "USER-SERVICE",
                    instance: ["10.244.0.7", "10.244.1.9"].map((ip, i) => ({
                        instanceId: `user-service:${i}abc`, hostName: ip, app: "USER-SERVICE", ipAddr: ip, status: "UP",
                        overriddenStatus: "UNKNOWN", port: { $: 80, "@enabled": "true" }, securePort: { $: 443, "@enabled": "false" },
                    })),
                },
            };
            fs.writeFileSync(path.join(dir, "apps.json"), JSON.stringify(app));
            const shim = (body: string) => fs.writeFileSync(path.join(dir, "curl"), `#!/bin/sh\necho "$@" >> ${dir}/calls\n${body}\n`, { mode: 0o755 });
            fs.writeFileSync(path.join(dir, "hostname"), "#!/bin/sh\necho 10.244.1.9\n", { mode: 0o755 });
            fs.writeFileSync(path.join(dir, "sleep"), `#!/bin/sh\necho "sleep $1" >> ${dir}/calls\n`, { mode: 0o755 });
            const env = { PATH: `${dir}:/usr/bin:/bin`, DISCOVERY_HOSTNAME: "discovery.egov-dev.svc.cluster.local", EUREKA_USERNAME: "eureka", EUREKA_PASSWORD: "pw" };
            const run = () => execFileSync(hook[0], hook.slice(1), { env, encoding: "utf8" });

            shim(`case "$*" in *PUT*) ;; *) cat ${dir}/apps.json ;; esac`);
            run();
            const calls = fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n");
            assert.strictEqual(calls.length, 3, calls.join("\n"));
            assert.match(calls[0], /-u eureka:pw -H Accept: application\/json http:\/\/discovery\.egov-dev\.svc\.cluster\.local:8761\/eureka\/apps\/USER-SERVICE$/);
            assert.match(calls[1], /-X PUT -u eureka:pw http:\/\/discovery.*\/eureka\/apps\/USER-SERVICE\/user-service:1abc\/status\?value=OUT_OF_SERVICE$/);
            assert.strictEqual(calls[2], `sleep ${preStopPauseSeconds(true)}`);

            fs.rmSync(path.join(dir, "calls"));
            shim("exit 7"); // Eureka unreachable
            run();
            assert.deepStrictEqual(fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n").slice(-1), [`sleep ${preStopPauseSeconds(true)}`]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
