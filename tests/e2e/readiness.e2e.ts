// End to end: `pulumi up` fails, naming the workload, when a workload never becomes ready, and creates
// nothing that needs it ready first. kwok runs no containers, so "never ready" is a pod no node can take.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { throwawayEnv } from "../../scripts/lib/pulumi-env";
import { KUBECONFIG, kubectl } from "../support/kube";
import { pinApplicationCheckout } from "../../scripts/lib/stack-config";

const ROOT = path.resolve(__dirname, "../..");
const PROJECT_FILES = ["Pulumi.yaml", "Pulumi.dev.yaml", "index.ts", "package.json", "tsconfig.json", "components", "config", "jobs/migrate"];
const NS = "egov-notready";


describe("end to end: a workload that never becomes ready", function () {
    this.timeout(15 * 60 * 1000);
    let stack: Stack;
    let work: string;

    before(async () => {
        assert.ok(KUBECONFIG && fs.existsSync(KUBECONFIG), "EGOV_E2E_KUBECONFIG must name the local cluster's kubeconfig (run through tests/support/e2e.sh)");
        work = fs.mkdtempSync(path.join(os.tmpdir(), "egov-e2e-notready-"));
        for (const f of PROJECT_FILES) fs.cpSync(path.join(ROOT, f), path.join(work, f), { recursive: true });
        fs.copyFileSync(path.join(work, "Pulumi.dev.yaml"), path.join(work, "Pulumi.notready.yaml"));
        pinApplicationCheckout(work);
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(work, "node_modules"));
        fs.mkdirSync(path.join(work, ".state"));
        const envVars = throwawayEnv({ stateDir: path.join(work, ".state") });
        stack = await LocalWorkspace.createOrSelectStack({ stackName: "notready", workDir: work }, { envVars });
        await stack.setAllConfig({
            kubeconfig: { value: KUBECONFIG },
            environment: { value: "dev" },
            namespace: { value: NS },
            readinessTimeout: { value: "20" },
        });
        // The config server's pods ask for more CPU than any node has: they stay Pending.
        await stack.setConfig("resources.backend.requests.cpu", { value: "1000" }, true);
        await stack.setConfig("resources.backend.limits.cpu", { value: "1000" }, true);
        for (const part of ["logging", "tracing", "ci"]) await stack.setConfig(`${part}.enabled`, { value: "false" }, true);
    });

    after(async () => {
        await stack?.destroy({ parallel: 64 }).catch((e: Error) => console.error(`cleanup of ${NS} failed: ${e.message}`));
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it("up fails naming the workload that is not ready, and starts none of the services that need it", async () => {
        let output = "";
        const err = await stack.up({ parallel: 64, onOutput: (s) => { output += s; } }).then(() => undefined, (e: Error) => e);
        assert.ok(err, "up succeeded although no backend pod can be scheduled");
        const text = `${err.message}\n${output}`;
        assert.match(text, /config-deployment/, `the failure names the config server's Deployment:\n${text.slice(-3000)}`);
        assert.match(text, /Insufficient cpu|Unschedulable|not attained|timed out/i, "the failure says why");
        const deployments = JSON.parse(kubectl("-n", NS, "get", "deployments", "-o", "json")).items.map((d: { metadata: { name: string } }) => d.metadata.name);
        assert.ok(deployments.includes("config-deployment"));
        assert.ok(deployments.includes("frontend-portal-deployment"), "parts that do not need the config server went ahead");
        for (const client of ["apigateway", "user-service", "board-service"]) {
            assert.ok(!deployments.includes(`${client}-deployment`), `${client} was created although config never became ready`);
        }
    });
});
