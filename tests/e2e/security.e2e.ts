// The cluster's own Pod Security admission judges every pod the program renders: the namespace is
// created with the program's labels (enforce=restricted) and each pod template is sent as a Pod with
// --dry-run=server, so the real admission code decides, not our reading of the standard.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { deploy, Deployed, Obj, stackConfig } from "../support/harness";
import { workloads } from "../support/invariants";
import { KUBECONFIG } from "../support/kube";

const NS = "egov-pss-e2e";

function kubectl(input: Obj, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "egov-pss-")), "obj.json");
    fs.writeFileSync(file, JSON.stringify(input));
    const r = spawnSync("kubectl", ["--kubeconfig", KUBECONFIG, "--request-timeout=20s", ...args, "-f", file], { encoding: "utf8" });
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A workload's pod template as a Pod (its ServiceAccount does not exist in the check namespace). */
function podOf(w: Obj): Obj {
    const spec = { ...w.spec.template.spec };
    delete spec.serviceAccountName;
    return { apiVersion: "v1", kind: "Pod", metadata: { name: `${w.metadata.name}-pss`, namespace: NS, labels: w.spec.template.metadata.labels }, spec };
}

describe("pod security admission on the local cluster", function () {
    this.timeout(300000);
    let d: Deployed;

    before(async function () {
        if (!KUBECONFIG) this.skip();
        d = await deploy(stackConfig("dev", { namespace: NS }));
        const ns = d.find("Namespace", NS);
        assert.ok(ns, "the program renders its namespace");
        const created = kubectl({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS, labels: ns.metadata.labels } }, "apply");
        assert.strictEqual(created.status, 0, created.stderr);
    });

    after(() => {
        if (KUBECONFIG) spawnSync("kubectl", ["--kubeconfig", KUBECONFIG, "delete", "namespace", NS, "--wait=false"]);
    });

    it("admits every rendered pod under enforce=restricted, with no warning", () => {
        const all = workloads(d);
        assert.ok(all.length >= 16, `${all.length} workloads`);
        for (const w of all) {
            const r = kubectl(podOf(w), "create", "--dry-run=server", "-o", "name");
            assert.strictEqual(r.status, 0, `${w.metadata.name}: ${r.stderr}`);
            assert.doesNotMatch(r.stderr, /PodSecurity|Warning/, `${w.metadata.name}: ${r.stderr}`);
        }
    });

    it("refuses a pod that breaks restricted, naming the controls", () => {
        const bad = podOf(workloads(d).find((w) => w.metadata.name === "zipkin-deployment")!);
        bad.spec = { ...bad.spec, securityContext: {}, containers: bad.spec.containers.map((c: Obj) => ({ ...c, securityContext: { allowPrivilegeEscalation: true } })) };
        const r = kubectl(bad, "create", "--dry-run=server", "-o", "name");
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /violates PodSecurity "restricted:latest"/);
        assert.match(r.stderr, /allowPrivilegeEscalation != false/);
        assert.match(r.stderr, /runAsNonRoot != true/);
        assert.match(r.stderr, /seccompProfile/);
    });
});
