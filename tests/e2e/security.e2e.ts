// The cluster's own Pod Security admission judges every pod the program renders: the namespace is
// created with the program's labels (enforce=restricted) and each pod template is sent as a Pod with
// --dry-run=server, so the real admission code decides, not our reading of the standard. The NFS driver's pods
// are judged in the storage namespace, with its labels (enforce=privileged), and refused in the application's.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { deploy, Deployed, Obj, stackConfig } from "../support/harness";
import { workloads } from "../support/invariants";
import { KUBECONFIG } from "../support/kube";

const NS = "egov-pss-e2e";
const STORAGE = `${NS}-storage`;

function kubectl(input: Obj, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "egov-pss-")), "obj.json");
    fs.writeFileSync(file, JSON.stringify(input));
    const r = spawnSync("kubectl", ["--kubeconfig", KUBECONFIG, "--request-timeout=20s", ...args, "-f", file], { encoding: "utf8" });
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A workload's pod template as a Pod (its ServiceAccount does not exist in the check namespace). */
function podOf(w: Obj, namespace = w.metadata.namespace === STORAGE ? STORAGE : NS): Obj {
    const spec = { ...w.spec.template.spec };
    delete spec.serviceAccountName;
    return { apiVersion: "v1", kind: "Pod", metadata: { name: `${w.metadata.name}-pss`, namespace, labels: w.spec.template.metadata.labels }, spec };
}

describe("pod security admission on the local cluster", function () {
    this.timeout(300000);
    let d: Deployed;

    before(async function () {
        if (!KUBECONFIG) this.skip();
        d = await deploy(stackConfig("dev", { namespace: NS }));
        for (const name of [NS, STORAGE]) {
            const ns = d.find("Namespace", name);
            assert.ok(ns, `the program renders the namespace ${name}`);
            const created = kubectl({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels: ns.metadata.labels } }, "apply");
            assert.strictEqual(created.status, 0, created.stderr);
        }
    });

    after(() => {
        if (KUBECONFIG) spawnSync("kubectl", ["--kubeconfig", KUBECONFIG, "delete", "namespace", NS, STORAGE, "--wait=false"]);
    });

    it("admits every rendered pod under enforce=restricted (the NFS driver's under its namespace's privileged), with no warning", () => {
        const all = workloads(d);
        assert.ok(all.length >= 16, `${all.length} workloads`);
        for (const w of all) {
            const r = kubectl(podOf(w), "create", "--dry-run=server", "-o", "name");
            assert.strictEqual(r.status, 0, `${w.metadata.name}: ${r.stderr}`);
            assert.doesNotMatch(r.stderr, /PodSecurity|Warning/, `${w.metadata.name}: ${r.stderr}`);
        }
    });

    it("refuses the NFS driver's pods in the application's namespace, naming what restricted forbids", () => {
        for (const w of workloads(d).filter((x) => x.metadata.namespace === STORAGE)) {
            const r = kubectl(podOf(w, NS), "create", "--dry-run=server", "-o", "name");
            assert.notStrictEqual(r.status, 0, w.metadata.name);
            assert.match(r.stderr, /violates PodSecurity "restricted:latest".*privileged/s, w.metadata.name);
            assert.match(r.stderr, /host namespaces/, w.metadata.name);
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
