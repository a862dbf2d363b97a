// jobs/rotate/rabbitmq.py, the payload of the rabbitmq-rotate-g<N> Job (components/rotation.ts), against a real
// broker: Debian's rabbitmq-server with the management plugin, a throwaway node of its own (installed by .ci/run).
import * as assert from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROTATE_SCRIPTS_DIR } from "../components/credentials";
import { freePort } from "./support/ports";

const SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const USER = "egov";
const OLD = "OldRabbitPassw0rd1";
const NEW = "NewRabbitPassw0rd2";

/** A broker node of its own: data, logs, cookie, epmd and every port private to this run. */
class Broker {
    private proc?: ChildProcess;
    private constructor(readonly dir: string, readonly mgmtPort: number, readonly epmdPort: number) {}

    static async start(): Promise<Broker> {
        assert.ok(fs.existsSync(SERVER), `${SERVER} is missing: apt-get install -y rabbitmq-server (.ci/run does)`);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-rabbitmq-"));
        const [amqp, mgmt, dist, epmd] = [await freePort(), await freePort(), await freePort(), await freePort()];
        const b = new Broker(dir, mgmt, epmd);
        fs.writeFileSync(path.join(dir, "rabbitmq.conf"), [`listeners.tcp.default = 127.0.0.1:${amqp}`, `management.tcp.port = ${mgmt}`,
            "management.tcp.ip = 127.0.0.1", `default_user = ${USER}`, `default_pass = ${OLD}`, ""].join("\n"));
        fs.writeFileSync(path.join(dir, "enabled_plugins"), "[rabbitmq_management].\n");
        b.proc = spawn(SERVER, [], {
            // A process group of its own: the start script runs the node in the background, and stop() ends the group.
            cwd: dir, stdio: "ignore", detached: true,
            env: {
                PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, RABBITMQ_CONFIG_FILE: path.join(dir, "rabbitmq.conf"),
                RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, "enabled_plugins"), RABBITMQ_MNESIA_BASE: path.join(dir, "mnesia"),
                RABBITMQ_LOG_BASE: path.join(dir, "log"), RABBITMQ_PLUGINS_EXPAND_DIR: path.join(dir, "plugins"),
                RABBITMQ_NODENAME: `rabbit-egov-${mgmt}@localhost`, RABBITMQ_DIST_PORT: String(dist), ERL_EPMD_PORT: String(epmd),
            },
        });
        b.proc.unref();
        live.add(b);
        const deadline = Date.now() + 90_000;
        while ((await b.whoami(OLD)) !== 200) {
            assert.ok(Date.now() < deadline && b.proc.exitCode === null, `the broker did not start (logs in ${dir}/log)`);
            await new Promise((r) => setTimeout(r, 250));
        }
        return b;
    }

    get url(): string { return `http://127.0.0.1:${this.mgmtPort}`; }

    /** The management API's answer to the user with this password: 200, 401, or 0 when unreachable. */
    async whoami(password: string): Promise<number> {
        try {
            const r = await fetch(`${this.url}/api/whoami`, { headers: { authorization: `Basic ${Buffer.from(`${USER}:${password}`).toString("base64")}` } });
            return r.status;
        } catch {
            return 0;
        }
    }

    async tags(password: string): Promise<unknown> {
        const r = await fetch(`${this.url}/api/users/${USER}`, { headers: { authorization: `Basic ${Buffer.from(`${USER}:${password}`).toString("base64")}` } });
        return ((await r.json()) as { tags: unknown }).tags;
    }

    stop(): void {
        if (this.proc?.pid) {
            try { process.kill(-this.proc.pid, "SIGKILL"); } catch { /* already gone */ }
        }
        // Its epmd (a daemon the node started) refuses to stop until it has seen the node go: a few tries.
        for (let i = 0; i < 20; i++) {
            if (spawnSync("epmd", ["-kill"], { env: { ...process.env, ERL_EPMD_PORT: String(this.epmdPort) }, encoding: "utf8" }).stdout.trim() === "Killed") break;
            spawnSync("sleep", ["0.1"]);
        }
        fs.rmSync(this.dir, { recursive: true, force: true });
        live.delete(this);
    }
}

const live = new Set<Broker>();
process.on("exit", () => { for (const b of live) b.stop(); });
// Started when mocha loads this file, so the broker's boot overlaps the tests that run before this one.
const broker = Broker.start();
broker.catch(() => undefined);

describe("RabbitMQ credential rotation (jobs/rotate/rabbitmq.py) against a real broker", function () {
    this.timeout(120_000);
    let b: Broker;
    const transcript: string[] = [];
    const rotate = (env: Record<string, string>) => {
        const r = spawnSync("python3", [path.join(ROTATE_SCRIPTS_DIR, "rabbitmq.py")], {
            encoding: "utf8",
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/", RABBITMQ_URL: b.url, RABBITMQ_USER: USER, ...env },
        });
        transcript.push("$ rotate/rabbitmq.py", ...`${r.stdout}${r.stderr}`.trim().split("\n").map((l) => `  ${l}`));
        for (const secret of [OLD, NEW]) assert.ok(!`${r.stdout}${r.stderr}`.includes(secret), "the script printed a password");
        return r;
    };

    before(async () => { b = await broker; });
    after(() => {
        b?.stop();
        console.log(`\n  RabbitMQ rotation (for the issue notes):\n${transcript.map((l) => `    ${l}`).join("\n")}\n`);
    });

    it("sets the new password logging in with the current one: old works before, new after, old refused after; tags kept", async () => {
        assert.strictEqual(await b.whoami(OLD), 200, "the old password works before");
        assert.strictEqual(await b.whoami(NEW), 401, "the new one does not");
        const r = rotate({ CURRENT_PASSWORD: OLD, NEW_PASSWORD: NEW });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stdout, /set the new password of egov .*tags kept: administrator/);
        assert.strictEqual(await b.whoami(NEW), 200, "the new password works after");
        assert.strictEqual(await b.whoami(OLD), 401, "the old password is refused after");
        assert.deepStrictEqual(await b.tags(NEW), ["administrator"], "the user is still an administrator");
    });

    it("a re-run and a first deploy change nothing", async () => {
        assert.match(rotate({ CURRENT_PASSWORD: NEW, NEW_PASSWORD: NEW }).stdout, /already logs in .*nothing to change/);
        const first = rotate({ NEW_PASSWORD: "SomeOtherPassw0rd3" });
        assert.strictEqual(first.status, 0);
        assert.match(first.stdout, /no current password \(first deploy\): nothing to rotate/);
        assert.strictEqual(await b.whoami(NEW), 200);
    });

    it("a wrong current password or an unreachable broker fails the Job and changes nothing", async () => {
        const wrong = rotate({ CURRENT_PASSWORD: "WrongPassw0rd9", NEW_PASSWORD: "SomeOtherPassw0rd3" });
        assert.notStrictEqual(wrong.status, 0);
        assert.match(wrong.stderr, /cannot read user egov .*HTTP 401.*nothing was changed/);
        const down = rotate({ RABBITMQ_URL: `http://127.0.0.1:${await freePort()}`, CURRENT_PASSWORD: NEW, NEW_PASSWORD: "SomeOtherPassw0rd3" });
        assert.notStrictEqual(down.status, 0);
        assert.match(down.stderr, /cannot read user egov .*Connection refused.*nothing was changed/);
        assert.strictEqual(await b.whoami(NEW), 200);
        assert.strictEqual(await b.whoami("SomeOtherPassw0rd3"), 401);
    });
});
