// Rotation without a window, on real servers: MariaDB and RabbitMQ from Debian. The scripts of jobs/rotate/ run with
// the command and env of the rendered Jobs (components/rotation.ts), their Secret references resolved from the
// Secrets in force at that step of Pulumi's order, while simulated pods keep opening new connections with the
// credentials of the Secret as it was when each pod started, and a rollout replaces them one by one.
import * as assert from "assert";
import { ChildProcess, execFile, spawn } from "child_process";
import * as os from "os";
import { promisify } from "util";
import { ROTATE_SCRIPTS_DIR } from "../components/credentials";
import { Deployed, deploy, Obj, stackConfig, withObject } from "./support/harness";
import { AmqpConnection, AmqpError } from "./support/amqp";
import { Server } from "./support/mariadb";
import { Broker } from "./support/rabbitmq";
import { freePort } from "./support/ports";

const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the cluster's Secrets hold: name -> key -> value. */
type Secrets = Record<string, Record<string, string>>;
interface Creds { readonly user: string; readonly password: string }
interface Run { readonly status: number | null; readonly out: string }

/** The dev stack rendered at these generations (both server credentials). */
const rendered = (g: number): Promise<Deployed> => deploy(withObject(stackConfig("dev"), "rotation", { mysql: g, rabbitmq: g }));
const secretOf = (d: Deployed, name: string): Record<string, string> => ({ ...(d.find("Secret", name)?.stringData as Record<string, string>) });
const credsOf = (s: Secrets, name: "mysql-secret" | "rabbitmq-secret"): Creds => ({ user: s[name].username, password: s[name].password });

// Started when mocha loads this file: the servers boot while the in-process suites before it run.
const servers = Promise.all([Server.start("rotation"), Server.start("first-deploy"), rendered(0)
    .then((d) => Broker.start(secretOf(d, "rabbitmq-secret").username, secretOf(d, "rabbitmq-secret").password))]);
servers.catch(() => undefined);

/** New connections from simulated pods, each holding the credentials it started with, counted per phase. */
class Pods {
    phase = "";
    readonly counts = new Map<string, { ok: number; failed: number }>();
    readonly failures: string[] = [];
    private readonly pods = new Map<number, { stop: boolean; done: Promise<void>; creds: Creds }>();
    constructor(readonly server: string, private readonly connect: (c: Creds) => Promise<void>) {}

    start(id: number, creds: Creds): void {
        const pod = { stop: false, done: Promise.resolve(), creds };
        pod.done = (async () => {
            while (!pod.stop) {
                const phase = this.phase;
                const c = this.counts.get(phase) ?? { ok: 0, failed: 0 };
                this.counts.set(phase, c);
                try {
                    await this.connect(creds);
                    c.ok++;
                } catch (e) {
                    c.failed++;
                    this.failures.push(`${this.server} pod ${id} (${creds.user}) during "${phase}": ${(e as Error).message.split("\n").slice(-2).join(" ")}`);
                }
                await sleep(5);
            }
        })();
        this.pods.set(id, pod);
    }

    /** A rolling update's step: the old pod goes, a new one starts with the Secret as it is now. */
    async replace(id: number, creds: Creds): Promise<void> {
        const old = this.pods.get(id)!;
        old.stop = true;
        await old.done;
        this.start(id, creds);
    }

    async stop(): Promise<void> {
        for (const p of this.pods.values()) p.stop = true;
        await Promise.all([...this.pods.values()].map((p) => p.done));
    }
}

