// Credential rotation as rendered: generations, the Jobs that set server passwords first, the content hash that
// rolls exactly the pods that read a rotated credential, and `npm run rotate`'s edit of the stack file.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CREDENTIALS_HASH_ANNOTATION, ROTATE_SCRIPTS_DIR } from "../components/credentials";
import { configProblems, deploy, Deployed, GENERATED, Obj, ROOT, stackConfig, TS_LOADER, withObject } from "./support/harness";
import { PolicySet, podsOf } from "./support/netpol-eval";
import { assertEveryPodEnv } from "./support/invariants";
import { bumpGeneration } from "../scripts/lib/rotation";
import { slotUsers } from "../config/plan";

const workloads = (d: Deployed): Obj[] => [...d.of("Deployment"), ...d.of("StatefulSet")];
const hashes = (d: Deployed): Record<string, string | undefined> =>
    Object.fromEntries(workloads(d).map((w) => [w.metadata.name, w.spec.template.metadata.annotations?.[CREDENTIALS_HASH_ANNOTATION]]));
/** The Secrets a workload's containers read, from their env (the fact the annotation must follow). */
const secretsRead = (w: Obj): string[] => [...new Set((w.spec.template.spec.containers as Obj[]).flatMap((c) => (c.env ?? []) as Obj[])
    .flatMap((e) => (e.valueFrom?.secretKeyRef ? [String(e.valueFrom.secretKeyRef.name).replace(/-secret$/, "")] : [])))].sort();
const secretValue = (d: Deployed, name: string, key: string): string => d.find("Secret", name)?.stringData?.[key];
/** The rotation Jobs (the schema migration Job is always there: tests/migrate.test.ts). */
const rotationJobs = (d: Deployed) => d.of("Job").filter((j) => /-(rotate|retire)-g\d+$/.test(j.metadata.name as string));

