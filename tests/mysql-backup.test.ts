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
import { freePort } from "./support/ports";
import { Server } from "./support/mariadb";

const APP_USER = "msaportal";
const APP_PASSWORD = "AppPassw0rdForTheTest1";
const APP = { name: APP_USER, password: APP_PASSWORD };
const DATABASES = ["msaportal", "reservation"];
const execFileAsync = promisify(execFile);

/**
 * A real S3-compatible server: rclone's `serve s3` (built by toolchain/rclone.sh, the same rclone the
 * backup jobs' image runs) over TLS with a certificate of its own CA, serving a directory (one bucket per folder).
 */
class ObjectStore {
    private proc?: ChildProcess;
    private constructor(readonly dir: string, readonly port: number) {}
    static readonly ACCESS = "egovbackupkey";
    static readonly SECRET = "EgovBackupSecretKey0123456789";
    static readonly BUCKET = "egov-backups";

    static async start(): Promise<ObjectStore> {
        assert.ok(fs.existsSync(RCLONE), `${RCLONE} is missing: bash toolchain/rclone.sh (.ci/run does)`);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-s3-"));
        const s = new ObjectStore(dir, await freePort());
        stores.add(s);
        fs.mkdirSync(path.join(dir, "data", ObjectStore.BUCKET), { recursive: true });
        await execFileAsync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=egov test object store", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", `${dir}/key.pem`, "-out", `${dir}/ca.pem`]);
        // Its log is kept (a CI run once got 500 InternalError on every PUT of a first mirror, not seen since).
        s.proc = spawn(RCLONE, ["serve", "s3", "--addr", `127.0.0.1:${s.port}`, "--cert", `${dir}/ca.pem`, "--key", `${dir}/key.pem`,
            "--auth-key", `${ObjectStore.ACCESS},${ObjectStore.SECRET}`, "--config", "/dev/null",
            "--log-file", ObjectStore.logFile(s.port), "-v", `${dir}/data`], { stdio: "ignore" });
        s.proc.unref();
        const deadline = Date.now() + 30_000;
        for (;;) {
            const began = Date.now(); // started while mocha loads the files: a failed attempt may be seen long after it was made
            const up = await new Promise<boolean>((resolve) => {
                const c = net.connect(s.port, "127.0.0.1", () => { c.end(); resolve(true); });
                c.on("error", () => resolve(false));
            });
            if (up) break;
            assert.ok(began < deadline && s.proc.exitCode === null, "rclone serve s3 did not start");
            await new Promise((r) => setTimeout(r, 50));
        }
        return s;
    }

    static logFile(port: number): string { return path.join(os.tmpdir(), `egov-s3-${port}.log`); }
    /** The server's last log lines (for a failure's message). */
    logTail(): string {
        try { return fs.readFileSync(ObjectStore.logFile(this.port), "utf8").split("\n").slice(-15).join("\n"); } catch { return "(no server log)"; }
    }
    get endpoint(): string { return `https://127.0.0.1:${this.port}`; }
    /** The objects under a key prefix, as the server stores them (its directory), sorted. */
    keys(prefix: string): string[] {
        const root = path.join(this.dir, "data", ObjectStore.BUCKET);
        const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true })
            .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.relative(root, path.join(d, e.name))]));
        return walk(root).filter((k) => k.startsWith(prefix)).sort();
    }
    stop(): void {
        this.proc?.kill("SIGKILL");
        fs.rmSync(this.dir, { recursive: true, force: true });
        stores.delete(this);
    }
}
const RCLONE = path.join(process.env.EGOV_CACHE ?? path.join(os.homedir(), ".cache", "egov-platform"), "bin", "rclone");
const stores = new Set<ObjectStore>();
process.on("exit", () => { for (const s of stores) s.stop(); });

// Started when mocha loads this file: installing and starting two servers overlaps the in-process tests of the
// files that run before this one.
const servers = Promise.all([Server.start("source"), Server.start("target")]);
servers.catch(() => undefined);
const objectStore = ObjectStore.start();
objectStore.catch(() => undefined);

interface Run { status: number | null; stdout: string; stderr: string }

