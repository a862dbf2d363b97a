// The live cluster's behaviour under the deployed dev stack: autoscaling from (simulated) CPU use,
// self-healing, and an API server that dies in the middle of a `pulumi up`.
// Registered by tests/e2e/platform.e2e.ts right after its dev stack is deployed, so the e2e run
// deploys that stack once.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { backendServices } from "../../config/catalog";
import { KUBECONFIG, kubectl, kubectlJson, Obj, waitFor } from "../support/kube";

const ROOT = path.resolve(__dirname, "../..");
const NS = "egov-dev";
// Where scripts/cluster.sh keeps kwokctl's cluster (pids of the components).
const CLUSTER_WORK = path.join(path.dirname(KUBECONFIG), "kwokctl", "clusters", "egov");


/** Simulated CPU per container of `workload` (kwok's ClusterResourceUsage, cluster/resource-usage.yaml), or the default. */
function setSimulatedCpu(workload: string, cpu: string | undefined): void {
    const usage = kubectlJson("get", "clusterresourceusage", "egov-usage");
    const others = (usage.spec.usages as Obj[]).filter((u) => !(u.containers ?? []).includes(workload));
    const usages = cpu === undefined ? others : [{ containers: [workload], usage: { cpu: { value: cpu }, memory: { value: "100Mi" } } }, ...others];
    kubectl("patch", "clusterresourceusage", "egov-usage", "--type=merge", "-p", JSON.stringify({ spec: { usages } }));
}

function podCpuMillicores(labelSelector: string): number[] {
    const list = JSON.parse(kubectl("get", "--raw", `/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(labelSelector)}`)) as Obj;
    return (list.items as Obj[])
        .map((p) => (p.containers as Obj[]).reduce((n, c) => n + cpuMilli(c.usage.cpu as string), 0));
}
function cpuMilli(q: string): number {
    if (q.endsWith("n")) return Number(q.slice(0, -1)) / 1e6;
    if (q.endsWith("u")) return Number(q.slice(0, -1)) / 1e3;
    if (q.endsWith("m")) return Number(q.slice(0, -1));
    return Number(q) * 1000;
}

function readyPods(selector: string): Obj[] {
    return (kubectlJson("-n", NS, "get", "pods", "-l", selector).items as Obj[]).filter((p) =>
        !p.metadata.deletionTimestamp && (p.status.conditions ?? []).some((c: Obj) => c.type === "Ready" && c.status === "True"));
}

const noChanges = async (stack: Stack, label: string) => {
    const res = await stack.up({ color: "never" });
    assert.deepStrictEqual(Object.keys(res.summary.resourceChanges ?? {}), ["same"], `${label}: ${JSON.stringify(res.summary.resourceChanges)}`);
};

export interface LiveStack { readonly dev: Stack }

