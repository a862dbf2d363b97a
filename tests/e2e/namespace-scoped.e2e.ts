// End to end: a namespace-scoped stack (clusterScoped: false) on the local cluster, deployed by an identity that holds
// only the Role `npm run render` writes. The cluster's admin applies _admin/ (namespaces, classes, volumes, the NFS
// provisioner, the agents' Role, the deployer's Role and account); the deployer's token, minted by TokenRequest, is the
// stack's whole kubeconfig; `up` and `destroy` succeed with it; the identity can do nothing cluster-scoped; and no
// account of the application's namespace can act beyond it (kubectl auth can-i, as the API server decides).
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { throwawayEnv } from "../../scripts/lib/pulumi-env";
import { pinApplicationCheckout } from "../../scripts/lib/stack-config";
import { DEPLOYER, renderStack } from "../../scripts/lib/admin";
import { writeTree } from "../../scripts/lib/render";
import { stackConfig, withObject } from "../support/harness";
import { KUBECONFIG, kubectl, kubectlJson, waitFor } from "../support/kube";

const ROOT = path.resolve(__dirname, "../..");
const PROJECT_FILES = ["Pulumi.yaml", "Pulumi.dev.yaml", "index.ts", "package.json", "tsconfig.json", "components", "config", "jobs"];
const NS = "egov-nss";
const SIDE = { storage: `${NS}-storage`, ci: `${NS}-ci` };
// The stack as the e2e deploys it: dev, namespace-scoped, with the backup CronJob (one more kind for the Role) and
// without logging and tracing (no kind of their own; time).
const SETTINGS: Record<string, string> = {
    namespace: NS, clusterScoped: "false", "backup.enabled": "true", "logging.enabled": "false", "tracing.enabled": "false",
};

/** `kubectl auth can-i` as the given kubeconfig (or as the admin, impersonating `as`): yes or no. */
function canI(kubeconfig: string, args: string[], as?: string): boolean {
    const r = spawnSync("kubectl", ["--kubeconfig", kubeconfig, "auth", "can-i", ...args, ...(as ? ["--as", as] : [])], { encoding: "utf8" });
    const answer = r.stdout.trim();
    assert.ok(answer === "yes" || answer === "no", `kubectl auth can-i ${args.join(" ")}: ${answer} ${r.stderr}`);
    return answer === "yes";
}

