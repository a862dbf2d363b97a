// End to end: the real Pulumi engine (Automation API) deploys the stacks to the live local cluster.
// tests/support/e2e.sh provides the toolchain on PATH and a cluster (EGOV_E2E_KUBECONFIG).
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineEvent, LocalWorkspace, OpType, Stack } from "@pulumi/pulumi/automation";
import { detectDrift, DriftItem } from "../../scripts/lib/drift";
import { throwawayEnv } from "../../scripts/lib/pulumi-env";
import { deploy, Obj, stackConfig } from "../support/harness";
import { liveClusterTests } from "./cluster.e2e";
import { KUBECONFIG, kubectl, kubectlJson, waitFor } from "../support/kube";
import { previewAsDeploy } from "../support/preview";
import { pinApplicationCheckout } from "../../scripts/lib/stack-config";

const ROOT = path.resolve(__dirname, "../..");
// Every preview and up runs the policy pack (policy/analyzer starts it; README "Policy pack").
const POLICY_PACK = path.join(ROOT, "policy", "analyzer");
const PROJECT_FILES = ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "index.ts", "package.json", "tsconfig.json", "components", "config", "images.lock.json", "frontends.lock.json", "jobs/backup", "jobs/migrate", "jobs/rotate"];

/** Every step of a run, and everything it printed. */
class Recorder {
    static readonly all: Recorder[] = [];
    readonly steps: Array<{ op: OpType; urn: string; type: string }> = [];
    readonly diagnostics: Array<{ severity: string; message: string; urn?: string }> = [];
    /** Policy packs the run's summary lists, and their violations. */
    readonly policyPacks: string[] = [];
    readonly policyViolations: string[] = [];
    output = "";
    constructor() { Recorder.all.push(this); }
    opts() {
        return {
            color: "never" as const,
            parallel: 64, // as scripts/deploy.sh: the engine's default (4 x cores) queues steps behind readiness waits
            policyPacks: [POLICY_PACK],
            onOutput: (s: string) => { this.output += s; },
            onEvent: (e: EngineEvent) => {
                const step = e.resourcePreEvent?.metadata;
                if (step) this.steps.push({ op: step.op, urn: step.urn, type: step.type });
                const summary = e.summaryEvent as { policyPacks?: Record<string, string>; PolicyPacks?: Record<string, string> } | undefined;
                this.policyPacks.push(...Object.keys(summary?.PolicyPacks ?? summary?.policyPacks ?? {}));
                const policy = e.policyEvent;
                if (policy) this.policyViolations.push(`${policy.policyName}: ${policy.message}`);
                const diag = e.diagnosticEvent;
                if (diag) this.diagnostics.push({ severity: diag.severity, message: diag.message, urn: diag.urn });
            },
        };
    }
}

const timings: Record<string, number> = {};
async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
    const start = Date.now();
    try { return await f(); } finally { timings[label] = (Date.now() - start) / 1000; }
}

function nameOf(urn: string): string { return urn.split("::").pop() ?? urn; }