describe("MySQL backup and restore scripts against a real server", function () {
    this.timeout(180_000);
    let source: Server;
    let target: Server;
    let backupDir: string;
    const transcript: string[] = [];

    const run = (script: "backup.sh" | "restore.sh" | "offsite.sh" | "drill.sh", server: Server, env: Record<string, string> = {}, args: string[] = []): Run => {
        const r = spawnSync("bash", [path.join(BACKUP_SCRIPTS_DIR, script), ...args], {
            encoding: "utf8",
            env: {
                PATH: `${path.dirname(RCLONE)}:${process.env.PATH ?? "/usr/bin:/bin"}`, TMPDIR: os.tmpdir(), MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(server.port),
                MYSQL_USER: APP_USER, MYSQL_PASSWORD: APP_PASSWORD, BACKUP_DIR: backupDir, DATABASES: DATABASES.join(" "), RETENTION: "2", ...env,
            },
        });
        transcript.push(`$ ${script} ${args.join(" ")}`.trim(), ...`${r.stdout}${r.stderr}`.trim().split("\n").map((l) => `  ${l}`));
        for (const secret of [APP_PASSWORD, ObjectStore.SECRET]) assert.ok(!`${r.stdout}${r.stderr}`.includes(secret), `${script} printed a secret`);
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
            CREATE VIEW recent AS SELECT id, title FROM board WHERE created > '2024-01-01';`, { db: "msaportal", user: APP });
        source.sql(`CREATE TABLE reserve_item (id BIGINT PRIMARY KEY, name VARCHAR(100), fee DECIMAL(10,2), opens DATE);
            INSERT INTO reserve_item VALUES (1, '회의실 A', 15000.50, '2024-04-01'), (2, 'Seminar room', NULL, NULL);`,
            { db: "reservation", user: APP });
    });

    after(async () => {
        await Promise.all([source?.stop(), target?.stop()]);
        (await objectStore.catch(() => undefined))?.stop();
        if (backupDir) fs.rmSync(backupDir, { recursive: true, force: true });
        console.log(`\n  backup round trip (for the issue notes):\n${transcript.map((l) => `    ${l}`).join("\n")}\n`);
    });

    it("dumps every application database with the application user into a new backup, keeping the newest N", () => {
        for (let i = 0; i < 3; i++) assert.strictEqual(run("backup.sh", source).status, 0);
        const kept = backups();
        assert.strictEqual(kept.length, 2, `RETENTION=2 keeps two backups: ${kept}`);
        for (const b of kept) {
            assert.deepStrictEqual(fs.readdirSync(path.join(backupDir, b)).sort(), ["MANIFEST", "SHA256SUMS", "msaportal.sql.gz", "reservation.sql.gz"]);
        }
        assert.match(fs.readFileSync(path.join(backupDir, kept[1], "MANIFEST"), "utf8"), /^databases=msaportal reservation$/m);
        // The dump's own manifest: base tables (not the view) and their rows, what the restore drill checks against.
        assert.match(fs.readFileSync(path.join(backupDir, kept[1], "MANIFEST"), "utf8"), /^tables\.msaportal=board:2 board_log:2$/m);
        assert.match(fs.readFileSync(path.join(backupDir, kept[1], "MANIFEST"), "utf8"), /^tables\.reservation=reserve_item:2$/m);
        assert.strictEqual(spawnSync("sha256sum", ["-c", "--quiet", "SHA256SUMS"], { cwd: path.join(backupDir, kept[1]) }).status, 0, "SHA256SUMS checks");
        assert.deepStrictEqual(fs.readdirSync(backupDir).filter((n) => n.startsWith(".partial")), [], "no partial backup is left");
    });

    it("restores each database into an empty server: identical schema, rows, view and trigger", () => {
        assert.deepStrictEqual(target.databases(), [], "the target server starts empty");
        for (const db of DATABASES) assert.strictEqual(run("restore.sh", target, {}, ["--database", db, "--create"]).status, 0);
        for (const db of DATABASES) assert.strictEqual(target.canonical(db), source.canonical(db), `${db} differs after the round trip`);
        assert.strictEqual(target.sql("SELECT title FROM board WHERE id = 1", { db: "msaportal" }).trim(), "공지사항");
        assert.strictEqual(target.sql("SELECT HEX(attachment) FROM board WHERE id = 2", { db: "msaportal" }).trim(), "00FF10");
        // The trigger came back and works.
        target.sql("INSERT INTO board (title, created) VALUES ('after restore', NOW())", { db: "msaportal", user: APP });
        assert.strictEqual(target.sql("SELECT COUNT(*) FROM board_log", { db: "msaportal" }).trim(), "3");
    });

    it("restoring over a database replaces its contents and first saves them to pre-restore/", () => {
        target.sql("CREATE TABLE stray (x INT); INSERT INTO stray VALUES (42)", { db: "msaportal", user: APP });
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

    describe("off-cluster copies (jobs/backup/offsite.sh) in a real S3-compatible server, and the restore drill", () => {
        let store: ObjectStore;
        let offsiteEnv: Record<string, string>;
        const PREFIX = "agency/prod";
        before(async () => {
            store = await objectStore;
            offsiteEnv = {
                OFFSITE_ENDPOINT: store.endpoint, OFFSITE_BUCKET: ObjectStore.BUCKET, OFFSITE_PREFIX: PREFIX, OFFSITE_RETENTION: "2",
                OFFSITE_CA: path.join(store.dir, "ca.pem"), AWS_ACCESS_KEY_ID: ObjectStore.ACCESS, AWS_SECRET_ACCESS_KEY: ObjectStore.SECRET,
                // One try each: the failure cases below would otherwise wait out the retries meant for a flaky network.
                RCLONE_RETRIES: "1", RCLONE_LOW_LEVEL_RETRIES: "1",
            };
        });
        const copies = () => [...new Set(store.keys(`${PREFIX}/mysql/`).map((k) => k.split("/")[3]))].sort();
        const sha256 = (file: string) => execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0];

        it("a dump lands under <prefix>/mysql/<backup>/ with its checksums, and they match what was dumped", () => {
            assert.strictEqual(run("backup.sh", source).status, 0);
            const newest = backups().at(-1)!;
            const r = run("offsite.sh", source, offsiteEnv, ["upload"]);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.match(r.stdout, new RegExp(`uploaded backup ${newest.replace(/\./g, "\\.")} to egov-backups/agency/prod/mysql/${newest.replace(/\./g, "\\.")}/ \\(4 files, checked\\)`));
            assert.deepStrictEqual(store.keys(`${PREFIX}/mysql/${newest}/`), ["MANIFEST", "SHA256SUMS", "msaportal.sql.gz", "reservation.sql.gz"]
                .map((f) => `${PREFIX}/mysql/${newest}/${f}`));
            const stored = (f: string) => path.join(store.dir, "data", ObjectStore.BUCKET, PREFIX, "mysql", newest, f);
            const sums = fs.readFileSync(stored("SHA256SUMS"), "utf8");
            for (const f of ["msaportal.sql.gz", "reservation.sql.gz", "MANIFEST"]) {
                assert.strictEqual(sha256(stored(f)), sha256(path.join(backupDir, newest, f)), `${f} is the dumped file`);
                assert.ok(sums.includes(`${sha256(stored(f))}  ${f}`), `SHA256SUMS lists ${f}`);
            }
            assert.strictEqual(run("offsite.sh", source, offsiteEnv, ["upload"]).stdout.includes("is already in egov-backups"), true, "a re-run uploads nothing twice");
        });

        it("retention deletes the oldest copies beyond OFFSITE_RETENTION, only after a new copy is complete", () => {
            const seen: string[] = [];
            for (let i = 0; i < 2; i++) {
                assert.strictEqual(run("backup.sh", source).status, 0);
                assert.strictEqual(run("offsite.sh", source, offsiteEnv, ["upload"]).status, 0);
                seen.push(...copies());
            }
            const all = [...new Set(seen)].sort();
            assert.strictEqual(all.length, 3, `three backups were uploaded: ${all}`);
            assert.deepStrictEqual(copies(), all.slice(1), "the oldest is gone, the newest two are kept");
            assert.match(transcript.join("\n"), new RegExp(`removed old copy ${all[0].replace(/\./g, "\\.")} from egov-backups`));
        });

        it("a wrong credential, a wrong CA or an unreachable endpoint fails loudly and leaves every earlier copy as it was", async () => {
            assert.strictEqual(run("backup.sh", source).status, 0);
            const before = store.keys("");
            const contents = before.map((k) => sha256(path.join(store.dir, "data", ObjectStore.BUCKET, k)));
            const wrongKey = run("offsite.sh", source, { ...offsiteEnv, AWS_SECRET_ACCESS_KEY: "NotTheSecretKey" }, ["upload"]);
            assert.notStrictEqual(wrongKey.status, 0);
            assert.match(wrongKey.stderr, /error: cannot list https:\/\/127\.0\.0\.1:\d+ bucket egov-backups: .*StatusCode: 403, api error (InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied)/);
            const noCa = run("offsite.sh", source, { ...offsiteEnv, OFFSITE_CA: "" }, ["upload"]);
            assert.notStrictEqual(noCa.status, 0);
            assert.match(noCa.stderr, /error: cannot list .*x509: certificate signed by unknown authority/);
            const down = run("offsite.sh", source, { ...offsiteEnv, OFFSITE_ENDPOINT: `https://127.0.0.1:${await freePort()}` }, ["upload"]);
            assert.notStrictEqual(down.status, 0);
            assert.match(down.stderr, /error: cannot list https:\/\/127\.0\.0\.1:\d+ bucket egov-backups: .*connection refused/);
            const noCreds = run("offsite.sh", source, { ...offsiteEnv, AWS_ACCESS_KEY_ID: "" }, ["upload"]);
            assert.match(noCreds.stderr, /no object store credentials: .*backup\.offsite\.credentialsSecretName/);
            assert.deepStrictEqual(store.keys(""), before, "no copy was added or removed");
            assert.deepStrictEqual(store.keys("").map((k) => sha256(path.join(store.dir, "data", ObjectStore.BUCKET, k))), contents, "none was changed");
        });

        it("archives a directory (Jenkins' home) as <prefix>/jenkins/<time>.tar.gz without workspaces, keeping the newest; a failed one leaves nothing", async () => {
            const home = fs.mkdtempSync(path.join(os.tmpdir(), "egov-jenkins-home-"));
            fs.mkdirSync(path.join(home, "jobs", "build"), { recursive: true });
            fs.writeFileSync(path.join(home, "config.xml"), "<hudson/>");
            fs.writeFileSync(path.join(home, "jobs", "build", "config.xml"), "<project/>");
            fs.mkdirSync(path.join(home, "workspace"));
            fs.writeFileSync(path.join(home, "workspace", "big.bin"), "scratch");
            const archives = () => store.keys(`${PREFIX}/jenkins/`).filter((k) => !k.includes(".partial"));
            try {
                for (let i = 0; i < 3; i++) {
                    if (i > 0) await new Promise((r) => setTimeout(r, 1100)); // archive names have one-second resolution
                    const r = run("offsite.sh", source, offsiteEnv, ["archive", home, "jenkins"]);
                    assert.strictEqual(r.status, 0, r.stderr);
                    assert.match(r.stdout, /archived .* to egov-backups\/agency\/prod\/jenkins\/\d{8}T\d{6}Z\.tar\.gz/);
                }
                const kept = archives();
                assert.strictEqual(kept.length, 2, `retention 2: ${kept}`);
                assert.match(transcript.join("\n"), /removed old archive \d{8}T\d{6}Z\.tar\.gz from egov-backups/);
                const listing = execFileSync("tar", ["-tzf", path.join(store.dir, "data", ObjectStore.BUCKET, kept[1])], { encoding: "utf8" });
                assert.deepStrictEqual(listing.split("\n").filter((l) => l && !l.endsWith("/")).sort(), ["./config.xml", "./jobs/build/config.xml"]);
                const before = store.keys("");
                const down = run("offsite.sh", source, { ...offsiteEnv, OFFSITE_ENDPOINT: `https://127.0.0.1:${await freePort()}` }, ["archive", home, "jenkins"]);
                assert.notStrictEqual(down.status, 0);
                assert.match(down.stderr, /archiving .* failed \(upload: .*connection refused.*\); earlier archives are untouched/);
                assert.deepStrictEqual(store.keys(""), before);
            } finally {
                fs.rmSync(home, { recursive: true, force: true });
            }
        });

        it("mirrors a directory (OpenSearch's snapshot repository) to <prefix>/opensearch/, deletions included; never an empty one", () => {
            const repo = fs.mkdtempSync(path.join(os.tmpdir(), "egov-es-repo-"));
            try {
                fs.mkdirSync(path.join(repo, "indices"));
                for (const f of ["index-0", "index.latest", "indices/a.dat", "indices/b.dat"]) fs.writeFileSync(path.join(repo, f), f);
                const first = run("offsite.sh", source, offsiteEnv, ["mirror", repo, "opensearch"]);
                assert.strictEqual(first.status, 0, `${first.stderr}\nthe server's log:\n${store.logTail()}`);
                const mirrored = () => store.keys(`${PREFIX}/opensearch/`).map((k) => k.slice(`${PREFIX}/opensearch/`.length));
                assert.deepStrictEqual(mirrored(), ["index-0", "index.latest", "indices/a.dat", "indices/b.dat"]);
                fs.rmSync(path.join(repo, "indices", "a.dat")); // a snapshot deleted by OpenSearch's retention
                assert.strictEqual(run("offsite.sh", source, offsiteEnv, ["mirror", repo, "opensearch"]).status, 0);
                assert.deepStrictEqual(mirrored(), ["index-0", "index.latest", "indices/b.dat"]);
                const empty = fs.mkdtempSync(path.join(os.tmpdir(), "egov-es-empty-"));
                const r = run("offsite.sh", source, offsiteEnv, ["mirror", empty, "opensearch"]);
                fs.rmSync(empty, { recursive: true });
                assert.notStrictEqual(r.status, 0);
                assert.match(r.stderr, /is empty: nothing to mirror/);
                assert.deepStrictEqual(mirrored(), ["index-0", "index.latest", "indices/b.dat"]);
            } finally {
                fs.rmSync(repo, { recursive: true, force: true });
            }
        });

        describe("the restore drill (jobs/backup/drill.sh) on the newest copy fetched from the store", () => {
            let fetched: string;
            const drillEnv = () => ({ BACKUP_DIR: fetched, MYSQL_USER: "drill", MYSQL_PASSWORD: "DrillPassw0rd4" });
            before(() => {
                // In the cluster the drill logs in as root; here a user with the same powers.
                target.sql("CREATE USER 'drill'@'%' IDENTIFIED BY 'DrillPassw0rd4'; GRANT ALL PRIVILEGES ON *.* TO 'drill'@'%'");
                fetched = fs.mkdtempSync(path.join(os.tmpdir(), "egov-drill-"));
            });
            after(() => fs.rmSync(fetched, { recursive: true, force: true }));

            it("passes: restores each database into a scratch one, checks tables and rows against the manifest, drops it", () => {
                const f = run("offsite.sh", source, { ...offsiteEnv, BACKUP_DIR: fetched }, ["fetch", "latest", fetched]);
                assert.strictEqual(f.status, 0, f.stderr);
                assert.match(f.stdout, /fetched backup \S+ into .* \(checksums match\)/);
                const before = target.databases();
                const r = run("drill.sh", target, drillEnv());
                assert.strictEqual(r.status, 0, r.stderr);
                assert.match(r.stdout, /drill passed: backup \S+, 2 databases, 3 tables, \d+ rows as in its manifest; scratch databases dropped/);
                assert.deepStrictEqual(target.databases(), before, "no scratch database is left");
            });

            it("fails visibly on a corrupted dump (checksums), and on a dump that restores other rows than its manifest says", () => {
                const name = fs.readdirSync(fetched).filter((n) => /^\d{8}T/.test(n)).sort().at(-1)!;
                const good = path.join(fetched, name);
                const corrupt = path.join(fetched, `${name.slice(0, 15)}.999Z`);
                fs.cpSync(good, corrupt, { recursive: true });
                const dump = path.join(corrupt, "msaportal.sql.gz");
                const bytes = fs.readFileSync(dump);
                bytes[Math.floor(bytes.length / 2)] ^= 0xff;
                fs.writeFileSync(dump, bytes);
                const before = target.databases();
                const r = run("drill.sh", target, { ...drillEnv(), DRILL_BACKUP: corrupt });
                assert.notStrictEqual(r.status, 0);
                assert.match(r.stderr, /drill failed: backup \S+ does not match its checksums: msaportal\.sql\.gz: FAILED/);
                // A manifest that disagrees with what the dump restores (its checksums made to match): named per table.
                fs.copyFileSync(path.join(good, "msaportal.sql.gz"), dump);
                const manifest = path.join(corrupt, "MANIFEST");
                fs.writeFileSync(manifest, fs.readFileSync(manifest, "utf8").replace(/board:2/, "board:3"));
                execFileSync("bash", ["-c", "sha256sum -- *.sql.gz MANIFEST > SHA256SUMS"], { cwd: corrupt });
                const m = run("drill.sh", target, { ...drillEnv(), DRILL_BACKUP: corrupt });
                assert.notStrictEqual(m.status, 0);
                assert.match(m.stderr, /drill FAILED for backup \S+:\n {2}- msaportal\.board: 2 rows restored, the manifest says 3/);
                assert.deepStrictEqual(target.databases(), before, "the scratch databases are dropped after a failed drill too");
            });
        });
    });
});
