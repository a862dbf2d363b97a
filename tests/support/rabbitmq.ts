// A throwaway RabbitMQ node (Debian package rabbitmq-server with the management plugin, installed by .ci/run):
// data, logs, cookie, epmd and every port private to the run. Used by the suites that run jobs/rotate/rabbitmq.py.
import * as assert from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort } from "./ports";

const SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";

/** A broker node of its own: data, logs, cookie, epmd and every port private to this run. */
export class Broker {
    private proc?: ChildProcess;
    private constructor(readonly dir: string, readonly amqpPort: number, readonly mgmtPort: number, readonly epmdPort: number, readonly user: string) {}

    /** A fresh node whose first start creates `user` (an administrator), as the image does with RABBITMQ_DEFAULT_USER/PASS. */
    static async start(user: string, password: string): Promise<Broker> {
        assert.ok(fs.existsSync(SERVER), `${SERVER} is missing: apt-get install -y rabbitmq-server (.ci/run does)`);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-rabbitmq-"));
        const [amqp, mgmt, dist, epmd] = [await freePort(), await freePort(), await freePort(), await freePort()];
        const b = new Broker(dir, amqp, mgmt, epmd, user);
        fs.writeFileSync(path.join(dir, "rabbitmq.conf"), [`listeners.tcp.default = 127.0.0.1:${amqp}`, `management.tcp.port = ${mgmt}`,
            "management.tcp.ip = 127.0.0.1", `default_user = ${user}`, `default_pass = ${password}`, ""].join("\n"));
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
        for (let began = Date.now(); (await b.whoami(password)) !== 200; began = Date.now()) {
            // Against when the failed attempt began: a blocked event loop delivers an old failure late.
            assert.ok(began < deadline && b.proc.exitCode === null, `the broker did not start (logs in ${dir}/log)`);
            await new Promise((r) => setTimeout(r, 250));
        }
        return b;
    }

    get url(): string { return `http://127.0.0.1:${this.mgmtPort}`; }

    /** The management API's answer to a user with this password (the first user by default): 200, 401, or 0 when unreachable. */
    async whoami(password: string, user = this.user): Promise<number> {
        try {
            const r = await fetch(`${this.url}/api/whoami`, { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` } });
            return r.status;
        } catch {
            return 0;
        }
    }

    /** GET of a management API path as a user. */
    async get(apiPath: string, as: { user: string; password: string }): Promise<unknown> {
        const r = await fetch(`${this.url}${apiPath}`, { headers: { authorization: `Basic ${Buffer.from(`${as.user}:${as.password}`).toString("base64")}` } });
        assert.strictEqual(r.status, 200, `GET ${apiPath}`);
        return r.json();
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
