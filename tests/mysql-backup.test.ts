// The MySQL backup and restore scripts, run for real: throwaway MariaDB servers on loopback (Debian package
// mariadb-server, installed by .ci/run), the same scripts the backup CronJob mounts from its ConfigMap.
import * as assert from "assert";
import { ChildProcess, execFile, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { BACKUP_SCRIPTS_DIR } from "../components/backup";

const APP_USER = "msaportal";
const APP_PASSWORD = "AppPassw0rdForTheTest1";
const DATABASES = ["msaportal", "reservation"];
const execFileAsync = promisify(execFile);

async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

/** A MariaDB server of its own: datadir, socket and port in a temp dir, never the system service. */
class Server {
    private proc?: ChildProcess;
    private exited?: Promise<void>;
    private constructor(readonly dir: string, readonly port: number) {}

    static async start(name: string): Promise<Server> {
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
            "--character-set-server=utf8mb4", ...asUser], { stdio: "ignore" });
        s.exited = new Promise((resolve) => s.proc?.once("exit", () => resolve()));
        s.proc.unref(); // a run that never uses it still exits (and the exit handler stops it)
        const deadline = Date.now() + 60_000;
        for (;;) {
            try {
                await execFileAsync("mariadb-admin", ["--no-defaults", `--socket=${dir}/mysqld.sock`, "-uroot", "ping"]);
                break;
            } catch {
                if (Date.now() > deadline || s.proc.exitCode !== null) {
                    assert.fail(`MariaDB ${name} did not start: ${fs.existsSync(`${dir}/error.log`) ? fs.readFileSync(`${dir}/error.log`, "utf8") : ""}`);
                }
                await new Promise((r) => setTimeout(r, 50));
            }
        }
        return s;
    }

    /** Runs SQL as root over the socket; `user` runs it as the application user over TCP. */
    sql(query: string, opts: { db?: string; user?: boolean } = {}): string {
        const auth = opts.user
            ? ["--protocol=tcp", "-h127.0.0.1", `-P${this.port}`, `-u${APP_USER}`, `-p${APP_PASSWORD}`]
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

// Started when mocha loads this file: installing and starting two servers overlaps the in-process tests of the
// files that run before this one.
const servers = Promise.all([Server.start("source"), Server.start("target")]);
servers.catch(() => undefined);

interface Run { status: number | null; stdout: string; stderr: string }

describe("MySQL backup and restore scripts against a real server", function () {
    this.timeout(180_000);
    let source: Server;
    let target: Server;
    let backupDir: string;
    const transcript: string[] = [];

    const run = (script: "backup.sh" | "restore.sh", server: Server, env: Record<string, string> = {}, args: string[] = []): Run => {
        const r = spawnSync("bash", [path.join(BACKUP_SCRIPTS_DIR, script), ...args], {
            encoding: "utf8",
            env: {
                PATH: process.env.PATH ?? "/usr/bin:/bin", TMPDIR: os.tmpdir(), MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(server.port),
                MYSQL_USER: APP_USER, MYSQL_PASSWORD: APP_PASSWORD, BACKUP_DIR: backupDir, DATABASES: DATABASES.join(" "), RETENTION: "2", ...env,
            },
        });
        transcript.push(`$ ${script} ${args.join(" ")}`.trim(), ...`${r.stdout}${r.stderr}`.trim().split("\n").map((l) => `  ${l}`));
        assert.ok(!`${r.stdout}${r.stderr}`.includes(APP_PASSWORD), `${script} printed the password`);
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const backups = () => fs.readdirSync(backupDir).filter((n) => /^\d{8}T\d{6}\.\d+Z$/.test(n)).sort();
    const grantApp = (s: Server) => {
        s.sql(`CREATE USER '${APP_USER}'@'%' IDENTIFIED BY '${APP_PASSWORD}'`);
        for (const db of DATABASES) s.sql(`GRANT ALL PRIVILEGES ON \`${db}\`.* TO '${APP_USER}'@'%'`);
        s.sql("GRANT ALL PRIVILEGES ON `msaportal_copy`.* TO 'msaportal'@'%'");
    };

    before(async () => {
        [source, target] = await servers;
        backupDir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-backups-"));
        // As the platform's init SQL does: the databases exist, the application user owns them.
        for (const db of DATABASES) source.sql(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4`);
        grantApp(source);
        grantApp(target);
        // The application creates its schema with its own user (so views and triggers are defined by it).
        source.sql(`CREATE TABLE board (id INT AUTO_INCREMENT PRIMARY KEY, title VARCHAR(200) NOT NULL, body TEXT, attachment BLOB,
            created DATETIME NOT NULL, hits INT NOT NULL DEFAULT 0) ENGINE=InnoDB;
            CREATE TABLE board_log (board_id INT, note VARCHAR(50));
            CREATE TRIGGER board_created AFTER INSERT ON board FOR EACH ROW INSERT INTO board_log VALUES (NEW.id, 'created');
            INSERT INTO board (title, body, attachment, created) VALUES
              ('공지사항', '전자정부 표준프레임워크 교육', NULL, '2024-03-01 09:00:00'),
              ('Quote '' and \\\\ backslash', REPEAT('가', 5000), UNHEX('00FF10'), '2024-03-02 10:30:00');
            CREATE VIEW recent AS SELECT id, title FROM board WHERE created > '2024-01-01';`, { db: "msaportal", user: true });
        source.sql(`CREATE TABLE reserve_item (id BIGINT PRIMARY KEY, name VARCHAR(100), fee DECIMAL(10,2), opens DATE);
            INSERT INTO reserve_item VALUES (1, '회의실 A', 15000.50, '2024-04-01'), (2, 'Seminar room', NULL, NULL);`,
            { db: "reservation", user: true });
    });

    after(async () => {
        await Promise.all([source?.stop(), target?.stop()]);
        if (backupDir) fs.rmSync(backupDir, { recursive: true, force: true });
        console.log(`\n  backup round trip (for the issue notes):\n${transcript.map((l) => `    ${l}`).join("\n")}\n`);
    });

    it("dumps every application database with the application user into a new backup, keeping the newest N", () => {
        for (let i = 0; i < 3; i++) assert.strictEqual(run("backup.sh", source).status, 0);
        const kept = backups();
        assert.strictEqual(kept.length, 2, `RETENTION=2 keeps two backups: ${kept}`);
        for (const b of kept) {
            assert.deepStrictEqual(fs.readdirSync(path.join(backupDir, b)).sort(), ["MANIFEST", "msaportal.sql.gz", "reservation.sql.gz"]);
        }
        assert.match(fs.readFileSync(path.join(backupDir, kept[1], "MANIFEST"), "utf8"), /^databases=msaportal reservation$/m);
        assert.deepStrictEqual(fs.readdirSync(backupDir).filter((n) => n.startsWith(".partial")), [], "no partial backup is left");
    });

    it("restores each database into an empty server: identical schema, rows, view and trigger", () => {
        assert.deepStrictEqual(target.databases(), [], "the target server starts empty");
        for (const db of DATABASES) assert.strictEqual(run("restore.sh", target, {}, ["--database", db, "--create"]).status, 0);
        for (const db of DATABASES) assert.strictEqual(target.canonical(db), source.canonical(db), `${db} differs after the round trip`);
        assert.strictEqual(target.sql("SELECT title FROM board WHERE id = 1", { db: "msaportal" }).trim(), "공지사항");
        assert.strictEqual(target.sql("SELECT HEX(attachment) FROM board WHERE id = 2", { db: "msaportal" }).trim(), "00FF10");
        // The trigger came back and works.
        target.sql("INSERT INTO board (title, created) VALUES ('after restore', NOW())", { db: "msaportal", user: true });
        assert.strictEqual(target.sql("SELECT COUNT(*) FROM board_log", { db: "msaportal" }).trim(), "3");
    });

    it("restoring over a database replaces its contents and first saves them to pre-restore/", () => {
        target.sql("CREATE TABLE stray (x INT); INSERT INTO stray VALUES (42)", { db: "msaportal", user: true });
        const r = run("restore.sh", target, {}, ["--database", "msaportal", "--dump", path.join(backupDir, backups()[0])]);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(target.canonical("msaportal"), source.canonical("msaportal"), "the stray table and row are gone");
        const saved = fs.readdirSync(path.join(backupDir, "pre-restore"));
        assert.strictEqual(saved.length, 1);
        const kept = execFileSync("bash", ["-c", `gzip -dc "${path.join(backupDir, "pre-restore", saved[0], "msaportal.sql.gz")}"`], { encoding: "utf8" });
        assert.match(kept, /INSERT INTO `stray` VALUES\s*\(42\)/, "what was overwritten is in the safety dump");
    });

    it("restores one database's dump into another database with --from", () => {
        assert.strictEqual(run("restore.sh", target, {}, ["--database", "msaportal_copy", "--from", "msaportal", "--create"]).status, 0);
        assert.strictEqual(target.sql("SELECT COUNT(*) FROM board", { db: "msaportal_copy" }).trim(), "2");
    });

    describe("bad input: a clear error and nothing lost", () => {
        let before: string;
        beforeEach(() => { before = target.canonical("msaportal"); });
        const unchanged = () => assert.strictEqual(target.canonical("msaportal"), before, "the target changed");

        it("a missing dump", () => {
            const r = run("restore.sh", target, {}, ["--database", "msaportal", "--dump", "/nonexistent/backup"]);
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr, /no dump at \/nonexistent\/backup .*nothing was changed/);
            unchanged();
        });

        it("a backup without that database", () => {
            const r = run("restore.sh", target, {}, ["--database", "msaportl"]);
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr, /has no dump of database msaportl \(it has: msaportal reservation\); nothing was changed/);
        });

        it("a target database that does not exist (a typo), without --create", () => {
            const r = run("restore.sh", target, {}, ["--database", "msaportl", "--from", "msaportal"]);
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr, /database msaportl does not exist on 127\.0\.0\.1 .*nothing was changed\. Pass --create/);
            assert.ok(!target.databases().includes("msaportl"));
        });

        it("a damaged (truncated) dump is refused before the target is touched", () => {
            const good = path.join(backupDir, backups()[1], "msaportal.sql.gz");
            const bad = path.join(os.tmpdir(), `egov-truncated-${process.pid}.sql.gz`);
            fs.writeFileSync(bad, fs.readFileSync(good).subarray(0, Math.floor(fs.statSync(good).size / 2)));
            const r = run("restore.sh", target, {}, ["--database", "msaportal", "--dump", bad]);
            fs.rmSync(bad);
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr, /damaged or incomplete.*nothing was changed/);
            unchanged();
        });

        it("an unreachable server: backup and restore both say so; earlier backups stay", async () => {
            const closed = String(await freePort());
            const kept = backups();
            const b = run("backup.sh", source, { MYSQL_PORT: closed });
            assert.notStrictEqual(b.status, 0);
            assert.match(b.stderr, new RegExp(`cannot connect to MySQL at 127\\.0\\.0\\.1:${closed} as msaportal`));
            const r = run("restore.sh", target, { MYSQL_PORT: closed }, ["--database", "msaportal"]);
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr, /cannot connect to MySQL/);
            assert.deepStrictEqual(backups(), kept);
            unchanged();
        });

        it("wrong credentials", () => {
            const r = run("backup.sh", source, { MYSQL_PASSWORD: "wrong" });
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr, /cannot connect to MySQL .*Access denied/);
        });

        it("a backup naming a database the server lacks fails whole: no new backup, no partial one, earlier ones kept", () => {
            const kept = backups();
            const r = run("backup.sh", source, { DATABASES: "msaportal nosuchdb" });
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr, /database nosuchdb does not exist on 127\.0\.0\.1/);
            assert.deepStrictEqual(backups(), kept);
            assert.deepStrictEqual(fs.readdirSync(backupDir).filter((n) => n.startsWith(".partial")), []);
        });

        it("an unwritable or missing backup directory, and missing settings", () => {
            const r = run("backup.sh", source, { BACKUP_DIR: "/nonexistent/backups" });
            assert.match(r.stderr, /backup directory \/nonexistent\/backups does not exist or is not writable/);
            assert.match(run("backup.sh", source, { DATABASES: "" }).stderr, /DATABASES is not set/);
            assert.match(run("backup.sh", source, { RETENTION: "0" }).stderr, /RETENTION must be a whole number of at least 1/);
            assert.match(run("restore.sh", target, {}, []).stderr, /--database is required/);
            assert.match(run("restore.sh", target, {}, ["--database", "x; DROP DATABASE msaportal"]).stderr, /is not a database name/);
            unchanged();
        });
    });
});
