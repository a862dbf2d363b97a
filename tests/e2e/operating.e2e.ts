// End to end, as an operator runs production: `npm run deploy` / `npm run rollback` (scripts/deploy.sh) against a
// shared state backend, a real PostgreSQL server started here (Debian's postgresql), found through PULUMI_BACKEND_URL.
// A stack that is not the local dev one: consent first. An image upgrade is watched (the ready count of a 4-replica
// service never drops below 4) while a second `up` is refused by the lock; a rollout that never becomes ready fails in
// bounded time naming its workload and leaves the old pods serving; the state survives a server restart; a rollback
// to the first update brings the old images back with credentials and volumes untouched; then `up` changes nothing.
// kwok runs no containers: "never ready" is a pod no node can take, as in readiness.e2e.ts.
import * as assert from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { KUBECONFIG, kubectl, kubectlJson, Obj } from "../support/kube";
import { PostgresServer } from "../support/postgres";
import { pinApplicationCheckout } from "../../scripts/lib/stack-config";

const ROOT = path.resolve(__dirname, "../..");
const PROJECT_FILES = ["Pulumi.yaml", "Pulumi.dev.yaml", "index.ts", "package.json", "tsconfig.json", "components", "config",
    "images.lock.json", "jobs", "scripts", "toolchain"];
const NS = "egov-ops";
const STACK = "ops";
const SLOT = Number(process.env.EGOV_E2E_SLOT ?? "0") || 0;
const READINESS_TIMEOUT = 30;
const GATEWAY = "apigateway-deployment";
const PORTAL = "frontend-portal-deployment";

interface Ran { readonly status: number; readonly out: string; readonly seconds: number }

