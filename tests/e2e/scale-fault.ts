// The ten-times platform's first `up` survives a crash in its middle: the API server is killed while the generated
// services' objects are being created (checkpoints hold every step the engine finished); `cluster:up` brings it back
// and a rerun converges. Not a *.e2e.ts file: it needs a cluster of its own (the dev stack of the other e2e files
// uses the same namespace), so `npm test` runs it after them through `npm run test:e2e:scale` (about 3 minutes).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { throwawayEnv } from "../../scripts/lib/pulumi-env";
import { writeScaleStack } from "../../scripts/lib/scale";
import { KUBECONFIG, kubectlJson, Obj } from "../support/kube";
import { previewAsDeploy } from "../support/preview";
import { pinApplicationCheckout } from "../../scripts/lib/stack-config";

const ROOT = path.resolve(__dirname, "../..");
const PROJECT_FILES = ["Pulumi.yaml", "Pulumi.dev.yaml", "index.ts", "package.json", "tsconfig.json", "components", "config", "images.lock.json", "frontends.lock.json", "jobs/backup", "jobs/migrate", "jobs/rotate"];
const NS = "egov-dev";
const GENERATED = 81; // the bench's ten times: 90 backend services in all
const CLUSTER_WORK = path.join(path.dirname(KUBECONFIG), "kwokctl", "clusters", "egov");

describe("ten times the services: a crash in the middle of the first up", function () {
    this.timeout(40 * 60 * 1000);
    let stack: Stack;

    before(async function () {
        assert.ok(KUBECONFIG && fs.existsSync(KUBECONFIG), "EGOV_E2E_KUBECONFIG must name the local cluster's kubeconfig (run through tests/support/e2e.sh)");
        const work = fs.mkdtempSync(path.join(os.tmpdir(), "egov-e2e-scale-"));
        for (const f of PROJECT_FILES) fs.cpSync(path.join(ROOT, f), path.join(work, f), { recursive: true });
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(work, "node_modules"));
        writeScaleStack(work, GENERATED);
        pinApplicationCheckout(work);
        fs.mkdirSync(path.join(work, ".state"));
        stack = await LocalWorkspace.createOrSelectStack({ stackName: "scale", workDir: work }, { envVars: throwawayEnv({ stateDir: path.join(work, ".state") }) });
        await stack.setConfig("kubeconfig", { value: KUBECONFIG });
        // The creates in flight when the API server dies (the generated Deployments, which come last) wait out their
        // readiness timeout (the provider's watches retry): 120 s instead of the default 600 s. kwok's pods are ready
        // within seconds of their Deployment.
        await stack.setConfig("readinessTimeout", { value: "120" });
    });

    it("the API server dies while the generated services are created; the up fails; `cluster:up` brings it back; a rerun converges", async function () {
        const pidFile = path.join(CLUSTER_WORK, "pids", "kube-apiserver.pid");
        assert.ok(fs.existsSync(pidFile), `no ${pidFile}`);
        let created = 0;
        let createdAtKill = 0;
        // Killed when the first generated service's Deployment is ready: the built-ins and the generated services'
        // other objects are done, and the other generated Deployments are being created (64 steps at a time).
        const onEvent = (e: EngineEvent) => {
            const out = e.resOutputsEvent?.metadata;
            if (out?.op !== "create") return;
            created++;
            if (createdAtKill === 0 && out.type === "kubernetes:apps/v1:Deployment" && /::bench-\d+$/.test(out.urn)) {
                createdAtKill = created;
                process.kill(Number(fs.readFileSync(pidFile, "utf8").trim()), "SIGKILL");
            }
        };
        const start = Date.now();
        const failed = await stack.up({ color: "never", parallel: 64, onEvent }).then(() => undefined, (e: Error) => e);
        assert.ok(createdAtKill > 0, "no generated service's Deployment was created");
        assert.ok(failed, "the up succeeded although the API server was killed");
        console.log(`      (killed after ${createdAtKill} creates; the up ended after ${((Date.now() - start) / 1000).toFixed(0)} s)`);
        const partial = (await stack.exportStack()).deployment as Obj;
        const kept = (partial.resources as Obj[]).length;
        assert.ok(kept >= createdAtKill, `the state kept ${kept} resources of the ${createdAtKill} created before the kill`);

        const up = spawnSync("bash", [path.join(ROOT, "scripts/cluster.sh"), "up"], { encoding: "utf8", env: process.env });
        assert.strictEqual(up.status, 0, up.stderr);

        const rerunStart = Date.now();
        const rerun = await stack.up({ color: "never", parallel: 64, refresh: true });
        assert.strictEqual(rerun.summary.result, "succeeded");
        console.log(`      (the rerun took ${((Date.now() - rerunStart) / 1000).toFixed(0)} s: ${JSON.stringify(rerun.summary.resourceChanges)})`);
        const state = (await stack.exportStack()).deployment as Obj;
        assert.deepStrictEqual(state.pending_operations ?? [], [], "pending operations left in the state");
        const deployments = new Map((kubectlJson("-n", NS, "get", "deployments").items as Obj[]).map((d) => [d.metadata.name as string, d]));
        for (let i = 0; i < GENERATED; i++) {
            const name = `bench-${String(i).padStart(3, "0")}-deployment`;
            const d = deployments.get(name);
            assert.ok(d, `${name} is missing`);
            assert.strictEqual((d.status.conditions ?? []).find((c: Obj) => c.type === "Available")?.status, "True", `${name} is not available`);
        }
        const again = await previewAsDeploy(stack, { color: "never", parallel: 64 });
        assert.deepStrictEqual(Object.keys(again.changeSummary), ["same"], `changes after the converging rerun: ${JSON.stringify(again.changeSummary)}`);
    });
});