describe("end to end: a namespace-scoped stack deployed with the published Role alone", function () {
    this.timeout(25 * 60 * 1000);
    let work: string;
    let stack: Stack;
    let deployerKubeconfig: string;

    before(async () => {
        assert.ok(KUBECONFIG && fs.existsSync(KUBECONFIG), "EGOV_E2E_KUBECONFIG must name the local cluster's kubeconfig (run through tests/support/e2e.sh)");
        work = fs.mkdtempSync(path.join(os.tmpdir(), "egov-e2e-nss-"));
        for (const f of PROJECT_FILES) fs.cpSync(path.join(ROOT, f), path.join(work, f), { recursive: true });
        fs.copyFileSync(path.join(work, "Pulumi.dev.yaml"), path.join(work, "Pulumi.nss.yaml"));
        pinApplicationCheckout(work);
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(work, "node_modules"));
        fs.mkdirSync(path.join(work, ".state"));

        // The admin's part: npm run render's _admin/, applied with the cluster-admin kubeconfig.
        let raw = stackConfig("dev", Object.fromEntries(Object.entries(SETTINGS).filter(([k]) => !k.includes("."))));
        for (const [k, v] of Object.entries(SETTINGS).filter(([key]) => key.includes("."))) raw = withObject(raw, k.split(".")[0], { [k.split(".")[1]]: v === "true" });
        const { files, admin } = await renderStack(raw, "nss", []);
        assert.ok(admin > 20, `${admin} objects for the admin`);
        const out = path.join(work, "render");
        writeTree(out, files, "nss");
        console.log(kubectl("apply", "-R", "-f", path.join(out, "_admin")).trim().split("\n").map((l) => `      admin: ${l}`).join("\n"));

        // The deployer's kubeconfig: the cluster's address and CA, and a token of the account the admin created.
        const token = kubectl("-n", NS, "create", "token", DEPLOYER, "--duration=2h").trim();
        const view = kubectlJson("config", "view", "--raw", "--minify");
        const cluster = view.clusters[0].cluster;
        const ca = cluster["certificate-authority-data"] ?? fs.readFileSync(cluster["certificate-authority"]).toString("base64");
        deployerKubeconfig = path.join(work, "deployer.kubeconfig");
        fs.writeFileSync(deployerKubeconfig, JSON.stringify({
            apiVersion: "v1", kind: "Config", "current-context": "deployer",
            clusters: [{ name: "local", cluster: { server: cluster.server, "certificate-authority-data": ca } }],
            users: [{ name: DEPLOYER, user: { token } }],
            contexts: [{ name: "deployer", context: { cluster: "local", user: DEPLOYER, namespace: NS } }],
        }), { mode: 0o600 });

        const envVars = throwawayEnv({ stateDir: path.join(work, ".state") });
        stack = await LocalWorkspace.createOrSelectStack({ stackName: "nss", workDir: work }, { envVars });
        await stack.setConfig("kubeconfig", { value: deployerKubeconfig });
        for (const [k, v] of Object.entries(SETTINGS)) await stack.setConfig(k, { value: v }, k.includes("."));
    });

    after(() => {
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it("the deployer's identity may manage its namespace and nothing cluster-scoped or beside it", () => {
        for (const what of [["create", "deployments"], ["patch", "statefulsets"], ["delete", "secrets"], ["create", "roles"], ["create", "cronjobs.batch"],
            ["watch", "pods"], ["list", "events"]]) {
            assert.ok(canI(deployerKubeconfig, [...what, "-n", NS]), `deployer: ${what.join(" ")} in ${NS}`);
        }
        for (const what of [["create", "namespaces"], ["get", "namespaces"], ["create", "storageclasses"], ["list", "storageclasses"],
            ["create", "persistentvolumes"], ["list", "persistentvolumes"], ["create", "clusterroles"], ["create", "clusterrolebindings"], ["list", "nodes"]]) {
            assert.ok(!canI(deployerKubeconfig, what), `deployer: ${what.join(" ")}`);
        }
        for (const ns of [SIDE.storage, SIDE.ci, "default", "kube-system"]) {
            assert.ok(!canI(deployerKubeconfig, ["create", "deployments", "-n", ns]), `deployer: create deployments in ${ns}`);
            assert.ok(!canI(deployerKubeconfig, ["get", "secrets", "-n", ns]), `deployer: get secrets in ${ns}`);
        }
        assert.ok(!canI(deployerKubeconfig, ["create", "pods", "-n", NS]), "deployer: no bare pods");
        assert.ok(!canI(deployerKubeconfig, ["create", "pods/exec", "-n", NS]), "deployer: no exec");
    });

    it("up succeeds with that kubeconfig alone", async () => {
        let output = "";
        const r = await stack.up({ parallel: 64, onOutput: (s) => { output += s; } }).catch((e: Error) => assert.fail(`up failed:\n${e.message.slice(-4000)}\n${output.slice(-4000)}`));
        assert.strictEqual(r.summary.result, "succeeded");
        const deployments = kubectlJson("-n", NS, "get", "deployments").items as { metadata: { name: string } }[];
        assert.ok(deployments.some((d) => d.metadata.name === "apigateway-deployment"), deployments.map((d) => d.metadata.name).join(" "));
        // Every claim binds to the admin's pre-bound volume.
        type Claim = { metadata: { name: string }; status: { phase: string } };
        let claims: Claim[] = [];
        await waitFor("every claim Bound", () => {
            claims = kubectlJson("-n", NS, "get", "pvc").items as Claim[];
            return claims.length >= 4 && claims.every((c) => c.status.phase === "Bound");
        }, 60).catch((e: Error) => assert.fail(`${e.message}: ${claims.map((c) => `${c.metadata.name}=${c.status.phase}`).join(" ")}`));
        // The program touched no cluster-scoped object: the namespace, classes and volumes are the admin's apply only.
        const ns = kubectlJson("get", "namespace", NS, "--show-managed-fields");
        assert.strictEqual(ns.metadata.labels["app.kubernetes.io/managed-by"], "pulumi", "the admin applied the rendered namespace as is");
        const cluster = [ns, ...kubectlJson("get", "storageclasses,persistentvolumes", "--show-managed-fields").items as typeof ns[]]
            .filter((o) => o.metadata.name.startsWith(NS) || o.spec?.claimRef?.namespace === NS || o.kind === "Namespace");
        assert.ok(cluster.length >= 7, `${cluster.length} cluster-scoped objects of the stack`);
        for (const o of cluster) {
            const managers = (o.metadata.managedFields as { manager: string }[]).map((f) => f.manager);
            assert.ok(managers.some((m) => /kubectl/.test(m)) && !managers.some((m) => /pulumi/i.test(m)), `${o.kind} ${o.metadata.name}: ${managers.join(", ")}`);
        }
    });

    it("leaves no account of the application's namespace any right beyond it", () => {
        const accounts = (kubectlJson("-n", NS, "get", "serviceaccounts").items as { metadata: { name: string } }[]).map((a) => a.metadata.name).sort();
        assert.ok(accounts.includes("jenkins") && accounts.includes(DEPLOYER), accounts.join(" "));
        const rights: Record<string, string> = {};
        for (const a of accounts) {
            const as = `system:serviceaccount:${NS}:${a}`;
            for (const what of [["create", "persistentvolumes"], ["delete", "persistentvolumes"], ["create", "namespaces"], ["list", "secrets", "-A"]]) {
                assert.ok(!canI(KUBECONFIG, what, as), `${a}: ${what.join(" ")}`);
            }
            for (const ns of [SIDE.storage, "default"]) assert.ok(!canI(KUBECONFIG, ["create", "pods", "-n", ns], as), `${a}: create pods in ${ns}`);
            if (a !== DEPLOYER) assert.ok(!canI(KUBECONFIG, ["get", "secrets", "-n", NS], as), `${a}: read the application's Secrets`);
            rights[a] = kubectl("auth", "can-i", "--list", "-n", NS, "--as", as).trim();
        }
        // Jenkins starts agents in theirs, and no pod in the application's namespace; its account holds nothing cluster-wide.
        const jenkins = `system:serviceaccount:${NS}:jenkins`;
        assert.ok(canI(KUBECONFIG, ["create", "pods", "-n", SIDE.ci], jenkins));
        assert.ok(!canI(KUBECONFIG, ["create", "pods", "-n", NS], jenkins));
        assert.ok(canI(KUBECONFIG, ["patch", "deployments", "-n", NS], jenkins), "pipelines roll out the platform's Deployments");
        // The NFS driver's controller account: cluster-wide rights on volumes, in a namespace where nothing else starts pods.
        const provisioner = `system:serviceaccount:${SIDE.storage}:csi-nfs-controller-sa`;
        assert.ok(canI(KUBECONFIG, ["create", "persistentvolumes"], provisioner));
        assert.ok(!canI(KUBECONFIG, ["create", "pods", "-n", SIDE.storage], provisioner));
        rights[`${SIDE.storage}/csi-nfs-controller-sa`] = kubectl("auth", "can-i", "--list", "--as", provisioner).trim();
        rights[`jenkins in ${SIDE.ci}`] = kubectl("auth", "can-i", "--list", "-n", SIDE.ci, "--as", jenkins).trim();
        for (const [who, list] of Object.entries(rights)) console.log(`      rights of ${who}:\n${list.split("\n").map((l) => `        ${l}`).join("\n")}`);
    });

    it("destroy succeeds with the same kubeconfig, and leaves the admin's objects", async () => {
        await stack.destroy({ parallel: 64 });
        assert.deepStrictEqual(kubectlJson("-n", NS, "get", "deployments,statefulsets,pvc").items, []);
        assert.ok(kubectlJson("get", "namespace", NS).metadata.name === NS, "the namespace stays: the admin's");
        assert.ok(execFileSync("kubectl", ["--kubeconfig", KUBECONFIG, "get", "storageclass", "-o", "name"], { encoding: "utf8" }).includes(`${NS}-nfs-`));
        // The admin's static volumes keep their data: Released, for the admin to hand back (README, Namespace-scoped deployment).
        type Volume = { metadata: { name: string }; spec: { claimRef?: { namespace: string } }; status: { phase: string } };
        let volumes: Volume[] = [];
        await waitFor("the admin's volumes Released", () => {
            volumes = (kubectlJson("get", "pv").items as Volume[]).filter((v) => v.spec.claimRef?.namespace === NS);
            return volumes.length >= 4 && volumes.every((v) => v.status.phase === "Released");
        }, 60).catch((e: Error) => assert.fail(`${e.message}: ${volumes.map((v) => `${v.metadata.name}=${v.status.phase}`).join(" ")}`));
    });
});