describe("end to end: operating a shared production-like stack", function () {
    this.timeout(20 * 60 * 1000);
    let work: string;
    let pg: PostgresServer;
    let env: NodeJS.ProcessEnv;
    const timings: Record<string, number> = {};

    /** Runs a command of the project copy as a user would, without a terminal; output interleaved. */
    function start(args: string[]): { child: ChildProcess; done: Promise<Ran> } {
        const t0 = Date.now();
        const child = spawn("bash", args, { cwd: work, env, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout!.on("data", (b) => { out += b; });
        child.stderr!.on("data", (b) => { out += b; });
        const done = new Promise<Ran>((resolve) => child.on("close", (code) => resolve({ status: code ?? -1, out, seconds: (Date.now() - t0) / 1000 })));
        return { child, done };
    }
    const deploySh = (...args: string[]) => start(["scripts/deploy.sh", ...args]).done;
    // The cluster as npm run deploy -- --kubeconfig names it for a run (the stack file names none).
    const pulumi = (...args: string[]) => execFileSync("pulumi", [...args, "--stack", STACK, "--non-interactive"],
        { cwd: work, env: { ...env, EGOV_KUBECONFIG: KUBECONFIG }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
    const editStack = (f: (c: Obj) => void) => {
        const file = path.join(work, `Pulumi.${STACK}.yaml`);
        const doc = parse(fs.readFileSync(file, "utf8")) as { config: Obj };
        f(doc.config);
        fs.writeFileSync(file, stringify(doc));
    };
    const deployment = (name: string) => kubectlJson("-n", NS, "get", "deployment", name);
    const imageOf = (name: string): string => deployment(name).spec.template.spec.containers[0].image;

    before(function () {
        assert.ok(KUBECONFIG && fs.existsSync(KUBECONFIG), "EGOV_E2E_KUBECONFIG must name the local cluster's kubeconfig (run through tests/support/e2e.sh)");
        work = fs.mkdtempSync(path.join(os.tmpdir(), "egov-e2e-ops-"));
        for (const f of PROJECT_FILES) fs.cpSync(path.join(ROOT, f), path.join(work, f), { recursive: true });
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(work, "node_modules"));
        fs.symlinkSync(path.join(ROOT, "policy"), path.join(work, "policy"));
        // The stack an operator would keep next to Pulumi.prod.yaml, sized for kwok: a 4-replica gateway (where the
        // Kubernetes default would let one pod go), a 2-replica portal, a short readiness timeout.
        const config = (parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Obj }).config;
        Object.assign(config, {
            "egov-platform:namespace": NS,
            "egov-platform:domain": "egov-ops.localtest.me",
            "egov-platform:image": { registry: "egovframe", tag: "4.3.0" },
            "egov-platform:autoscaling": { enabled: false },
            "egov-platform:serviceReplicas": { apigateway: 4, "frontend-portal": 2 },
            "egov-platform:rollout": { minReadySeconds: 2 },
            "egov-platform:readinessTimeout": READINESS_TIMEOUT,
            "egov-platform:logging": { enabled: false },
            "egov-platform:tracing": { enabled: false },
            "egov-platform:ci": { enabled: false },
        });
        delete config["egov-platform:kubeconfig"]; // given by --kubeconfig, as for a cluster of one's own
        fs.writeFileSync(path.join(work, `Pulumi.${STACK}.yaml`), stringify({ config }));
        const noEnv = { ...config };
        delete noEnv["egov-platform:environment"];
        fs.writeFileSync(path.join(work, "Pulumi.noenv.yaml"), stringify({ config: noEnv }));
        pinApplicationCheckout(work);

        pg = new PostgresServer(25432 + SLOT * 1000);
        pg.start();
        env = {
            ...process.env,
            PULUMI_BACKEND_URL: pg.url,
            PULUMI_CONFIG_PASSPHRASE: crypto.randomBytes(24).toString("hex"),
            CI: "true", // never a terminal here: consent must come from --yes
        };
        delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
    });

    after(function () {
        if (work && env) {
            try { pulumi("destroy", "--yes", "--skip-preview", "--parallel", "64"); } catch (e) { console.error(`cleanup of ${NS} failed: ${(e as Error).message}`); }
        }
        pg?.destroy();
        if (work) fs.rmSync(work, { recursive: true, force: true });
        console.log(`    operating e2e timings (s): ${JSON.stringify(timings)}`);
    });

    it("refuses a stack name that does not exist unless --new, and a stack that does not state its environment", async () => {
        const typo = await deploySh("up", "--stack", "opps", "--kubeconfig", KUBECONFIG, "--yes");
        assert.notStrictEqual(typo.status, 0);
        assert.match(typo.out, /no stack named opps in the state backend \(postgres:\/\/.*\); known stacks: none\. .*add --new/);
        assert.ok(!typo.out.includes(pg.password), "the backend URL's password is never printed");
        const noEnv = await deploySh("up", "--stack", "noenv", "--new", "--kubeconfig", KUBECONFIG, "--yes");
        assert.notStrictEqual(noEnv.status, 0);
        assert.match(noEnv.out, /stack noenv does not state its environment \(nothing is assumed\)/);
        assert.throws(() => kubectl("get", "namespace", NS), "nothing was deployed");
    });

    it("without a terminal and without --yes: shows the preview with the policy pack, and changes nothing", async () => {
        const r = await deploySh("up", "--stack", STACK, "--new", "--kubeconfig", KUBECONFIG);
        assert.notStrictEqual(r.status, 0);
        assert.match(r.out, /urn=urn:pulumi:ops::egov-platform::.*kubernetes:apps\/v1:Deployment::apigateway\]/, r.out.slice(-3000));
        assert.match(r.out, /(Policy Packs run|Policies):[\s\S]*egov-platform/, `the preview ran the policy pack:\n${r.out.slice(-1500)}`);
        assert.match(r.out, /not applied: stack ops is not a local stack, and there is no terminal to ask for consent; .* --yes/);
        assert.throws(() => kubectl("get", "namespace", NS), "nothing was deployed");
    });

    it("npm run deploy -- --yes deploys through the PostgreSQL backend named by PULUMI_BACKEND_URL", async () => {
        const r = await deploySh("up", "--stack", STACK, "--kubeconfig", KUBECONFIG, "--yes");
        timings.deploy = r.seconds;
        assert.strictEqual(r.status, 0, r.out.slice(-4000));
        assert.match(r.out, /state backend: postgres:\/\//);
        assert.match(r.out, /Previewing update/, "the preview is shown before the change even with --yes");
        assert.strictEqual(deployment(GATEWAY).status.readyReplicas, 4);
        const keys = pg.psql("SELECT key FROM pulumi_state ORDER BY key", pg.database);
        assert.match(keys, new RegExp(`stacks/.*${STACK}`), "the checkpoint lives in PostgreSQL");
    });

    it("an image upgrade never drops the ready count below the desired one (watched), while a second up is refused by the lock", async () => {
        editStack((c) => { c["egov-platform:image"] = { registry: "egovframe", tag: "4.3.1" }; });
        // Every status change of the gateway's Deployment, as the controller publishes it.
        const watch = spawn("kubectl", ["--kubeconfig", KUBECONFIG, "-n", NS, "get", "deployment", GATEWAY, "--watch", "-o",
            "jsonpath={.metadata.generation} {.status.observedGeneration} {.status.readyReplicas} {.status.availableReplicas} {.status.updatedReplicas}{\"\\n\"}"]);
        let watched = "";
        watch.stdout.on("data", (b) => { watched += b; });
        const first = start(["scripts/deploy.sh", "up", "--stack", STACK, "--kubeconfig", KUBECONFIG, "--yes"]);
        // The lock is a row of the state table while the first up runs.
        const t0 = Date.now();
        while (!/locks/.test(pg.psql("SELECT key FROM pulumi_state", pg.database))) {
            assert.ok(Date.now() - t0 < 120_000, "the first up never took the lock");
            await new Promise((r) => setTimeout(r, 250));
        }
        const second = await deploySh("up", "--stack", STACK, "--kubeconfig", KUBECONFIG, "--yes");
        const firstRan = await first.done;
        const atEnd = deployment(GATEWAY).status;
        // The controller finishes the rollout whatever `up` reported; the watch covers all of it.
        execFileSync("kubectl", ["--kubeconfig", KUBECONFIG, "-n", NS, "rollout", "status", `deployment/${GATEWAY}`, "--timeout=120s"], { stdio: "ignore" });
        watch.kill();
        console.log(`      gateway at the end of up: ${atEnd.readyReplicas} ready, ${atEnd.updatedReplicas} updated of ${atEnd.replicas}; ` +
            `watched (generation observed ready available updated):\n${watched.trim().split("\n").map((l) => `        ${l}`).join("\n")}`);
        timings.upgrade = firstRan.seconds;
        assert.strictEqual(firstRan.status, 0, firstRan.out.slice(-4000));
        assert.notStrictEqual(second.status, 0, "a second up ran while the first held the lock");
        assert.match(second.out, /the stack is currently locked by 1 lock\(s\)\. Either wait for the other process\(es\) to end or delete the lock file with `pulumi cancel`\./);
        assert.match(second.out, /created by .*@.* \(pid \d+\)/, "the message says who holds the lock");
        assert.ok(!second.out.includes(pg.password), "the lock message hides the backend's password");

        const rows = watched.trim().split("\n").map((l) => l.split(" ").map((x) => Number(x || 0)));
        const rolling = rows.filter(([, , , , updated]) => updated > 0 && updated < 4);
        assert.ok(rolling.length > 0, `the watch saw no moment of the rollout:\n${watched}`);
        for (const [, , ready, available] of rows) {
            assert.ok(ready >= 4 && available >= 4, `the gateway dropped to ${ready} ready / ${available} available pods of 4:\n${watched}`);
        }
        assert.match(imageOf(GATEWAY), /:4\.3\.1$/);
        const d = deployment(GATEWAY);
        assert.deepStrictEqual([d.status.readyReplicas, d.status.updatedReplicas, d.status.replicas], [4, 4, 4]);
    });

    it("a rollout that never becomes ready fails the up in bounded time, naming the workload, and the old pods keep serving", async () => {
        const before = deployment(PORTAL).spec.template.spec.containers[0].resources;
        editStack((c) => { c["egov-platform:resources"] = { frontend: { requests: { cpu: "1000" }, limits: { cpu: "1000" } } }; });
        const r = await deploySh("up", "--stack", STACK, "--kubeconfig", KUBECONFIG, "--yes");
        timings.stuckRollout = r.seconds;
        assert.notStrictEqual(r.status, 0, "up succeeded although the new portal pods cannot be scheduled");
        assert.match(r.out, /frontend-portal-deployment/, r.out.slice(-4000));
        assert.match(r.out, /ProgressDeadlineExceeded/, "Kubernetes' verdict on the stuck rollout is in the error");
        assert.ok(r.seconds < READINESS_TIMEOUT + 10 + 90, `up took ${r.seconds}s to give up`);
        const d = deployment(PORTAL);
        assert.strictEqual(d.status.readyReplicas, 2, "the old pods still serve");
        assert.strictEqual(d.status.availableReplicas, 2);
        const pods = kubectlJson("-n", NS, "get", "pods", "-l", "app=frontend-portal").items as Obj[];
        const ready = pods.filter((p) => p.status.conditions?.some((c: Obj) => c.type === "Ready" && c.status === "True"));
        assert.strictEqual(ready.length, 2);
        for (const p of ready) assert.deepStrictEqual(p.spec.containers[0].resources.requests.cpu, before.requests.cpu, "the ready pods are the old ones");
        assert.ok(pods.some((p) => p.status.phase === "Pending"), "the new pod waits, unschedulable");
    });

    it("the state survives a restart of the PostgreSQL server", () => {
        pg.pgCtl("restart");
        const history = JSON.parse(pulumi("stack", "history", "--json")) as Obj[]; // newest first
        assert.deepStrictEqual(history.map((u) => `${u.kind}:${u.result}`).slice(0, 3), ["update:failed", "update:succeeded", "update:succeeded"]);
    });

    it("npm run rollback -- --to <first update> brings the old images back; credentials and volumes are untouched; then up changes nothing", async () => {
        const secret = () => kubectlJson("-n", NS, "get", "secret", "mysql-secret").data;
        const claims = () => (kubectlJson("-n", NS, "get", "pvc").items as Obj[]).map((c) => `${c.metadata.name}=${c.metadata.uid}`).sort();
        const [secretBefore, claimsBefore] = [secret(), claims()];
        // The DIY backends number no updates (version 0): rollback numbers them from the first, and lists them.
        const list = await deploySh("rollback", "--stack", STACK, "--list");
        assert.strictEqual(list.status, 0, list.out);
        assert.match(list.out, /^1\t\S+\tupdate\tsucceeded\timage.tag=4\.3\.0$/m);
        assert.match(list.out, /^2\t\S+\tupdate\tsucceeded\timage.tag=4\.3\.1$/m);
        assert.match(list.out, /^3\t\S+\tupdate\tfailed\timage.tag=4\.3\.1$/m);
        const first = 1;
        const r = await deploySh("rollback", "--stack", STACK, "--to", String(first), "--kubeconfig", KUBECONFIG, "--yes");
        timings.rollback = r.seconds;
        assert.strictEqual(r.status, 0, r.out.slice(-4000));
        assert.match(r.out, new RegExp(`config of update ${first} .* restored; keys changed: image, resources`));
        assert.match(r.out, new RegExp(`stack ops runs the configuration of update ${first} again`));
        assert.match(imageOf(GATEWAY), /:4\.3\.0$/);
        assert.match(imageOf(PORTAL), /:4\.3\.0$/);
        const portal = deployment(PORTAL);
        assert.deepStrictEqual([portal.status.readyReplicas, portal.status.updatedReplicas, portal.status.replicas], [2, 2, 2]);
        assert.deepStrictEqual(secret(), secretBefore, "generated credentials unchanged");
        assert.deepStrictEqual(claims(), claimsBefore, "the same volumes");
        const stackFile = parse(fs.readFileSync(path.join(work, `Pulumi.${STACK}.yaml`), "utf8")) as { config: Obj };
        assert.deepStrictEqual(stackFile.config["egov-platform:image"], { registry: "egovframe", tag: "4.3.0" }, "the stack file holds the config it runs");
        // The history records the project's defaults too: a key the target left unset may come back as its default.
        assert.deepStrictEqual(stackFile.config["egov-platform:resources"] ?? {}, {});

        const t0 = Date.now();
        pulumi("up", "--yes", "--skip-preview", "--expect-no-changes", "--parallel", "64");
        timings.noOpUp = (Date.now() - t0) / 1000;
    });
});