describe("end to end on the local cluster", function () {
    this.timeout(20 * 60 * 1000);
    let work: string;
    let stateDir: string;
    let envVars: Record<string, string>;
    let dev: Stack;
    let prod: Stack;
    let credentials: Obj;

    before(async function () {
        assert.ok(KUBECONFIG && fs.existsSync(KUBECONFIG), "EGOV_E2E_KUBECONFIG must name the local cluster's kubeconfig (run through tests/support/e2e.sh)");
        assert.ok(fs.existsSync(path.join(ROOT, "policy/node_modules/@pulumi/policy")), "the policy pack's dependencies are missing: npm ci --prefix policy");
        work = fs.mkdtempSync(path.join(os.tmpdir(), "egov-e2e-"));
        for (const f of PROJECT_FILES) fs.cpSync(path.join(ROOT, f), path.join(work, f), { recursive: true });
        pinApplicationCheckout(work);
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(work, "node_modules"));
        fs.cpSync(path.join(ROOT, "examples/consumer"), path.join(work, "consumer"), { recursive: true });
        stateDir = path.join(work, ".state");
        fs.mkdirSync(stateDir);
        envVars = throwawayEnv({ stateDir });
        const stack = async (name: string, dir = work) => LocalWorkspace.createOrSelectStack({ stackName: name, workDir: dir }, { envVars });
        dev = await stack("dev");
        await dev.setConfig("kubeconfig", { value: KUBECONFIG });
        prod = await stack("prod");
        // prod as committed, but on the local cluster: no ingress controller there, and cinder cannot bind.
        await prod.removeConfig("kubeContext");
        await prod.setConfig("kubeconfig", { value: KUBECONFIG });
        await prod.setConfig("ingress.waitForAddress", { value: "false" }, true);
        // prod requires digests and the committed images.lock.json is empty until an agency fills it from its mirror
        // (npm run images -- --lock): the harness's test pins stand in for that lock (kwok never pulls an image).
        const pins = JSON.parse(stackConfig("prod").imageDigests) as Record<string, string>;
        await prod.setAllConfig(Object.fromEntries(Object.entries(pins).map(([ref, digest]) => [`imageDigests[${JSON.stringify(ref)}]`, { value: digest }])), true);
    });

    after(function () {
        console.log("\n  measured times (s):", JSON.stringify(timings));
        if (process.env.EGOV_E2E_TIMINGS) fs.writeFileSync(process.env.EGOV_E2E_TIMINGS, JSON.stringify(timings, null, 2));
    });

    it("previews dev, listing every resource of the program", async () => {
        const rec = new Recorder();
        await timed("preview dev", () => previewAsDeploy(dev, rec.opts()));
        const mocked = await deploy(stackConfig("dev"));
        const planned = new Set(rec.steps.filter((s) => s.op === "create").map((s) => `${s.type}::${nameOf(s.urn)}`));
        const missing = mocked.all.filter((r) => !planned.has(`${r.type}::${r.name}`)).map((r) => `${r.type}::${r.name}`);
        assert.deepStrictEqual(missing, []);
        assert.ok(planned.size >= mocked.all.length);
        assert.deepStrictEqual(rec.diagnostics.filter((d) => d.severity === "error"), []);
        assert.ok(rec.policyPacks.some((p) => p.includes("egov-platform")), `the policy pack did not run: ${rec.policyPacks}`);
        assert.deepStrictEqual(rec.policyViolations, []);
    });

    it("previews prod", async () => {
        const rec = new Recorder();
        const res = await timed("preview prod", () => previewAsDeploy(prod, rec.opts()));
        assert.ok((res.changeSummary.create ?? 0) > 80, JSON.stringify(res.changeSummary));
        assert.ok(rec.steps.some((s) => s.type === "kubernetes:storage.k8s.io/v1:StorageClass" && nameOf(s.urn) === "class"));
        assert.ok(rec.policyPacks.some((p) => p.includes("egov-platform")), `the policy pack did not run: ${rec.policyPacks}`);
        assert.deepStrictEqual(rec.policyViolations, []);
    });

    it("deploys dev: every object accepted, every workload ready, every claim bound", async () => {
        const rec = new Recorder();
        const res = await timed("up dev (first)", () => dev.up(rec.opts()));
        assert.strictEqual(res.summary.result, "succeeded");
        // The provider applies with fieldValidation=Warn: an unknown field must not slip through as a warning.
        assert.deepStrictEqual(rec.diagnostics.filter((d) => /unknown field|duplicate field/i.test(d.message)), []);
        const ns = "egov-dev";
        // The NFS driver runs in a namespace of its own (its account has rights beyond the application's, its pods
        // are privileged: admitted there only); it has no claim.
        const claimsOf: Record<string, string[]> = {
            [ns]: ["backend", "jenkins", "mysql", "opensearch", "rabbitmq"],
            [`${ns}-storage`]: [],
        };
        for (const [namespace, expected] of Object.entries(claimsOf)) {
            for (const d of kubectlJson("-n", namespace, "get", "deployments").items as Obj[]) {
                const available = (d.status.conditions ?? []).find((c: Obj) => c.type === "Available");
                assert.strictEqual(available?.status, "True", `Deployment ${namespace}/${d.metadata.name} is not available`);
            }
            for (const s of kubectlJson("-n", namespace, "get", "statefulsets").items as Obj[]) {
                assert.strictEqual(s.status.readyReplicas, s.spec.replicas, `StatefulSet ${namespace}/${s.metadata.name} is not ready`);
            }
            for (const s of kubectlJson("-n", namespace, "get", "daemonsets").items as Obj[]) {
                assert.ok(s.status.desiredNumberScheduled > 0 && s.status.numberReady === s.status.desiredNumberScheduled, `DaemonSet ${namespace}/${s.metadata.name} is not ready`);
            }
            const claims = kubectlJson("-n", namespace, "get", "pvc").items as Obj[];
            assert.deepStrictEqual(claims.map((c) => c.metadata.name.split("-pvc-")[0]).sort(), expected, namespace);
            for (const c of claims) assert.strictEqual(c.status.phase, "Bound", `claim ${namespace}/${c.metadata.name}`);
        }
        credentials = (await dev.outputs()).credentials.value as Obj;
    });

    it("passes strict server-side validation for every object it sent, through the explicit provider only", async () => {
        const state = (await dev.exportStack()).deployment as Obj;
        // Default providers are disabled: the only Kubernetes provider is the explicit one.
        const providers = (state.resources as Obj[]).filter((r) => r.type === "pulumi:providers:kubernetes").map((r) => nameOf(r.urn));
        assert.deepStrictEqual(providers, ["cluster"]);
        const objects = (state.resources as Obj[])
            .filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:") && r.type !== "kubernetes:core/v1:Secret")
            .map((r) => { const o = { ...r.inputs }; delete o.__fieldManager; return o; });
        assert.ok(objects.length > 70);
        const file = path.join(work, "sent.json");
        fs.writeFileSync(file, JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
        kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=e2e-validate", "--dry-run=server", "--validate=strict", "-f", file);
        // The same check rejects an unknown field.
        const bad = { ...objects.find((o) => o.kind === "Service"), spec: { ...objects.find((o) => o.kind === "Service")!.spec, bogusField: 1 } };
        fs.writeFileSync(file, JSON.stringify(bad));
        assert.throws(() => kubectl("apply", "--server-side", "--dry-run=server", "--validate=strict", "-f", file));
    });

    it("a second up changes nothing", async () => {
        const rec = new Recorder();
        const res = await timed("up dev (no-op)", () => dev.up(rec.opts()));
        assert.deepStrictEqual(Object.keys(res.summary.resourceChanges ?? {}), ["same"]);
    });

    it("rotates the MySQL user: the rotate Job, then the Secret, then the consumers' rollouts, then the retire Job, in that order; then a no-op up", async () => {
        // What kwok cannot show (the Jobs' scripts on a running server, pods connecting throughout) the real-server test
        // proves: tests/rotation-servers.test.ts. Here: the order Pulumi applies it in.
        const ns = "egov-dev";
        const secretBefore = kubectlJson("-n", ns, "get", "secret", "mysql-secret").data.password as string;
        const annotation = (d: string) => kubectlJson("-n", ns, "get", "deployment", d).spec.template.metadata.annotations?.["egov-platform/credentials-hash"];
        const hashBefore = annotation("board-service-deployment");
        const otherBefore = annotation("apigateway-deployment");
        await dev.setConfig("rotation.mysql", { value: "1" }, true);
        const rec = new Recorder();
        const events: string[] = [];
        const opts = rec.opts();
        const res = await timed("up dev (rotate mysql)", () => dev.up({
            ...opts,
            onEvent: (e: EngineEvent) => {
                opts.onEvent(e);
                const pre = e.resourcePreEvent?.metadata;
                if (pre && pre.op !== "same") events.push(`start ${pre.op} ${pre.type.split(":").pop()} ${nameOf(pre.urn)}`);
                const done = e.resOutputsEvent?.metadata;
                if (done && done.op !== "same") events.push(`done ${done.op} ${done.type.split(":").pop()} ${nameOf(done.urn)}`);
            },
        }));
        assert.strictEqual(res.summary.result, "succeeded");
        console.log(`\n  rotation of the MySQL password, order of events (for the issue notes):\n${events.map((l) => `    ${l}`).join("\n")}\n`);
        const at = (line: string) => {
            const i = events.indexOf(line);
            assert.ok(i >= 0, `no event "${line}" in:\n${events.join("\n")}`);
            return i;
        };
        // Nothing is deleted or replaced but the password itself: the Secret is updated in place, MySQL is not touched.
        assert.deepStrictEqual(events.filter((l) => /replace|delete/.test(l) && !/ RandomPassword mysql-password$/.test(l)), []);
        assert.ok(!events.some((l) => / StatefulSet mysql$/.test(l)), "MySQL itself does not restart");
        const jobDone = at("done create Job mysql-rotate");
        const secretStart = at("start update Secret mysql");
        assert.ok(jobDone < secretStart, "the Secret changes only after the Job set the password");
        // Every consumer of the database rolls after the Secret changed; the others do not change.
        const consumers = events.filter((l) => /^start update Deployment /.test(l)).map((l) => l.split(" ").pop()!);
        assert.ok(consumers.length >= 5, `consumers rolled: ${consumers}`);
        for (const c of consumers) assert.ok(at(`start update Deployment ${c}`) > at("done update Secret mysql"), `${c} rolled before the Secret changed`);
        assert.ok(!consumers.includes("apigateway") && !consumers.includes("discovery"), `only the database's consumers roll: ${consumers}`);
        // The previous user is locked only once every consumer has rolled out onto the new one.
        const retireStart = at("start create Job mysql-retire");
        for (const c of consumers) assert.ok(at(`done update Deployment ${c}`) < retireStart, `${c} had not rolled out when the retire Job started`);
        for (const name of ["mysql-rotate-g1", "mysql-retire-g1"]) assert.strictEqual(kubectlJson("-n", ns, "get", "job", name).status.succeeded, 1, name);
        const secret = kubectlJson("-n", ns, "get", "secret", "mysql-secret").data as Record<string, string>;
        assert.strictEqual(Buffer.from(secret.username, "base64").toString(), "msaportal_b", "generation 1 is the second user");
        assert.notStrictEqual(kubectlJson("-n", ns, "get", "secret", "mysql-secret").data.password, secretBefore, "a new password");
        assert.notStrictEqual(annotation("board-service-deployment"), hashBefore, "board-service's pod template changed");
        assert.strictEqual(annotation("apigateway-deployment"), otherBefore, "the gateway does not read the database");
        const board = kubectlJson("-n", ns, "get", "deployment", "board-service-deployment");
        assert.strictEqual(board.status.updatedReplicas, board.spec.replicas === undefined ? board.status.replicas : board.spec.replicas, "rolled out");
        const again = await timed("up dev (no-op after rotation)", () => dev.up(new Recorder().opts()));
        assert.deepStrictEqual(Object.keys(again.summary.resourceChanges ?? {}), ["same"], "a rotation is done in one up");
        // The steps below check the credentials in force: the rotated ones (and that they are in no plaintext either).
        credentials = (await dev.outputs()).credentials.value as Obj;
    });

    // Autoscaling, self-healing and an API server crash mid-up, on the dev stack deployed above.
    liveClusterTests(() => ({ dev }));

    it("a changed replica count updates only that object, in place, and the autoscaler keeps the scale", async () => {
        await dev.setConfig('serviceReplicas["board-service"]', { value: "2" }, true);
        const rec = new Recorder();
        const res = await dev.up(rec.opts());
        const changed = rec.steps.filter((s) => s.op !== "same");
        assert.deepStrictEqual(changed.map((s) => `${s.op} ${nameOf(s.urn)}`), ["update board-service"]);
        assert.strictEqual(changed[0].type, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
        assert.strictEqual(res.summary.resourceChanges?.update, 1);
        await waitFor("board-service to scale to 2", () =>
            kubectlJson("-n", "egov-dev", "get", "deployment", "board-service-deployment").status.readyReplicas === 2);
        const again = await dev.up(new Recorder().opts());
        assert.deepStrictEqual(Object.keys(again.summary.resourceChanges ?? {}), ["same"], "pulumi up must not fight the autoscaler");
    });

    it("switching storage.backend shows in preview what would be replaced", async () => {
        await dev.setConfig("storage.backend", { value: "hostpath" }, true);
        const rec = new Recorder();
        await previewAsDeploy(dev, rec.opts());
        await dev.setConfig("storage.backend", { value: "nfs" }, true);
        const replaced = new Set(rec.steps.filter((s) => s.op === "replace" || s.op === "create-replacement").map((s) => nameOf(s.urn)));
        for (const n of ["class", "backend-pvc", "mysql-pvc", "jenkins-pvc", "rabbitmq-pvc", "opensearch-pvc"]) assert.ok(replaced.has(n), `${n} not replaced: ${[...replaced]}`);
        const deleted = rec.steps.filter((s) => s.op === "delete").map((s) => nameOf(s.urn));
        assert.ok(deleted.includes("csi-nfs-node") && deleted.includes("nfs-csi-driver") && deleted.includes("mysql-pv"), `deleted: ${deleted}`);
    });

    it("deploys prod with two classes (NFS static volumes for shared, host-path for data): every claim binds, data protected", async () => {
        // prod on the local cluster: its NFS class with static volumes (they bind without a server), host-path
        // volumes instead of Cinder for data.
        await prod.setConfig("storage.data.backend", { value: "hostpath" }, true);
        await prod.setConfig("storage.nfs.staticVolumes", { value: "true" }, true);
        await timed("up prod", () => prod.up(new Recorder().opts()));
        const protectedNames = ((await prod.exportStack()).deployment.resources as Obj[])
            .filter((r) => r.protect).map((r) => nameOf(r.urn)).sort();
        assert.deepStrictEqual(protectedNames,
            ["backend-pv", "backend-pvc", "backup-pvc", "jenkins-pvc", "mysql-pvc", "namespace", "opensearch-pvc", "opensearch-snapshots-pv", "opensearch-snapshots-pvc", "rabbitmq-pvc"]);
        // The role volumes; the NFS provisioner's own pre-bound root claim (no class) is not one of them.
        const prodClaims = kubectlJson("-n", "egov", "get", "pvc", "-l", "egov-platform/volume-role").items as Obj[];
        // prod's own NFS driver beside dev's on one cluster: a driver name, and a namespace, of its own.
        const driver = kubectlJson("-n", "egov-storage", "get", "daemonset", "csi-nfs-node");
        assert.ok(driver.spec.template.spec.containers.some((c: Obj) => (c.args ?? []).includes("--drivername=egov.nfs.csi.k8s.io")));
        assert.strictEqual(kubectlJson("get", "csidriver", "egov.nfs.csi.k8s.io").metadata.name, "egov.nfs.csi.k8s.io");
        assert.strictEqual(kubectlJson("get", "csidriver", "egov-dev.nfs.csi.k8s.io").metadata.name, "egov-dev.nfs.csi.k8s.io");
        const classes = kubectlJson("get", "storageclass", "-l", "app.kubernetes.io/part-of=egov-platform,env=prod").items as Obj[];
        console.log(`\n  prod claims on the local cluster (${classes.map((c) => `${c.metadata.name}: ${c.provisioner}`).join(", ")}):`);
        for (const c of prodClaims) {
            console.log(`    ${c.metadata.name.padEnd(44)} ${c.spec.storageClassName.padEnd(24)} ${c.spec.accessModes.join(",").padEnd(14)} ${c.status.phase}`);
        }
        assert.strictEqual(new Set(prodClaims.map((c) => c.spec.storageClassName)).size, 2, "two classes at once");
        assert.deepStrictEqual(prodClaims.map((c) => c.metadata.name.split("-pvc-")[0]).sort(),
            ["backend", "backup", "jenkins", "mysql", "opensearch", "opensearch-snapshots", "rabbitmq"]);
        for (const c of prodClaims) {
            assert.strictEqual(c.status.phase, "Bound", c.metadata.name);
            // The shared role: the services' volume and OpenSearch's snapshot repository (backup.offsite).
            const shared = c.metadata.name.startsWith("backend-") || c.metadata.name.startsWith("opensearch-snapshots-");
            assert.deepStrictEqual(c.spec.accessModes, [shared ? "ReadWriteMany" : "ReadWriteOnce"], c.metadata.name);
            assert.match(c.spec.storageClassName, shared ? /^egov-nfs-/ : /^egov-hostpath-/);
        }
        for (const s of kubectlJson("-n", "egov", "get", "statefulsets").items as Obj[]) {
            assert.strictEqual(kubectlJson("-n", "egov", "get", "service", s.spec.serviceName).spec.clusterIP, "None", `${s.metadata.name}: headless`);
        }
        assert.ok((kubectlJson("-n", "egov", "get", "pdb").items as Obj[]).length >= 9, "budgets for the multi-pod workloads");
        // The restore command's pod, built from the CronJob's own template, passes the API server's validation.
        const restore = execFileSync("bash", [path.join(ROOT, "scripts/db-restore.sh"), "--stack", "prod", "--database", "msaportal", "--dry-run"],
            { encoding: "utf8", env: { ...process.env, ...envVars, EGOV_PROJECT_DIR: work }, stdio: ["ignore", "pipe", "pipe"] });
        const pod = JSON.parse(restore) as Obj;
        assert.deepStrictEqual(pod.spec.containers[0].command, ["bash", "/scripts/restore.sh", "--database", "msaportal"]);
        // From the object store (prod has backup.offsite): the CronJob's uploader fetches and checks the copy first.
        const fromStore = JSON.parse(execFileSync("bash", [path.join(ROOT, "scripts/db-restore.sh"), "--stack", "prod", "--offsite", "--database", "msaportal", "--dry-run"],
            { encoding: "utf8", env: { ...process.env, ...envVars, EGOV_PROJECT_DIR: work }, stdio: ["ignore", "pipe", "pipe"] })) as Obj;
        assert.deepStrictEqual(fromStore.spec.initContainers.map((c: Obj) => [c.name, c.command.join(" ")]),
            [["fetch", "sh -c rm -rf /backup/.restore && exec sh /scripts/offsite.sh fetch latest /backup/.restore"]]);
        assert.deepStrictEqual(fromStore.spec.containers[0].command, ["env", "BACKUP_DIR=/backup/.restore", "bash", "/scripts/restore.sh", "--database", "msaportal"]);
        // A class change would replace the protected data claims: refused.
        await prod.setConfig("storage.data.backend", { value: "cinder" }, true);
        await assert.rejects(prod.up(new Recorder().opts()), /protect/i);
        await prod.setConfig("storage.data.backend", { value: "hostpath" }, true);
        await assert.rejects(prod.destroy(new Recorder().opts()), /protect/i);
        assert.strictEqual((kubectlJson("-n", "egov", "get", "pvc", "-l", "egov-platform/volume-role").items as Obj[]).length, 7);
        // Tear down deliberately: lift the protection, then destroy.
        execFileSync("pulumi", ["state", "unprotect", "--all", "--yes", "--stack", "prod"], { cwd: work, env: { ...process.env, ...envVars } });
        await prod.destroy(new Recorder().opts());
    });

    it("another stack reads the outputs through StackReference", async () => {
        const consumer = await LocalWorkspace.createOrSelectStack({ stackName: "dev", workDir: path.join(work, "consumer") }, { envVars });
        await consumer.setConfig("platformStack", { value: "organization/egov-platform/dev" });
        const res = await consumer.up(new Recorder().opts());
        assert.strictEqual(res.outputs.namespace.value, "egov-dev");
        assert.strictEqual(res.outputs.mysqlEndpoint.value, "mysql.egov-dev.svc.cluster.local:3306");
        assert.strictEqual(res.outputs.jdbcPassword.secret, true);
        assert.strictEqual(res.outputs.jdbcPassword.value, credentials.mysql.password);
        await consumer.destroy();
    });

    it("keeps every generated secret out of the state file, the stack config, ConfigMaps and the output", () => {
        const values = [credentials.mysql.rootPassword, credentials.mysql.password, credentials.rabbitmq.password,
            credentials.eureka.password, credentials.tokenSecret] as string[];
        assert.ok(values.every((v) => typeof v === "string" && v.length >= 32));
        const files: string[] = [];
        const walk = (d: string) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else files.push(p); } };
        walk(stateDir);
        files.push(path.join(work, "Pulumi.dev.yaml"), path.join(work, "Pulumi.prod.yaml"));
        const haystacks: Array<[string, string]> = files.map((f) => [f, fs.readFileSync(f, "utf8")]);
        haystacks.push(["ConfigMaps", kubectl("-n", "egov-dev", "get", "configmaps", "-o", "json")]);
        haystacks.push(["command output", Recorder.all.map((r) => r.output).join("\n")]);
        for (const [where, text] of haystacks) {
            for (const v of values) assert.ok(!text.includes(v), `a generated secret appears in plaintext in ${where}`);
        }
        // Sanity: the cluster's Secret does hold it, so the search above looks for the right strings.
        const secret = kubectlJson("-n", "egov-dev", "get", "secret", "mysql-secret");
        assert.strictEqual(Buffer.from(secret.data.password, "base64").toString(), credentials.mysql.password);
    });

    // Drift steps run on the deployed dev stack, before the destroy step (plain steps: a nested describe would run last).
    {
        const ns = "egov-dev";
        const driftCli = () => {
            try {
                // The command as users run it (npm run drift): scripts/drift.sh, with this test's backend and passphrase.
                return { code: 0, out: execFileSync("bash", [path.join(ROOT, "scripts/drift.sh"), "--stack", "dev", "--dir", work],
                    { encoding: "utf8", env: { ...process.env, ...envVars }, stdio: "pipe" }) };
            } catch (e) {
                const err = e as { status: number; stdout: string; stderr: string };
                return { code: err.status, out: `${err.stdout}${err.stderr}` };
            }
        };
        const describeDrift = (items: DriftItem[]) => items.map((i) => `${i.op} ${i.object ?? i.resource} [${i.paths.join(", ")}]`);

        it("drift: a deployed stack has none, and a replica count changed for the autoscaler is not drift", async () => {
            const board = () => kubectlJson("-n", ns, "get", "deployment", "board-service-deployment", "--show-managed-fields");
            const target = board().spec.replicas === 3 ? 4 : 3;
            kubectl("-n", ns, "scale", "deployment", "board-service-deployment", `--replicas=${target}`);
            assert.strictEqual(board().spec.replicas, target);
            const items = await timed("drift check (clean)", () => detectDrift(dev));
            assert.deepStrictEqual(describeDrift(items), []);
            // The autoscaler may move the count again meanwhile; what matters is that no Pulumi field manager owns
            // spec.replicas, so neither this check nor an up takes the count back.
            const managed = board().metadata.managedFields as Obj[];
            const owners = managed.filter((m) => m.subresource !== "status" && m.fieldsV1?.["f:spec"]?.["f:replicas"] !== undefined)
                .map((m) => `${m.manager}${m.subresource ? `/${m.subresource}` : ""}`);
            assert.ok(owners.every((m) => !/pulumi/i.test(m)), `spec.replicas owned by: ${owners}`);
            assert.ok(managed.some((m) => /pulumi/i.test(m.manager)), `Pulumi manages the Deployment: ${managed.map((m) => m.manager)}`);
        });

        it("drift: an object edited by hand is reported by name; pulumi up --refresh puts it back; then there is none", async () => {
            const cm = (kubectlJson("-n", ns, "get", "configmaps").items as Obj[]).find((c) => c.metadata.name.startsWith("common-configmap-"))!;
            kubectl("-n", ns, "patch", "configmap", cm.metadata.name, "--type", "merge", "-p", JSON.stringify({ data: { APP_HOME: "/elsewhere" } }));
            let lines = describeDrift(await detectDrift(dev));
            // The ConfigMap is replaced on change, so every workload reading it shows too; the edited object leads.
            assert.ok(lines.some((l) => l.startsWith(`replace ConfigMap ${ns}/${cm.metadata.name} [data.APP_HOME]`)), lines.join("\n"));
            const cli = driftCli();
            assert.strictEqual(cli.code, 1, cli.out);
            assert.match(cli.out, new RegExp(`ConfigMap ${ns}/${cm.metadata.name}`));

            const searchEnv = "SPRING_CLOUD_CONFIG_SERVER_NATIVE_SEARCH_LOCATIONS";
            const searchValue = () => ((kubectlJson("-n", ns, "get", "deployment", "config-deployment").spec.template.spec.containers[0].env as Obj[])
                .find((e) => e.name === searchEnv)?.value as string | undefined);
            const applied = searchValue();
            assert.ok(applied, `${searchEnv} is not set on config-deployment`);
            kubectl("-n", ns, "set", "env", "deployment/config-deployment", `${searchEnv}=file:/tmp/elsewhere/`);
            lines = describeDrift(await detectDrift(dev));
            assert.ok(lines.some((l) => l.includes(`${ns}/config-deployment`) && l.includes(searchEnv) && l.includes("kubectl-set")), lines.join("\n"));

            // A field Pulumi applies, changed by another field manager, is an apply conflict: undo the hand edit of
            // the Deployment; the ConfigMap (replaced on change) is put back by pulumi up --refresh.
            kubectl("-n", ns, "set", "env", "deployment/config-deployment", `${searchEnv}=${applied}`);
            const res = await dev.up({ ...new Recorder().opts(), refresh: true });
            assert.strictEqual(res.summary.result, "succeeded");
            // ConfigMaps are replaced on change (new auto-name), so look the current one up again.
            const current = (kubectlJson("-n", ns, "get", "configmaps").items as Obj[]).filter((c) => c.metadata.name.startsWith("common-configmap-"));
            assert.deepStrictEqual(current.map((c) => c.data.APP_HOME), ["/srv/nfs"]);
            assert.strictEqual(searchValue(), applied);
            assert.deepStrictEqual(describeDrift(await detectDrift(dev)), []);
            const clean = driftCli();
            assert.strictEqual(clean.code, 0, clean.out);
            assert.match(clean.out, /no drift/);
        });

        it("npm run render output applies server-side as is, except the redacted Secrets, which kubectl never reads", () => {
            const dir = path.join(work, "rendered");
            execFileSync(path.join(ROOT, "node_modules/.bin/ts-node"), ["--swc", path.join(ROOT, "scripts/render.ts"), "--stack", "dev", "--out", dir],
                { encoding: "utf8", env: { ...process.env, PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` }, stdio: "pipe" });
            const out = kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=e2e-render", "--dry-run=server", "-R", "-f", dir);
            assert.match(out, /deployment.apps\/config-deployment serverside-applied \(server dry run\)/);
            assert.doesNotMatch(out, /^secret\//m, "a Secret with marker values would be applied");
            assert.ok(fs.existsSync(path.join(dir, "egov-dev", "Secret", "mysql-secret.yaml.redacted")), "the Secret is still there to review");
        });
    }

    it("destroy leaves no object of ours in the cluster", async () => {
        const rec = new Recorder();
        await timed("destroy dev", () => dev.destroy(rec.opts()));
        const leftovers = () => kubectl("get", "all,configmaps,secrets,pvc,ingress,hpa,serviceaccounts,roles,rolebindings,pv,storageclass,clusterroles,clusterrolebindings",
            "-A", "-l", "app.kubernetes.io/part-of=egov-platform", "-o", "name").trim();
        await waitFor("no object labelled part-of=egov-platform", () => leftovers() === "");
        await waitFor("namespaces egov-dev and egov to be gone", () => {
            const names = (kubectlJson("get", "namespaces").items as Obj[]).map((n) => n.metadata.name);
            return !names.includes("egov-dev") && !names.includes("egov");
        });
    });
});