describe("credential rotation without a window on real servers (MariaDB, RabbitMQ; jobs/rotate/)", function () {
    this.timeout(300_000);
    const POD_COUNT = 3;
    const transcript: string[] = [];
    let db: Server;
    let fresh: Server;
    let broker: Broker;
    let databases: string[];
    /** The cluster's Secrets as Pulumi leaves them after each step. */
    let secrets: Secrets;
    let mysqlPods: Pods;
    let rabbitPods: Pods;
    const held: { mysql?: ChildProcess; mysqlOut: string; amqp?: AmqpConnection } = { mysqlOut: "" };

    /** Runs a rendered Job's container as the kubelet would: its command (scripts from jobs/rotate/), its env with the
     * Secret references resolved (an optional key of a missing Secret is left out), the test's server addresses. */
    const runJob = async (d: Deployed, name: string, s: Secrets, server: { mysqlPort?: number; rabbitmqUrl?: string } = {}): Promise<Run> => {
        const job = d.find("Job", name);
        assert.ok(job, `${name} is rendered`);
        const container = job.spec.template.spec.containers[0] as Obj;
        const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: os.tmpdir() };
        for (const e of container.env as Obj[]) {
            const ref = e.valueFrom?.secretKeyRef;
            if (!ref) { env[e.name] = e.value; continue; }
            const value = s[ref.name]?.[ref.key];
            if (value === undefined) { assert.ok(ref.optional, `${name}: ${e.name} reads ${ref.name}/${ref.key}, which is missing`); continue; }
            env[e.name] = value;
        }
        Object.assign(env, { MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(server.mysqlPort ?? db.port), RABBITMQ_URL: server.rabbitmqUrl ?? broker.url, TMPDIR: os.tmpdir() });
        const [cmd, ...args] = (container.command as string[]).map((a) => a.replace(/^\/scripts\//, `${ROTATE_SCRIPTS_DIR}/`));
        const child = spawn(cmd, args, { env });
        let out = "";
        child.stdout.on("data", (b: Buffer) => { out += b.toString(); });
        child.stderr.on("data", (b: Buffer) => { out += b.toString(); });
        const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
        transcript.push(`$ ${name} (${container.command.slice(1).join(" ")})`, ...out.trim().split("\n").map((l) => `  ${l}`));
        for (const v of Object.values(s).flatMap((x) => [x.password, x["root-password"]])) assert.ok(!v || !out.includes(v), `${name} printed a password`);
        return { status, out };
    };

    /** One new MySQL connection as a pod opens it: log in, then read each database. */
    const mysqlConnect = (server: Server) => async (c: Creds): Promise<void> => {
        await execFileAsync("mariadb", ["--no-defaults", "--protocol=tcp", "-h127.0.0.1", `-P${server.port}`, `-u${c.user}`, `-p${c.password}`,
            "--batch", "--skip-column-names", "-e", databases.map((d) => `SELECT COUNT(*) FROM \`${d}\`.probe;`).join(" ")]);
    };
    const mysqlRefusal = async (server: Server, c: Creds): Promise<string> => {
        try {
            await mysqlConnect(server)(c);
            return "";
        } catch (e) {
            return (e as Error).message;
        }
    };
    /** One new AMQP connection: log in, open a channel, close. */
    const amqpConnect = async (c: Creds): Promise<void> => {
        const conn = await AmqpConnection.open(broker.amqpPort, c.user, c.password);
        await conn.channel();
        await conn.close();
    };
    const amqpRefusal = async (c: Creds): Promise<number> => {
        try {
            await amqpConnect(c);
            return 0;
        } catch (e) {
            return e instanceof AmqpError ? e.code : -1;
        }
    };
    const heldAnswers = async (tag: string): Promise<void> => {
        held.mysql?.stdin?.write(`SELECT CONCAT('${tag}-', CONNECTION_ID());\n`);
        const deadline = Date.now() + 10_000;
        while (!new RegExp(`${tag}-\\d+`).test(held.mysqlOut)) {
            assert.ok(Date.now() < deadline && held.mysql?.exitCode === null, `the held MySQL connection did not answer: ${held.mysqlOut}`);
            await sleep(20);
        }
        await held.amqp!.channel();
    };

    /** The platform's first deploy at generation `g`: the server initialised from the rendered Secret and init SQL. */
    const initialise = async (server: Server, d: Deployed): Promise<void> => {
        const s = secretOf(d, "mysql-secret");
        const initSql = d.of("ConfigMap").find((c) => (c.metadata.name as string).startsWith("mysql-initdb"))!.data["00-egov-databases.sql"] as string;
        // As the image's entrypoint: root from anywhere (MYSQL_ROOT_HOST=%), MYSQL_USER with MYSQL_PASSWORD on MYSQL_DATABASE; then the init SQL.
        // mariadb-install-db's password-less root@127.0.0.1 would match TCP logins before root@'%'.
        server.sql("DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1'");
        server.sql(`CREATE USER 'root'@'%' IDENTIFIED BY '${s["root-password"]}'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;` +
            `CREATE DATABASE \`${databases[0]}\`; CREATE USER '${s.username}'@'%' IDENTIFIED BY '${s.password}'; ` +
            `GRANT ALL PRIVILEGES ON \`${databases[0]}\`.* TO '${s.username}'@'%';`);
        server.sql(initSql);
        for (const name of databases) server.sql(`CREATE TABLE \`${name}\`.probe (id INT)`);
    };

    /** Users' state on both servers (hashes, locks, grants, tags, permissions): what "changes nothing" compares. */
    const state = async (users: readonly string[], rabbitUsers: readonly string[]): Promise<string> => {
        const mysql = users.map((u) => `${db.sql(`SHOW CREATE USER '${u}'@'%'`)}${db.sql(`SHOW GRANTS FOR '${u}'@'%'`)}`).join("");
        const as = credsOf(secrets, "rabbitmq-secret");
        const rabbit = await Promise.all(rabbitUsers.map(async (u) => JSON.stringify([await broker.get(`/api/users/${u}`, as),
            await broker.get(`/api/users/${u}/permissions`, as)])));
        return mysql + rabbit.join("\n");
    };

    before(async () => {
        [db, fresh, broker] = await servers;
        const d0 = await rendered(0);
        // The databases the rotate Job grants (its DATABASES): the ones the init SQL creates.
        databases = (await rendered(1)).find("Job", "mysql-rotate-g1")!.spec.template.spec.containers[0].env
            .find((e: Obj) => e.name === "DATABASES").value.split(" ");
        assert.ok(databases.length >= 2, `the dev stack's databases: ${databases}`);
        await initialise(db, d0);
        // The cluster after the first deploy: the Secrets of generation 0 (no rotation Secret yet).
        secrets = { "mysql-secret": secretOf(d0, "mysql-secret"), "rabbitmq-secret": secretOf(d0, "rabbitmq-secret") };
        mysqlPods = new Pods("MySQL", mysqlConnect(db));
        rabbitPods = new Pods("RabbitMQ", amqpConnect);
        // Connections opened before any rotation and kept open throughout (a pool's, a listener's).
        const m = credsOf(secrets, "mysql-secret");
        held.mysql = spawn("mariadb", ["--no-defaults", "--protocol=tcp", "-h127.0.0.1", `-P${db.port}`, `-u${m.user}`, `-p${m.password}`,
            "--batch", "--unbuffered", "--skip-column-names", databases[0]], { stdio: ["pipe", "pipe", "pipe"] });
        held.mysql.stdout?.on("data", (b: Buffer) => { held.mysqlOut += b.toString(); });
        const r = credsOf(secrets, "rabbitmq-secret");
        held.amqp = await AmqpConnection.open(broker.amqpPort, r.user, r.password);
        await heldAnswers("before");
    });

    after(async () => {
        await mysqlPods?.stop();
        await rabbitPods?.stop();
        held.mysql?.kill();
        held.amqp?.destroy();
        broker?.stop();
        await Promise.all([db?.stop(), fresh?.stop()]);
        console.log(`\n  Rotation on real servers (for the issue notes):\n${transcript.map((l) => `    ${l}`).join("\n")}\n`);
    });

    /**
     * One `up` raising both generations from g to g + 1, in Pulumi's order (components/credentials.ts, platform.ts):
     * rotation Secrets, rotate Jobs, Secrets, rolling updates, retire Jobs; pods connecting throughout.
     */
    const rotation = async (g: number): Promise<void> => {
        const next = await rendered(g + 1);
        const setPhase = (p: string) => { mysqlPods.phase = p; rabbitPods.phase = p; };
        // A phase lasts at least `ms` and until both servers saw a few new connections in it: on a loaded machine a
        // fixed window can pass with none, which would prove nothing (up to a minute, then the assertion below names it).
        const hold = async (ms: number) => {
            const end = Date.now() + 60_000;
            await sleep(ms);
            const seen = (pods: Pods) => pods.counts.get(pods.phase)?.ok ?? 0;
            while ((seen(mysqlPods) < 3 || seen(rabbitPods) < 3) && Date.now() < end) await sleep(100);
        };
        setPhase("1 before");
        for (let i = 0; i < POD_COUNT; i++) {
            if (g === 0) {
                mysqlPods.start(i, credsOf(secrets, "mysql-secret"));
                rabbitPods.start(i, credsOf(secrets, "rabbitmq-secret"));
            }
        }
        const oldCreds = { mysql: credsOf(secrets, "mysql-secret"), rabbit: credsOf(secrets, "rabbitmq-secret") };
        await hold(800);
        setPhase("2 rotate Jobs");
        secrets["mysql-rotation-secret"] = secretOf(next, "mysql-rotation-secret");
        secrets["rabbitmq-rotation-secret"] = secretOf(next, "rabbitmq-rotation-secret");
        for (const job of [`mysql-rotate-g${g + 1}`, `rabbitmq-rotate-g${g + 1}`]) {
            const r = await runJob(next, job, secrets);
            assert.strictEqual(r.status, 0, r.out);
            assert.match(r.out, /checked: \S+ logs in with the new password.* is untouched/);
        }
        await hold(500);
        setPhase("3 Secrets changed, pods not rolled");
        secrets["mysql-secret"] = secretOf(next, "mysql-secret");
        secrets["rabbitmq-secret"] = secretOf(next, "rabbitmq-secret");
        const newCreds = { mysql: credsOf(secrets, "mysql-secret"), rabbit: credsOf(secrets, "rabbitmq-secret") };
        assert.notStrictEqual(newCreds.mysql.user, oldCreds.mysql.user, "the generation's user is the other slot");
        await hold(500);
        setPhase("4 rolling update");
        for (let i = 0; i < POD_COUNT; i++) {
            await mysqlPods.replace(i, newCreds.mysql);
            await rabbitPods.replace(i, newCreds.rabbit);
            await sleep(300);
        }
        await hold(0);
        setPhase("5 retire Jobs");
        for (const job of [`mysql-retire-g${g + 1}`, `rabbitmq-retire-g${g + 1}`]) {
            const r = await runJob(next, job, secrets);
            assert.strictEqual(r.status, 0, r.out);
        }
        await hold(0);
        setPhase("6 after");
        await hold(500);
        setPhase("idle");

        const table = [...mysqlPods.counts.keys()].filter((p) => p !== "idle").sort().map((p) =>
            `${p.padEnd(36)} MySQL ${String(mysqlPods.counts.get(p)!.ok).padStart(4)} ok ${mysqlPods.counts.get(p)!.failed} failed   ` +
            `RabbitMQ ${String(rabbitPods.counts.get(p)?.ok ?? 0).padStart(4)} ok ${rabbitPods.counts.get(p)?.failed ?? 0} failed`);
        console.log(`\n  rotation g${g} -> g${g + 1} (${oldCreds.mysql.user} -> ${newCreds.mysql.user}, ${oldCreds.rabbit.user} -> ${newCreds.rabbit.user}), ` +
            `new connections of ${POD_COUNT} pods per server:\n${table.map((l) => `    ${l}`).join("\n")}\n`);
        transcript.push(`rotation g${g} -> g${g + 1}: new connections per phase`, ...table.map((l) => `  ${l}`));
        assert.deepStrictEqual([...mysqlPods.failures, ...rabbitPods.failures], [], "no pod saw a failed connection");
        for (const [p, c] of [...mysqlPods.counts, ...rabbitPods.counts]) if (p !== "idle") assert.ok(c.ok > 0, `connections during "${p}"`);
        for (const pods of [mysqlPods, rabbitPods]) pods.counts.clear();

        // After the retire Job: the old user's password no longer logs in, the new one does; open connections stay.
        assert.match(await mysqlRefusal(db, oldCreds.mysql), /Access denied|locked/i, "the previous MySQL user is refused");
        assert.strictEqual(await mysqlRefusal(db, newCreds.mysql), "");
        assert.strictEqual(await amqpRefusal(oldCreds.rabbit), 403, "the previous RabbitMQ user is refused (ACCESS_REFUSED)");
        assert.strictEqual(await amqpRefusal(newCreds.rabbit), 0);
        await heldAnswers(`after-g${g + 1}`);
    };

    it("generation 0 -> 1 (to the second users): zero failed connections through the whole rotation; afterwards the old users are refused", async () => {
        await rotation(0);
        const tags = (await broker.get(`/api/users/${credsOf(secrets, "rabbitmq-secret").user}`, credsOf(secrets, "rabbitmq-secret")) as { tags: unknown }).tags;
        assert.deepStrictEqual(tags, ["administrator"], "the new RabbitMQ user has the first user's tag");
    });

    it("generation 1 -> 2 (back to the first users, unlocked with a new password): zero failed connections again", async () => {
        await rotation(1);
    });

    it("an idempotent re-run of the generation's Jobs changes nothing", async () => {
        const d = await rendered(2);
        const users = [credsOf(secrets, "mysql-secret").user, (await rendered(1)).find("Secret", "mysql-secret")!.stringData.username as string];
        const rabbitUsers = [credsOf(secrets, "rabbitmq-secret").user, (await rendered(1)).find("Secret", "rabbitmq-secret")!.stringData.username as string];
        const before = await state(users, rabbitUsers);
        for (const job of ["mysql-rotate-g2", "rabbitmq-rotate-g2", "mysql-retire-g2", "rabbitmq-retire-g2"]) {
            const r = await runJob(d, job, secrets);
            assert.strictEqual(r.status, 0, r.out);
            assert.match(r.out, /nothing to change/, job);
        }
        assert.strictEqual(await state(users, rabbitUsers), before);
    });

    it("refuses what would lock the pods out, and changes nothing: a skipped generation, a retire of the pods' user, a wrong root password, no server", async () => {
        const [d1, d2] = [await rendered(1), await rendered(2)];
        const users = [credsOf(secrets, "mysql-secret").user, secretOf(d1, "mysql-secret").username];
        const rabbitUsers = [credsOf(secrets, "rabbitmq-secret").user, secretOf(d1, "rabbitmq-secret").username];
        const before = await state(users, rabbitUsers);
        // Generation 2 -> 4 without an up between: generation 4's user is the one the pods hold now, with a new password.
        const skipped = { ...secrets, "mysql-rotation-secret": { ...secrets["mysql-secret"], password: "SkippedGenerationPassw0rd4" },
            "rabbitmq-rotation-secret": { ...secrets["rabbitmq-secret"], password: "SkippedGenerationPassw0rd4" } };
        for (const job of ["mysql-rotate-g2", "rabbitmq-rotate-g2"]) {
            const r = await runJob(d2, job, skipped);
            assert.notStrictEqual(r.status, 0);
            assert.match(r.out, /is the one the pods use now .*raise the generation by one .*nothing was changed/, job);
        }
        // A retire Job while the Secret still names the user it would lock (the Secret of generation 1).
        const stale = { ...secrets, "mysql-secret": secretOf(d1, "mysql-secret"), "rabbitmq-secret": secretOf(d1, "rabbitmq-secret") };
        for (const job of ["mysql-retire-g2"]) {
            const r = await runJob(d2, job, stale);
            assert.notStrictEqual(r.status, 0);
            assert.match(r.out, /refusing to lock \S+: the mysql Secret names it/);
        }
        const wrongRoot = { ...secrets, "mysql-secret": { ...secrets["mysql-secret"], "root-password": "WrongRootPassw0rd9" },
            "mysql-rotation-secret": secretOf(await rendered(3), "mysql-rotation-secret") };
        const r = await runJob(await rendered(3), "mysql-rotate-g3", wrongRoot);
        assert.notStrictEqual(r.status, 0);
        assert.match(r.out, /cannot log in to 127\.0\.0\.1:\d+ as root: .*Access denied.*nothing was changed/);
        const down = await runJob(await rendered(3), "mysql-rotate-g3", { ...secrets, "mysql-rotation-secret": wrongRoot["mysql-rotation-secret"] },
            { mysqlPort: await freePort() });
        assert.notStrictEqual(down.status, 0);
        assert.match(down.out, /cannot log in to 127\.0\.0\.1:\d+ as root/);
        const rabbitDown = await runJob(await rendered(3), "rabbitmq-rotate-g3",
            { ...secrets, "rabbitmq-rotation-secret": secretOf(await rendered(3), "rabbitmq-rotation-secret") }, { rabbitmqUrl: `http://127.0.0.1:${await freePort()}` });
        assert.notStrictEqual(rabbitDown.status, 0);
        assert.match(rabbitDown.out, /cannot read user \S+ .*Connection refused.*nothing was changed/);
        assert.strictEqual(await state(users, rabbitUsers), before, "nothing changed on either server");
        assert.strictEqual(await mysqlRefusal(db, credsOf(secrets, "mysql-secret")), "", "the pods' MySQL user still logs in");
        assert.strictEqual(await amqpRefusal(credsOf(secrets, "rabbitmq-secret")), 0, "the pods' RabbitMQ user still logs in");
    });

    it("a first deploy at generation 1: the server's initialisation creates the generation's user, the Jobs find nothing to do", async () => {
        const d1 = await rendered(1);
        // Before the Secrets exist (the Jobs run first): nothing to rotate.
        const none = { "mysql-rotation-secret": secretOf(d1, "mysql-rotation-secret"), "rabbitmq-rotation-secret": secretOf(d1, "rabbitmq-rotation-secret") };
        const m = await runJob(d1, "mysql-rotate-g1", none, { mysqlPort: fresh.port });
        assert.strictEqual(m.status, 0, m.out);
        assert.match(m.out, /no mysql Secret yet \(first deploy\).*nothing to rotate/);
        const r = await runJob(d1, "rabbitmq-rotate-g1", none);
        assert.strictEqual(r.status, 0, r.out);
        assert.match(r.out, /no rabbitmq Secret yet \(first deploy\).*nothing to rotate/);
        // The server initialised from the Secret of generation 1 and the init SQL: its user reaches every database.
        await initialise(fresh, d1);
        const s1 = { "mysql-secret": secretOf(d1, "mysql-secret") };
        assert.strictEqual(await mysqlRefusal(fresh, credsOf(s1, "mysql-secret")), "");
        const retire = await runJob(d1, "mysql-retire-g1", s1, { mysqlPort: fresh.port });
        assert.strictEqual(retire.status, 0, retire.out);
        assert.match(retire.out, /is already locked: nothing to change/, "the other slot's user was created locked, without a password");
        // The next rotation unlocks it with a password: the full cycle works from this start too.
        const d2 = await rendered(2);
        const s2 = { ...s1, "mysql-rotation-secret": secretOf(d2, "mysql-rotation-secret") };
        const rot = await runJob(d2, "mysql-rotate-g2", s2, { mysqlPort: fresh.port });
        assert.strictEqual(rot.status, 0, rot.out);
        assert.strictEqual(await mysqlRefusal(fresh, { user: s2["mysql-rotation-secret"].username, password: s2["mysql-rotation-secret"].password }), "");
        assert.strictEqual(await mysqlRefusal(fresh, credsOf(s1, "mysql-secret")), "", "the pods' user is untouched");
    });
});
