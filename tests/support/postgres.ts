// A real PostgreSQL server (Debian's postgresql package) of the test's own: initdb into a temporary directory,
// listening on 127.0.0.1 only, with a password user; as root, run as the package's postgres user (initdb refuses root).
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

function pgBin(): string {
    const root = "/usr/lib/postgresql";
    const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb"))) : [];
    assert.ok(versions.length > 0, "PostgreSQL server binaries not found: apt-get install postgresql (.ci/run installs it)");
    return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0], "bin");
}

export class PostgresServer {
    readonly dir: string;
    readonly password = crypto.randomBytes(12).toString("hex");
    private readonly bin = pgBin();
    private readonly asRoot = process.getuid?.() === 0;

    constructor(readonly port: number, readonly user = "egov", readonly database = "pulumi") {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-e2e-pg-"));
    }

    /** postgres://user:password@127.0.0.1:port/database (no TLS on loopback). */
    get url(): string {
        return `postgres://${this.user}:${this.password}@127.0.0.1:${this.port}/${this.database}?sslmode=disable`;
    }

    private run(cmd: string, args: string[], input?: string): string {
        const [file, argv] = this.asRoot ? ["runuser", ["-u", "postgres", "--", path.join(this.bin, cmd), ...args]] : [path.join(this.bin, cmd), args];
        return execFileSync(file, argv, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"], cwd: this.dir });
    }

    start(): void {
        const data = path.join(this.dir, "data");
        if (!fs.existsSync(data)) {
            if (this.asRoot) execFileSync("chown", ["postgres:postgres", this.dir]);
            this.run("initdb", ["-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"]);
            this.pgCtl("start");
            this.psql(`CREATE ROLE ${this.user} LOGIN PASSWORD '${this.password}'`);
            this.psql(`CREATE DATABASE ${this.database} OWNER ${this.user}`);
            return;
        }
        this.pgCtl("start");
    }

    pgCtl(action: "start" | "stop" | "restart"): void {
        const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
        this.run("pg_ctl", ["-D", path.join(this.dir, "data"), "-l", path.join(this.dir, "server.log"), "-o", opts, "-w", "-t", "60", action]);
    }

    /** SQL as the superuser over the Unix socket; returns unaligned tuples. */
    psql(sql: string, database = "postgres"): string {
        return this.run("psql", ["-h", this.dir, "-p", String(this.port), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql]);
    }

    destroy(): void {
        try { this.pgCtl("stop"); } catch { /* not running */ }
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