/** Registers the tests in the calling suite; `ctx` gives the deployed dev stack once `before` has run. */
export function liveClusterTests(ctx: () => LiveStack): void {
    const workload = "portal-service";
    const deployment = `${workload}-deployment`;
    const hpaName = `${workload}-hpa-cpu`;

    it("autoscaling: simulated CPU load scales a service up to its maximum and never beyond; without load it scales back", async function () {
        const hpa = kubectlJson("-n", NS, "get", "hpa", hpaName);
        const min = hpa.spec.minReplicas as number, max = hpa.spec.maxReplicas as number;
        assert.ok(max > min, `${workload}: min ${min}, max ${max}`);
        const selector = Object.entries(kubectlJson("-n", NS, "get", "deployment", deployment).spec.selector.matchLabels as Record<string, string>)
            .map(([k, v]) => `${k}=${v}`).join(",");
        // Metrics flow: metrics-server reads kwok's simulated usage; the autoscaler sees CPU (not <unknown>).
        await waitFor(`${workload}'s autoscaler to read CPU`, () =>
            kubectlJson("-n", NS, "get", "hpa", hpaName).status.currentMetrics?.[0]?.resource?.current?.averageUtilization !== undefined, 120);

        // 4 CPUs per pod against a 250m request: far more than max replicas could absorb.
        setSimulatedCpu(workload, "4");
        await waitFor("metrics-server to report the load", () => podCpuMillicores(selector).some((m) => m > 1000), 90);
        const up = await waitFor(`${deployment} to scale up to ${max}`, () =>
            kubectlJson("-n", NS, "get", "deployment", deployment).status.readyReplicas === max, 180);
        // Still loaded for two more autoscaler periods: never above max, and the autoscaler says it is capped.
        for (let i = 0; i < 8; i++) {
            const replicas = kubectlJson("-n", NS, "get", "deployment", deployment).spec.replicas as number;
            assert.ok(replicas <= max, `${deployment} has ${replicas} replicas, above the maximum ${max}`);
            await new Promise((r) => setTimeout(r, 4000));
        }
        const limited = (kubectlJson("-n", NS, "get", "hpa", hpaName).status.conditions as Obj[]).find((c) => c.type === "ScalingLimited");
        assert.strictEqual(limited?.status, "True", JSON.stringify(limited));
        assert.strictEqual(limited?.reason, "TooManyReplicas");

        setSimulatedCpu(workload, undefined);
        const down = await waitFor(`${deployment} to scale back to ${min}`, () => {
            const d = kubectlJson("-n", NS, "get", "deployment", deployment);
            return d.spec.replicas === min && d.status.replicas === min;
        }, 240);
        console.log(`      (scaled up to ${max} in ${up.toFixed(0)}s, back to ${min} in ${down.toFixed(0)}s)`);
    });

    it("a pulumi up after the autoscaler moved changes nothing", async () => {
        await noChanges(ctx().dev, "up after autoscaling");
    });

    it("self-healing: a deleted pod of a Deployment and of a StatefulSet is replaced and Ready; outputs and a no-op up unaffected", async () => {
        const dev = ctx().dev;
        const before = await dev.outputs();
        const kinds: Array<[kind: string, name: string]> = [["deployment", deployment], ["statefulset", "mysql-statefulset"]];
        for (const [kind, name] of kinds) {
            const spec = kubectlJson("-n", NS, "get", kind, name).spec;
            const selector = Object.entries(spec.selector.matchLabels as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(",");
            const victim = readyPods(selector)[0];
            assert.ok(victim, `no ready pod of ${kind} ${name}`);
            kubectl("-n", NS, "delete", "pod", victim.metadata.name, "--wait=false");
            await waitFor(`${kind} ${name}: a replacement pod Ready`, () => {
                const pods = readyPods(selector);
                return pods.length === spec.replicas && pods.every((p) => p.metadata.uid !== victim.metadata.uid);
            }, 120);
        }
        const after = await dev.outputs();
        assert.deepStrictEqual(Object.keys(after).sort(), Object.keys(before).sort());
        for (const k of Object.keys(before)) assert.deepStrictEqual(after[k], before[k], `output ${k} changed`);
        await noChanges(dev, "up after pod deletions");
    });

    it("faults: the API server dies in the middle of an up; the up fails promptly and clearly; `cluster:up` brings it back; a rerun converges", async function () {
        const dev = ctx().dev;
        // A change that updates every backend Deployment (their CPU request), so the up has work in flight.
        await dev.setConfig("resources.backend.requests.cpu", { value: "300m" }, true);
        const pidFile = path.join(CLUSTER_WORK, "pids", "kube-apiserver.pid");
        assert.ok(fs.existsSync(pidFile), `no ${pidFile}`);
        let killedAt = 0;
        let output = "";
        const onEvent = (e: EngineEvent) => {
            if (killedAt === 0 && e.resourcePreEvent?.metadata.op === "update") {
                killedAt = Date.now();
                process.kill(Number(fs.readFileSync(pidFile, "utf8").trim()), "SIGKILL");
            }
        };
        const failed = await dev.up({ color: "never", onEvent, onOutput: (s) => { output += s; } }).then(() => undefined, (e: Error) => e);
        assert.ok(killedAt > 0, "the up never started an update");
        assert.ok(failed, "the up succeeded although the API server was killed");
        const seconds = (Date.now() - killedAt) / 1000;
        console.log(`      (up failed ${seconds.toFixed(0)}s after the API server was killed)`);
        assert.ok(seconds < 180, `the up took ${seconds}s to fail`);
        assert.match(`${failed.message}\n${output}`, /connection refused|127\.0\.0\.1:\d+|unreachable|failed to connect/i);

        // One command brings the cluster back (what `npm run cluster:up` runs).
        const up = spawnSync("bash", [path.join(ROOT, "scripts/cluster.sh"), "up"], { encoding: "utf8", env: process.env });
        assert.strictEqual(up.status, 0, up.stderr);
        assert.match(up.stdout, /^KUBECONFIG=/m);

        // The rerun refreshes first: objects the failed up changed before the crash are read back, not assumed.
        const rerun = await dev.up({ color: "never", refresh: true });
        assert.strictEqual(rerun.summary.result, "succeeded");
        // The nine backend services (resources.backend), autoscaled or not (discovery runs one replica).
        const names = backendServices.map((s) => `${s.name}-deployment`);
        assert.strictEqual(names.length, 9, names.join(", "));
        for (const d of names.map((n) => kubectlJson("-n", NS, "get", "deployment", n))) {
            assert.strictEqual(d.spec.template.spec.containers[0].resources.requests.cpu, "300m", `${d.metadata.name} was not updated`);
            assert.strictEqual(d.status.updatedReplicas, d.spec.replicas, `${d.metadata.name} has not rolled out`);
        }
        await noChanges(dev, "up after the converging rerun");
        const state = (await dev.exportStack()).deployment as Obj;
        assert.deepStrictEqual(state.pending_operations ?? [], [], "pending operations left in the state");
    });
}