describe("credential rotation (rendered)", () => {
    const base = stackConfig("dev");
    const rotated = (generations: Obj) => withObject(base, "rotation", generations);
    let unrotated: Deployed;
    before(async () => { unrotated = await deploy(base); });

    it("before any rotation: no rotation Job, no second copy of a password", () => {
        assert.deepStrictEqual(rotationJobs(unrotated), []);
        assert.strictEqual(unrotated.find("Secret", "mysql-rotation-secret"), undefined);
        assert.strictEqual(unrotated.find("ConfigMap", "rotate-scripts"), undefined);
    });

    it("every application pod template carries the hash of exactly the credentials it reads; the servers carry none (they need no restart)", () => {
        const h = hashes(unrotated);
        for (const w of workloads(unrotated)) {
            const name = w.metadata.name as string;
            if (name.startsWith("mysql") || name.startsWith("rabbitmq")) {
                assert.strictEqual(h[name], undefined, `${name} must not roll on a rotation: its Secret env is read only on first init`);
                continue;
            }
            const read = secretsRead(w);
            if (read.length === 0) { assert.strictEqual(h[name], undefined, name); continue; }
            assert.deepStrictEqual(h[name]?.split(",").map((p) => p.split("=")[0]), read, `${name}: hash of what it reads`);
            assert.ok(!h[name]?.includes(GENERATED), "the annotation holds digests, never a password");
        }
    });

    for (const [credential, secret, users] of [["mysql", "mysql", ["msaportal", "msaportal_b"]], ["rabbitmq", "rabbitmq", ["egov", "egov_b"]]] as const) {
        it(`${credential}: generations alternate two users; a Job sets up the new one, from the Secret that still holds the pods' user`, async () => {
            const d = await deploy(rotated({ [credential]: 1 }));
            const j = d.find("Job", `${credential}-rotate-g1`);
            assert.ok(j, `${credential}-rotate-g1 is rendered`);
            assertEveryPodEnv(d);
            const env = (job: Obj) => Object.fromEntries((job.spec.template.spec.containers[0].env as Obj[]).map((e) => [e.name, e]));
            const rot = env(j);
            // What the pods use now, read before the Secret changes: optional (a first deploy has no Secret yet).
            assert.deepStrictEqual(rot.CURRENT_USER.valueFrom.secretKeyRef, { name: `${secret}-secret`, key: "username", optional: true });
            if (credential === "mysql") {
                assert.deepStrictEqual(rot.ROOT_PASSWORD.valueFrom.secretKeyRef, { name: "mysql-secret", key: "root-password", optional: true });
                assert.strictEqual(rot.DATABASES.value, "msaportal reservation", "the databases the init SQL grants");
            } else {
                assert.deepStrictEqual(rot.CURRENT_PASSWORD.valueFrom.secretKeyRef, { name: "rabbitmq-secret", key: "password", optional: true });
            }
            assert.deepStrictEqual([rot.NEW_USER, rot.NEW_PASSWORD].map((e) => e.valueFrom.secretKeyRef),
                [{ name: `${credential}-rotation-secret`, key: "username" }, { name: `${credential}-rotation-secret`, key: "password" }]);
            // The next user and value are the ones the credential's Secret gets: generation 1 is the second user.
            const next = d.find("Secret", `${credential}-rotation-secret`)?.stringData;
            assert.deepStrictEqual(next, { username: users[1], password: secretValue(d, `${secret}-secret`, "password") });
            assert.strictEqual(secretValue(d, `${secret}-secret`, "username"), users[1]);
            assert.strictEqual(secretValue(unrotated, `${secret}-secret`, "username"), users[0], "generation 0 keeps the configured user");
            assert.notStrictEqual(next?.password, secretValue(unrotated, `${secret}-secret`, "password"));
            assert.strictEqual(secretValue(await deploy(rotated({ [credential]: 2 })), `${secret}-secret`, "username"), users[0], "generation 2: back to the first");
            // The retire Job locks the other slot's user, reading the Secret after it changed (not optional: it exists by then).
            const retire = d.find("Job", `${credential}-retire-g1`);
            assert.ok(retire, `${credential}-retire-g1 is rendered`);
            const ret = env(retire);
            assert.strictEqual(ret.RETIRE_USER.value, users[0]);
            assert.deepStrictEqual(ret.CURRENT_USER.valueFrom.secretKeyRef, { name: `${secret}-secret`, key: "username" });
            assert.strictEqual(ret.NEW_PASSWORD, undefined);
            // Every consumer takes the user from the Secret (env, served config): none names the first user literally.
            for (const w of [...workloads(d), ...d.of("CronJob").map((c) => c.spec.jobTemplate)]) {
                for (const e of (w.spec.template.spec.containers as Obj[]).flatMap((c) => (c.env ?? []) as Obj[])) {
                    assert.notStrictEqual(e.value, users[0], `${w.metadata?.name ?? "a CronJob"}: ${e.name} names ${users[0]}`);
                }
            }
            for (const c of d.of("ConfigMap").filter((x) => !/^(mysql-initdb|rotate-scripts)/.test(x.metadata.name as string))) {
                assert.doesNotMatch(JSON.stringify(c.data ?? {}), new RegExp(`username: *${users[0]}\\b`), `${c.metadata.name} names ${users[0]} as a user`);
            }
            // The Jobs run the tested script, shipped verbatim.
            const script = credential === "mysql" ? "mysql.sh" : "rabbitmq.py";
            assert.deepStrictEqual([j, retire].map((x) => x.spec.template.spec.containers[0].command.slice(1)), [[`/scripts/${script}`, "rotate"], [`/scripts/${script}`, "retire"]]);
            assert.strictEqual(d.of("ConfigMap").find((c) => c.data?.[script])?.data[script], fs.readFileSync(path.join(ROTATE_SCRIPTS_DIR, script), "utf8"));
            // Their pods may reach the server's port they use, and nothing else.
            const pols = new PolicySet(d.of("NetworkPolicy"));
            const pods = podsOf(workloads(d));
            for (const job of [j, retire]) {
                assert.strictEqual(job.spec.template.spec.securityContext.runAsNonRoot, true);
                const jobPod = { namespace: job.metadata.namespace, labels: job.spec.template.metadata.labels, ports: [] };
                const port = credential === "mysql" ? 3306 : 15672;
                assert.ok(pols.allows(jobPod, pods.get(credential)!, port), `${job.metadata.name} reaches ${credential}:${port}`);
                assert.ok(!pols.allows(jobPod, pods.get("discovery")!, 8761), "and nothing else");
            }
        });
    }

    it("the second user fits MySQL's 32 characters and never equals the first; the init SQL prepares both, the second locked", async () => {
        assert.deepStrictEqual(slotUsers("msaportal"), ["msaportal", "msaportal_b"]);
        const long = "a".repeat(32);
        assert.deepStrictEqual(slotUsers(long), [long, `${"a".repeat(30)}_b`]);
        const ending = `${"a".repeat(30)}_b`;
        assert.deepStrictEqual(slotUsers(ending), [ending, `${"a".repeat(30)}_c`]);
        const init = unrotated.of("ConfigMap").find((c) => (c.metadata.name as string).startsWith("mysql-initdb"))!.data["00-egov-databases.sql"] as string;
        assert.match(init, /^CREATE USER IF NOT EXISTS 'msaportal'@'%' ACCOUNT LOCK;\nCREATE USER IF NOT EXISTS 'msaportal_b'@'%' ACCOUNT LOCK;\n/);
        for (const db of ["msaportal", "reservation"]) {
            for (const u of ["msaportal", "msaportal_b"]) assert.ok(init.includes(`GRANT ALL PRIVILEGES ON \`${db}\`.* TO '${u}'@'%';`), `${u} on ${db}`);
        }
        assert.doesNotMatch(init, /IDENTIFIED/, "no password in the init SQL");
    });

    for (const credential of ["mysql", "rabbitmq", "eureka", "token"] as const) {
        it(`${credential}: a new generation rolls exactly the workloads that read it`, async () => {
            const d = await deploy(rotated({ [credential]: 1 }));
            const [h0, h1] = [hashes(unrotated), hashes(d)];
            const readers = workloads(d).filter((w) => secretsRead(w).includes(credential)).map((w) => w.metadata.name as string)
                .filter((n) => h0[n] !== undefined);
            assert.ok(readers.length > 0);
            for (const w of workloads(d)) {
                const n = w.metadata.name as string;
                if (readers.includes(n)) assert.notStrictEqual(h1[n], h0[n], `${n} reads ${credential}: it rolls`);
                else assert.strictEqual(h1[n], h0[n], `${n} does not read ${credential}: it stays`);
            }
            if (credential === "eureka" || credential === "token") assert.deepStrictEqual(rotationJobs(d), [], "no server to tell first");
        });
    }

    it("the provider updates a changed Secret in place: replacing a fixed-name Secret would delete and recreate its workloads", () => {
        const provider = unrotated.all.find((r) => r.type === "pulumi:providers:kubernetes")!;
        assert.ok([true, "true"].includes(provider.obj.enableSecretMutable), JSON.stringify(provider.obj));
    });

    it("a no-op: the same generation renders the same objects", async () => {
        const [a, b] = [await deploy(rotated({ mysql: 2 })), await deploy(withObject(stackConfig("dev", {}), "rotation", { mysql: 2 }))];
        assert.deepStrictEqual(hashes(a), hashes(b));
    });

    it("config: generations are whole numbers >= 0 of the four credentials", () => {
        assert.deepStrictEqual(configProblems(rotated({ mysql: 3, token: 1 })), []);
        assert.match(configProblems(rotated({ mysql: -1 })).join("\n"), /rotation\.mysql: -1 is not allowed; expected a whole number from 0/);
        assert.match(configProblems(rotated({ postgres: 1 })).join("\n"), /rotation\.postgres: 1 is not allowed; expected a known field of rotation: mysql, rabbitmq, eureka, token/);
    });

    describe("npm run rotate", () => {
        let dir: string;
        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-rotate-"));
            fs.copyFileSync(path.join(ROOT, "Pulumi.prod.yaml"), path.join(dir, "Pulumi.prod.yaml"));
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

        it("raises the generation in the stack file, keeping its comments; the next raise goes on from there", () => {
            const file = path.join(dir, "Pulumi.prod.yaml");
            assert.deepStrictEqual(bumpGeneration(file, "mysql"), { from: 0, to: 1 });
            assert.deepStrictEqual(bumpGeneration(file, "mysql"), { from: 1, to: 2 });
            assert.deepStrictEqual(bumpGeneration(file, "token"), { from: 0, to: 1 });
            const text = fs.readFileSync(file, "utf8");
            assert.ok(text.startsWith(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8").split("\n")[0]), "the header comment stays");
            assert.match(text, /egov-platform:rotation:\n\s+mysql: 2\n\s+token: 1/);
        });

        it("refuses an unknown credential and changes nothing; --no-deploy only edits the file", () => {
            const run = (...args: string[]) => spawnSync(process.execPath, ["-r", TS_LOADER, path.join(ROOT, "scripts", "rotate.ts"),
                "--stack", "prod", ...args], { encoding: "utf8", env: { ...process.env, EGOV_PROJECT_DIR: dir } });
            const bad = run("--credential", "postgres");
            assert.notStrictEqual(bad.status, 0);
            assert.match(bad.stderr, /--credential postgres is not one of mysql, rabbitmq, eureka, token/);
            assert.strictEqual(fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8"), fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8"));
            const ok = run("--credential", "rabbitmq", "--no-deploy");
            assert.strictEqual(ok.status, 0, ok.stderr);
            assert.match(ok.stderr, /rotation\.rabbitmq 0 -> 1\nOn the next up of stack prod: a Job sets up the next of two alternating RabbitMQ users/);
            assert.match(fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8"), /rotation:\n\s+rabbitmq: 1/);
        });

        it("--yes deploys the stack (npm run deploy's script, from the project directory) and exits with its status; without it and no terminal, it does not", () => {
            // A `bash` first on PATH stands in for the deploy: it records what rotate.ts ran it with, and where.
            const bin = path.join(dir, "bin");
            fs.mkdirSync(bin);
            fs.writeFileSync(path.join(bin, "bash"), `#!/bin/sh\nprintf '%s\\n' "$PWD" "$@" > "${dir}/deployed"\nexit 7\n`, { mode: 0o755 });
            const run = (...args: string[]) => spawnSync(process.execPath, ["-r", TS_LOADER, path.join(ROOT, "scripts", "rotate.ts"),
                "--stack", "prod", "--credential", "mysql", ...args], { encoding: "utf8", input: "", env: { ...process.env, EGOV_PROJECT_DIR: dir, PATH: `${bin}:${process.env.PATH}` } });
            const asked = run();
            assert.strictEqual(asked.status, 0, asked.stderr);
            assert.match(asked.stderr, /Not deployed\. The generation is raised/);
            assert.ok(!fs.existsSync(path.join(dir, "deployed")), "no deploy without --yes");
            const yes = run("--yes");
            assert.strictEqual(yes.status, 7, "the deploy's exit status");
            assert.deepStrictEqual(fs.readFileSync(path.join(dir, "deployed"), "utf8").trim().split("\n"),
                [fs.realpathSync(dir), path.join(ROOT, "scripts", "deploy.sh"), "up", "--stack", "prod"]);
            assert.match(fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8"), /rotation:\n\s+mysql: 2/, "raised once per run");
        });
    });
});
