// The schema migrations (issue 27) for real: the migrations the dev stack renders (its ConfigMap, not re-typed here)
// applied by jobs/migrate/migrate.sh to a throwaway MariaDB prepared as the platform prepares MySQL (databasesSql);
// then the rules of config/migrations.ts on their own and at config load.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { APPLICATION_SQL, classify, fileMigrations, HISTORY_TABLE, splitStatements } from "../config/migrations";
import { configProblems, deploy, Deployed, Obj, stackConfig, withObject } from "./support/harness";
import { Server } from "./support/mariadb";
import { backendServices } from "../config/catalog";
import { UPSTREAM_COLUMN_GAPS } from "../scripts/lib/boot-check";
import { readFacts } from "../scripts/lib/boot-derive";

const ROOT_PASSWORD = crypto.randomBytes(18).toString("base64url");
const APP = { name: "msaportal", password: crypto.randomBytes(24).toString("base64url") };
const UPSTREAM = path.resolve(__dirname, "..", "..", "shared", "reference", "egovframe-msa-edu");

// Started when mocha loads this file, like tests/mysql-backup.test.ts: it overlaps the in-process suites.
const server = Server.start("migrate");
server.catch(() => undefined);

interface Run { status: number | null; out: string }

describe("schema migrations (jobs/migrate/migrate.sh) against a real server", function () {
    this.timeout(180_000);
    let db: Server;
    let d: Deployed;
    let dir: string;
    const transcript: string[] = [];

    /** The rendered ConfigMap's files in a directory: what the Job mounts at /migrations. */
    const materialize = (data: Record<string, string>): string => {
        const to = fs.mkdtempSync(path.join(os.tmpdir(), "egov-migrations-"));
        for (const [f, text] of Object.entries(data)) fs.writeFileSync(path.join(to, f), text);
        return to;
    };
    const migrate = (from = dir): Run => {
        const r = spawnSync("bash", [path.join(from, "migrate.sh")], {
            encoding: "utf8",
            env: {
                PATH: process.env.PATH ?? "/usr/bin:/bin", TMPDIR: os.tmpdir(), MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(db.port),
                MYSQL_USER: "root", MYSQL_PASSWORD: ROOT_PASSWORD, MIGRATIONS_DIR: from,
            },
        });
        const out = `${r.stdout}${r.stderr}`;
        transcript.push("$ migrate.sh", ...out.trim().split("\n").map((l) => `  ${l}`));
        assert.ok(!out.includes(ROOT_PASSWORD), "the runner printed the password");
        return { status: r.status, out };
    };
    const manifest = (from = dir) => fs.readFileSync(path.join(from, "manifest.tsv"), "utf8").trim().split("\n").map((l) => l.split("\t"));
    const history = () => ["msaportal", "reservation"].map((x) => `${x}:\n${db.sql(`SELECT version, name, checksum, state, applied_at, installed_by FROM egov_schema_history ORDER BY version`, { db: x })}`).join("");
    const tables = (x: string) => db.sql(`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA='${x}' ORDER BY 1`).trim().split("\n").filter(Boolean);
    const rowCounts = () => Object.fromEntries(["msaportal", "reservation"].flatMap((x) =>
        tables(x).map((t) => [`${x}.${t}`, Number(db.sql(`SELECT COUNT(*) FROM \`${t}\``, { db: x }).trim())])));

    before(async () => {
        db = await server;
        d = await deploy(stackConfig("dev"));
        const cm = d.of("ConfigMap").find((o) => (o.metadata.name as string).startsWith("mysql-migrate"))!;
        dir = materialize(cm.data as Record<string, string>);
        // As the mysql image's entrypoint does on an empty volume (MYSQL_ROOT_HOST %, MYSQL_DATABASE, MYSQL_USER and
        // MYSQL_PASSWORD from the generated Secret), then the platform's own init script, as rendered.
        // mariadb-install-db's password-less root@127.0.0.1 would match TCP logins before root@'%'.
        db.sql("DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1'");
        db.sql(`CREATE USER 'root'@'%' IDENTIFIED BY '${ROOT_PASSWORD}'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;` +
            `CREATE DATABASE msaportal; CREATE USER '${APP.name}'@'%' IDENTIFIED BY '${APP.password}';` +
            `GRANT ALL PRIVILEGES ON msaportal.* TO '${APP.name}'@'%'`);
        const init = d.of("ConfigMap").find((o) => (o.metadata.name as string).startsWith("mysql-initdb"))!;
        db.sql(init.data["00-egov-databases.sql"] as string);
    });
    after(() => {
        if (transcript.length) console.log(`\n  migration runs (for the issue notes):\n${transcript.map((l) => `    ${l}`).join("\n")}\n`);
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("the rendered set: initdb.sql cut per database, then the three schema.sql; no user, grant, password or drop statement", () => {
        assert.deepStrictEqual(manifest().map((m) => `${m[0]} ${m[1]}`), ["1.1 reservation", "1.2 msaportal", "2 msaportal", "3 reservation", "4 reservation"]);
        const shipped = manifest().map((m) => fs.readFileSync(path.join(dir, m[3]), "utf8")).join("\n");
        for (const st of splitStatements(shipped)) {
            assert.ok(!["user", "password", "drop", "database"].includes(classify(st.text).kind), `shipped: ${st.text.slice(0, 80)}`);
        }
        const sqlLines = shipped.split("\n").filter((l) => !l.startsWith("-- "));
        assert.deepStrictEqual(sqlLines.filter((l) => /IDENTIFIED\s+BY|\bGRANT\b|DROP\s+(TABLE|USER|DATABASE)/i.test(l)), []);
        // The other direction: the application's file has them, and the plan says where and why they went.
        const initdb = fs.readFileSync(path.join(UPSTREAM, APPLICATION_SQL[0].file), "utf8");
        assert.match(initdb, /CREATE USER 'msaportal'@'%' IDENTIFIED BY 'msaportal'/);
        const { migrations } = fileMigrations({ origin: "application", file: APPLICATION_SQL[0].file, text: initdb, version: "1" }, ["msaportal", "reservation"]);
        const stripped = migrations.flatMap((m) => m.stripped);
        assert.deepStrictEqual(stripped.filter((s) => s.line <= 8).map((s) => `${s.line} ${s.what}`),
            ["1 CREATE DATABASE", "2 CREATE DATABASE", "4 DROP USER", "5 CREATE USER", "7 GRANT", "8 GRANT"]);
        assert.strictEqual(stripped.filter((s) => s.what === "DROP TABLE").length, 27);
        assert.ok(stripped.every((s) => s.reason.length > 20));
    });

    it("applies every migration once: each table of initdb.sql and schema.sql exists, the reference rows are there", () => {
        const r = migrate();
        assert.strictEqual(r.status, 0, r.out);
        // Every table the files create, read from the files themselves (not from the platform's parser).
        const created = (text: string) => [...text.matchAll(/CREATE TABLE\s+(?:IF NOT EXISTS\s+)?`?(\w+)`?/gi)].map((m) => m[1]);
        const initdb = fs.readFileSync(path.join(UPSTREAM, APPLICATION_SQL[0].file), "utf8");
        const [reservationPart, msaportalPart] = initdb.split(/^use msaportal;$/m);
        assert.strictEqual(created(initdb).length, 27, "initdb.sql creates 27 tables");
        const expect = new Set([...created(msaportalPart).map((t) => `msaportal.${t}`), ...created(reservationPart).map((t) => `reservation.${t}`)]);
        for (const a of APPLICATION_SQL.slice(1)) {
            const database = a.file.includes("reserve-item") ? "msaportal" : "reservation";
            for (const t of created(fs.readFileSync(path.join(UPSTREAM, a.file), "utf8"))) expect.add(`${database}.${t}`);
        }
        const present = new Set(["msaportal", "reservation"].flatMap((x) => tables(x).map((t) => `${x}.${t}`)));
        assert.deepStrictEqual([...expect].filter((t) => !present.has(t)), [], "tables missing");
        assert.strictEqual(expect.size, 27, "the schema.sql files create tables initdb.sql creates too (location, reserve_item, reserve)");

        const count = (t: string) => Number(db.sql(`SELECT COUNT(*) FROM \`${t}\``, { db: "msaportal" }).trim());
        const counts = Object.fromEntries(["user", "role", "authorization", "role_authorization", "menu", "menu_role", "message", "site", "code"].map((t) => [t, count(t)]));
        console.log(`      reference rows: ${JSON.stringify(counts)}`);
        for (const [t, n] of Object.entries(counts)) assert.ok(n > 0, `${t} has rows`);
        assert.strictEqual(counts.site, 4);
        // The administrator of the reference data, with its role, and that role's authorizations.
        assert.strictEqual(db.sql("SELECT user_name, role_id FROM user WHERE email_addr = '1@gmail.com'", { db: "msaportal" }).trim(), "kim1\tADMIN");
        assert.ok(Number(db.sql("SELECT COUNT(*) FROM role_authorization WHERE role_id = 'ROLE_ADMIN'", { db: "msaportal" })) > 100);
        assert.match(db.sql("SELECT role_name FROM role WHERE role_id = 'ROLE_ADMIN'", { db: "msaportal" }), /\S/);
        // Korean text arrives as written (utf8mb4 client).
        assert.match(db.sql("SELECT site_name FROM site WHERE site_id = 2", { db: "msaportal" }), /대규모 포털/);
        assert.match(r.out, /done: 2 applied, 3 baselined, 0 already recorded/, "the reserve tables exist after initdb.sql: the schema.sql files are baselined");
    });

    it("every table and column the entities map (scripts/lib/boot-facts.json) exists in its service's database on the server", () => {
        // The test above applied the migrations; run alone (-g), this applies them. Facts: derived from the Java source (boot-derive.ts).
        if (!tables("msaportal").includes(HISTORY_TABLE)) assert.strictEqual(migrate().status, 0);
        const facts = readFacts();
        const columns = new Set(db.sql("SELECT CONCAT(TABLE_SCHEMA, '.', LOWER(TABLE_NAME), '.', LOWER(COLUMN_NAME)) FROM information_schema.COLUMNS " +
            "WHERE TABLE_SCHEMA IN ('msaportal', 'reservation')").trim().split("\n"));
        let entities = 0;
        const tablesSeen = new Set<string>();
        const missing: string[] = [];
        let columnCount = 0;
        for (const svc of facts.services) {
            const database = backendServices.find((b) => b.name === svc.name)?.database?.name;
            for (const e of svc.entities ?? []) {
                assert.ok(database, `${svc.name} maps entities but has no database`);
                assert.deepStrictEqual(e.unmapped ?? [], [], `${svc.name} ${e.class}: a field whose columns are not derived`);
                entities++;
                tablesSeen.add(`${database}.${e.table.toLowerCase()}`);
                for (const c of e.columns) {
                    columnCount++;
                    const key = `${database}.${e.table.toLowerCase()}.${c.name.toLowerCase()}`;
                    if (!columns.has(key)) missing.push(`${svc.name} -> ${key}`);
                }
            }
        }
        console.log(`      entities: ${entities}, tables: ${tablesSeen.size}, columns mapped: ${columnCount}; missing on the server: ${JSON.stringify(missing)}`);
        assert.ok(entities >= 30 && columnCount >= 300, `${entities} entities, ${columnCount} columns`);
        for (const t of tablesSeen) assert.ok([...columns].some((c) => c.startsWith(`${t}.`)), `table ${t} missing`);
        // Exactly the gap boot-check declares (UPSTREAM_COLUMN_GAPS): the server agrees with the static check.
        assert.deepStrictEqual(missing, UPSTREAM_COLUMN_GAPS.map((g) => `${g.service} -> ${backendServices.find((b) => b.name === g.service)?.database?.name}.${g.table}.${g.column}`));
        // And a column the server does not have is seen as missing (the check can fail).
        assert.ok(!columns.has("msaportal.site.no_such_column") && columns.has("msaportal.site.site_name"));
    });

    it("a second run changes nothing: history and row counts identical; the history table, printed", () => {
        const before = { history: history(), rows: rowCounts() };
        const r = migrate();
        assert.strictEqual(r.status, 0, r.out);
        assert.match(r.out, /done: 0 applied, 0 baselined, 5 already recorded/);
        assert.strictEqual(history(), before.history);
        assert.deepStrictEqual(rowCounts(), before.rows);
        console.log(`      egov_schema_history after two runs:\n${before.history.split("\n").map((l) => `        ${l}`).join("\n")}`);
    });

    it("the generated application user still logs in with its generated password, and reads the tables", () => {
        assert.strictEqual(db.sql("SELECT COUNT(*) FROM site", { db: "msaportal", user: APP }).trim(), "4");
        assert.strictEqual(db.sql("SELECT COUNT(*) FROM reserve", { db: "reservation", user: APP }).trim(), "0");
        const refused = spawnSync("mariadb", ["--no-defaults", "--protocol=tcp", "-h127.0.0.1", `-P${db.port}`, "-umsaportal", "-pmsaportal", "-e", "SELECT 1"]);
        assert.notStrictEqual(refused.status, 0, "the reference's well-known password does not log in");
    });

    it("an applied migration that changed is an error naming it, and nothing is applied", () => {
        const copy = materialize(Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")])));
        const m = manifest(copy);
        const sql = `${fs.readFileSync(path.join(copy, m[0][3]), "utf8")}CREATE TABLE edited (id INT);\n`;
        fs.writeFileSync(path.join(copy, m[0][3]), sql);
        m[0][2] = crypto.createHash("sha256").update(sql).digest("hex");
        // And a new one after it, which must not run either.
        fs.writeFileSync(path.join(copy, "new.sql"), "CREATE TABLE added (id INT);\n");
        const added = ["user/new.sql", "msaportal", crypto.createHash("sha256").update("CREATE TABLE added (id INT);\n").digest("hex"), "new.sql", "added", "new.sql"];
        fs.writeFileSync(path.join(copy, "manifest.tsv"), `${[...m, added].map((l) => l.join("\t")).join("\n")}\n`);
        const r = migrate(copy);
        assert.notStrictEqual(r.status, 0);
        assert.match(r.out, /migration 1\.1 \(k8s\/environments\/databases\/mysql\/init\/initdb\.sql \(reservation\)\) in reservation was applied with checksum [0-9a-f]{64}, now it is [0-9a-f]{64}/);
        assert.ok(!tables("msaportal").includes("added") && !tables("reservation").includes("edited"), "nothing applied");
        fs.rmSync(copy, { recursive: true, force: true });
    });

    it("a migration that fails stops the run non-zero, named, unrecorded; fixed, the next run applies it", () => {
        const copy = materialize(Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")])));
        const write = (sql: string) => {
            fs.writeFileSync(path.join(copy, "bad.sql"), sql);
            const line = ["user/bad.sql", "msaportal", crypto.createHash("sha256").update(sql).digest("hex"), "bad.sql", "-", "bad.sql"].join("\t");
            fs.writeFileSync(path.join(copy, "manifest.tsv"), `${fs.readFileSync(path.join(dir, "manifest.tsv"), "utf8")}${line}\n`);
        };
        write("CREATE TABLE later (id INT);\nINSERT INTO no_such_table VALUES (1);\n");
        const r = migrate(copy);
        assert.notStrictEqual(r.status, 0);
        assert.match(r.out, /migration user\/bad\.sql \(bad\.sql\) failed in msaportal: ERROR 1146 .*no_such_table/);
        assert.strictEqual(db.sql("SELECT COUNT(*) FROM egov_schema_history WHERE version = 'user/bad.sql'", { db: "msaportal" }).trim(), "0");
        write("CREATE TABLE IF NOT EXISTS later (id INT);\n");
        const again = migrate(copy);
        assert.strictEqual(again.status, 0, again.out);
        assert.match(again.out, /done: 1 applied, 0 baselined, 5 already recorded/);
        db.sql("DROP TABLE later; DELETE FROM egov_schema_history WHERE version = 'user/bad.sql'", { db: "msaportal" });
        fs.rmSync(copy, { recursive: true, force: true });
    });

    it("a database filled by hand from the same SQL is baselined: recorded, not run, no row inserted again", () => {
        // An install whose tables were created (and edited) by hand, before the platform had migrations.
        db.sql("DELETE FROM egov_schema_history; DELETE FROM message ORDER BY message_id LIMIT 1", { db: "msaportal" });
        const data = () => Object.fromEntries(Object.entries(rowCounts()).filter(([t]) => !t.endsWith(".egov_schema_history")));
        const rows = data();
        const r = migrate();
        assert.strictEqual(r.status, 0, r.out);
        assert.match(r.out, /baselined 1\.2 .* its 26 tables exist already; not run/);
        assert.deepStrictEqual(data(), rows, "the deleted reference row stays deleted; nothing doubled");
        assert.deepStrictEqual(db.sql("SELECT version, state FROM egov_schema_history ORDER BY version", { db: "msaportal" }).trim().split("\n"),
            ["1.2\tbaselined", "2\tbaselined"]);
    });
});

describe("migration rules (config/migrations.ts)", () => {
    it("splits at ; outside quotes and comments, with each statement's line", () => {
        const sts = splitStatements("-- a; comment\nINSERT INTO t VALUES ('a;b', \"c;\", `d;`);\n/* x; */ SELECT 1;\n# y;\nSELECT 'it''s; \\' ok';\n");
        assert.deepStrictEqual(sts.map((s) => s.line), [2, 3, 5]);
        assert.strictEqual(sts.length, 3);
        assert.match(sts[0].text, /'a;b', "c;", `d;`\)$/);
    });

    it("classifies what never runs: users, grants, passwords, drops, databases", () => {
        const kinds = ["CREATE USER x IDENTIFIED BY 'p'", "drop user if exists `x`", "ALTER USER x", "RENAME USER a TO b", "GRANT ALL ON *.* TO x",
            "REVOKE ALL ON *.* FROM x", "SET PASSWORD FOR x = PASSWORD('p')", "/*!50001 CREATE USER x */", "DROP TABLE IF EXISTS t", "DROP DATABASE d",
            "TRUNCATE t", "CREATE DATABASE d", "CREATE TABLE t (id INT)", "INSERT INTO t VALUES (1)", "use msaportal"].map((s) => classify(s).kind);
        assert.deepStrictEqual(kinds, ["user", "user", "user", "user", "user", "user", "user", "user", "drop", "drop", "drop", "database", "create-table", "insert", "use"]);
    });

    for (const [statement, what] of [
        ["CREATE USER 'x'@'%' IDENTIFIED BY 'secret';", "CREATE USER"],
        ["GRANT SELECT ON msaportal.* TO 'x'@'%';", "GRANT"],
        ["DROP TABLE board;", "DROP TABLE"],
        ["ALTER USER 'msaportal'@'%' IDENTIFIED BY 'msaportal';", "ALTER USER"],
    ]) {
        it(`refuses a user's file with ${what} at config load, naming the key, the file, the line and why`, () => {
            const sqlDir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-sql-"));
            fs.writeFileSync(path.join(sqlDir, "20-mine.sql"), `CREATE TABLE IF NOT EXISTS mine (id INT);\n${statement}\n`);
            const problems = configProblems(withObject(stackConfig("dev"), "database", { initScriptsPath: sqlDir }) as Obj);
            fs.rmSync(sqlDir, { recursive: true, force: true });
            assert.strictEqual(problems.length, 1, problems.join("\n"));
            assert.match(problems[0], new RegExp(`^egov-platform:database\\.initScriptsPath: 20-mine\\.sql line 2: ${what} statement refused: \\S`));
            assert.ok(!problems[0].includes("secret"), "the statement's password is not echoed");
        });
    }

    it("a user's file that names a database the stack does not create is refused; `use` of one it does is a migration there", () => {
        const sqlDir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-sql-"));
        fs.writeFileSync(path.join(sqlDir, "a.sql"), "use nowhere;\nCREATE TABLE t (id INT);\n");
        const problems = configProblems(withObject(stackConfig("dev"), "database", { initScriptsPath: sqlDir }) as Obj);
        fs.rmSync(sqlDir, { recursive: true, force: true });
        assert.match(problems.join("\n"), /database\.initScriptsPath: a\.sql line 1: USE nowhere statement refused: the stack creates no database nowhere/);
        const ok = fileMigrations({ origin: "user", file: "b.sql", text: "CREATE TABLE a (id INT);\nuse reservation;\nCREATE TABLE b (id INT);\n", version: "user/b.sql", database: "msaportal" },
            ["msaportal", "reservation"]);
        assert.deepStrictEqual(ok.migrations.map((m) => [m.version, m.database, m.creates.join()]), [["user/b.sql.1", "msaportal", "a"], ["user/b.sql.2", "reservation", "b"]]);
        assert.deepStrictEqual(ok.refused, []);
    });
});
