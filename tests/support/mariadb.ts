// A throwaway MariaDB server (Debian package mariadb-server, installed by tests/support/test-deps.sh): datadir,
// socket and port in a temp dir, never the system service. Used by the suites that run the jobs' SQL scripts.
import * as assert from "assert";
import { ChildProcess, execFile, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { freePort } from "./ports";

const execFileAsync = promisify(execFile);

/** A MariaDB server of its own: datadir, socket and port in a temp dir, never the system service. */
export class Server {
    private proc?: ChildProcess;
    private exited?: Promise<void>;
    private constructor(readonly dir: string, readonly port: number) {}

    /** `options`: server options after the test's own (a later option wins), e.g. the platform's rendered settings. */
    static async start(name: string, options: readonly string[] = []): Promise<Server> {
        for (const bin of ["mariadb-install-db", "mariadbd", "mariadb", "mysqldump"]) {
            const found = spawnSync("bash", ["-c", `command -v ${bin} || test -x /usr/sbin/${bin}`]).status === 0;
            assert.ok(found, `${bin} is missing: apt-get install -y mariadb-server mariadb-client (.ci/run does)`);
        }
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), `egov-mariadb-${name}-`));
        const s = new Server(dir, await freePort());
        live.add(s);
        // mariadbd will not run as root: as root, the throwaway instance runs as the package's mysql user.
        const asUser = process.getuid?.() === 0 ? ["--user=mysql"] : [];
        // Its own tmpdir: two bootstraps at once in /tmp collide on their temporary tables' names.
        fs.mkdirSync(path.join(dir, "tmp"));
        if (asUser.length) await execFileAsync("chown", ["-R", "mysql:mysql", dir]);
        // Small InnoDB files: the test stores a few rows, and the default 100 MB of redo log and tablespace is most
        // of a server's start-up cost.
        const small = [`--tmpdir=${dir}/tmp`, "--innodb-log-file-size=4M", "--innodb-data-file-path=ibdata1:4M:autoextend", "--innodb-buffer-pool-size=16M"];
        await execFileAsync("mariadb-install-db", ["--no-defaults", `--datadir=${dir}/data`, "--auth-root-authentication-method=normal",
            "--skip-test-db", ...small, ...asUser]);
        s.proc = spawn("/usr/sbin/mariadbd", ["--no-defaults", `--datadir=${dir}/data`, `--socket=${dir}/mysqld.sock`,
            `--port=${s.port}`, "--bind-address=127.0.0.1", `--pid-file=${dir}/mysqld.pid`, `--log-error=${dir}/error.log`,
            "--skip-name-resolve", "--skip-log-bin", "--performance-schema=OFF", ...small,
            "--character-set-server=utf8mb4", ...options, ...asUser], { stdio: "ignore" });
        s.exited = new Promise((resolve) => s.proc?.once("exit", () => resolve()));
        s.proc.unref(); // a run that never uses it still exits (and the exit handler stops it)
        // The deadline is checked against when a failed ping began: a server started while mocha loads the files
        // waits behind synchronous tests, and a ping that failed before it was up is only seen a minute later.
        const deadline = Date.now() + 60_000;
        for (;;) {
            const began = Date.now();
            try {
                await execFileAsync("mariadb-admin", ["--no-defaults", `--socket=${dir}/mysqld.sock`, "-uroot", "ping"]);
                break;
            } catch (e) {
                if (began > deadline || s.proc.exitCode !== null) {
                    assert.fail(`MariaDB ${name} did not start (last ping: ${String(e).split("\n").slice(0, 3).join(" ")}; server exit ${s.proc.exitCode ?? s.proc.signalCode}): ` +
                        `${fs.existsSync(`${dir}/error.log`) ? fs.readFileSync(`${dir}/error.log`, "utf8") : ""}`);
                }
                await new Promise((r) => setTimeout(r, 50));
            }
        }
        return s;
    }

    /** Runs SQL as root over the socket; `user` runs it as that user over TCP. */
    sql(query: string, opts: { db?: string; user?: { name: string; password: string } } = {}): string {
        const auth = opts.user
            ? ["--protocol=tcp", "-h127.0.0.1", `-P${this.port}`, `-u${opts.user.name}`, `-p${opts.user.password}`]
            : [`--socket=${this.dir}/mysqld.sock`, "-uroot"];
        return execFileSync("mariadb", ["--no-defaults", ...auth, "--batch", "--skip-column-names", "-e", query, ...(opts.db ? [opts.db] : [])],
            { encoding: "utf8" });
    }

    /** A canonical dump (no dates or comments) of one database, to compare servers. */
    canonical(db: string): string {
        return execFileSync("mysqldump", ["--no-defaults", `--socket=${this.dir}/mysqld.sock`, "-uroot", "--skip-comments", "--skip-dump-date",
            "--routines", "--triggers", "--events", "--hex-blob", db], { encoding: "utf8" });
    }

    databases(): string[] {
        return this.sql("SHOW DATABASES").split("\n").filter((d) => d && !["information_schema", "mysql", "performance_schema", "sys"].includes(d));
    }

    async stop(): Promise<void> {
        this.proc?.kill("SIGTERM");
        await this.exited;
        this.removeDir();
    }

    /** At exit, whatever ran: a run that skipped this file (--grep) never reaches after(). */
    kill(): void {
        this.proc?.kill("SIGKILL");
        this.removeDir();
    }

    private removeDir(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
        live.delete(this);
    }
}

const live = new Set<Server>();
process.on("exit", () => { for (const s of live) s.kill(); });
