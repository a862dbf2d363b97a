// What depends on the MySQL server's version (issue 27, config/mysql.ts): the server settings and scripts the
// stacks render hold for 8.4, and the data moves from 5.7 by the platform's own dump and restore. MySQL 8.4 is not
// installable here (Debian ships MariaDB): its specific parts are held as invariants of the rendered objects (and
// by the policy pack's supported-mysql rule); what MariaDB shares (option names, the client, the restore of a
// 5.7 dump) runs on a real MariaDB server.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { gzipSync } from "zlib";
import { BACKUP_SCRIPTS_DIR } from "../components/backup";
import { defaultImages } from "../config/catalog";
import {
    LEGACY_DATA_DIRECTORY, mysqlSeriesOf, optionKey, REMOVED_OPTIONS, SERVER_SETTINGS, serverCnf, SUPPORTED_MYSQL, unsupportedMysql,
} from "../config/mysql";
import { deploy, Obj, stackConfig } from "./support/harness";
import { Server } from "./support/mariadb";

/** Problems of a my.cnf for an 8.4 server: options it removed, charsets it deprecated. */
function cnfProblems(cnf: string): string[] {
    const removed = new Set(REMOVED_OPTIONS.map(optionKey));
    return cnf.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("[") && !l.startsWith("#")).flatMap((l) => {
        const [name, value] = l.split("=", 2).map((x) => x.trim());
        const out: string[] = [];
        if (removed.has(optionKey(name))) out.push(`${name}: removed`);
        if (value !== undefined && /^utf8(mb3)?(_|$)/i.test(value)) out.push(`${name}=${value}: utf8mb3, deprecated`);
        return out;
    });
}

/** Client syntax MySQL 8.4 removed (8.4 release notes: the MASTER/SLAVE statements, mysql_upgrade, mysqldump's --master-data). */
const REMOVED_CLIENT_SYNTAX: readonly RegExp[] = [
    /--master-data\b/, /--dump-slave\b/, /--apply-slave-statements\b/, /--include-master-host-port\b/, /--delete-master-logs\b/,
    /\bSHOW\s+MASTER\s+STATUS\b/i, /\bSHOW\s+SLAVE\s+(STATUS|HOSTS)\b/i, /\bCHANGE\s+MASTER\b/i, /\b(START|STOP|RESET)\s+SLAVE\b/i, /\bRESET\s+MASTER\b/i,
    /\bmysql_upgrade\b/, /\bmysql_native_password\b/, /--default-auth(entication-plugin)?\b/,
];
const clientProblems = (script: string) => REMOVED_CLIENT_SYNTAX.filter((re) => re.test(script)).map(String);

const statefulSet = (d: { find(kind: string, name: string): Obj | undefined }) => d.find("StatefulSet", "mysql-statefulset")!;

describe("MySQL 8.4: what depends on the server's version", function () {
    this.timeout(5 * 60 * 1000);

    it("is the default, a supported series, and a user's own 8.4 patch is kept", () => {
        assert.strictEqual(unsupportedMysql(defaultImages.mysql), undefined);
        assert.deepStrictEqual(SUPPORTED_MYSQL.map((s) => s.series), ["8.4"]);
        assert.strictEqual(mysqlSeriesOf("harbor.agency.go.kr/egov/docker.io/library/mysql:8.4.3")?.series, "8.4");
        for (const [image, why] of [["mysql:5.7", /5\.7 is out of support/], ["mysql:8.0.40", /8\.0 is out of support/], ["mysql:9.5", /not a supported series/],
            ["mysql:lts", /names no MySQL version/]] as const) {
            assert.match(unsupportedMysql(image) ?? "", why, image);
        }
    });

    it("renders server settings every one of which 8.4 accepts; a 5.7-era my.cnf is refused by the same check", async () => {
        for (const stack of ["dev", "prod"] as const) {
            const d = await deploy(stackConfig(stack), stack);
            const cm = d.of("ConfigMap").find((c) => c.data?.["primary.cnf"] !== undefined)!;
            assert.strictEqual(cm.data["primary.cnf"], serverCnf("primary"));
            assert.strictEqual(cm.data["replica.cnf"], serverCnf("replica"));
            for (const f of ["primary.cnf", "replica.cnf"]) assert.deepStrictEqual(cnfProblems(cm.data[f]), [], `${stack} ${f}`);
            // Nothing else the server reads names a removed option either: its args and env.
            const pod = statefulSet(d).spec.template.spec;
            const text = JSON.stringify([pod.containers, pod.initContainers]);
            assert.ok(!/mysql_native_password|default.authentication.plugin|skip.host.cache/i.test(text), text);
        }
        assert.deepStrictEqual(cnfProblems("[mysqld]\nskip-host-cache\ndefault_authentication_plugin=mysql_native_password\nquery_cache_size=0\n" +
            "character-set-server=utf8\ncollation-server=utf8_general_ci\nlog-bin\n"), [
            "skip-host-cache: removed", "default_authentication_plugin: removed", "query_cache_size: removed",
            "character-set-server=utf8: utf8mb3, deprecated", "collation-server=utf8_general_ci: utf8mb3, deprecated",
        ]);
        // Each setting is declared once, with its reason.
        assert.ok(SERVER_SETTINGS.every((s) => s.why.length > 20));
    });

    it("starts 8.4 on a data directory of its own (5.7's stays as it was), and a pinned 5.7 on the old one", async () => {
        const mount = (d: Awaited<ReturnType<typeof deploy>>) => statefulSet(d).spec.template.spec.containers[0].volumeMounts
            .find((m: Obj) => m.name === "mysql-data");
        assert.strictEqual(mount(await deploy(stackConfig("prod"), "prod")).subPath, "mysql-8.4");
        assert.strictEqual(mount(await deploy(stackConfig("dev", { images: { mysql: "mysql:5.7" } }), "dev")).subPath, LEGACY_DATA_DIRECTORY);
    });

    it("runs no client command or statement 8.4 removed in the scripts of the jobs on the MySQL image", async () => {
        const d = await deploy(stackConfig("prod", { rotation: { mysql: 1 } }), "prod");
        const scripts = d.of("ConfigMap").flatMap((cm) => Object.entries((cm.data ?? {}) as Record<string, string>)
            .filter(([k]) => k.endsWith(".sh") || k.endsWith(".sql")).map(([k, v]) => ({ where: `${cm.metadata.name}/${k}`, v })));
        for (const want of ["backup.sh", "restore.sh", "drill.sh", "migrate.sh", "mysql.sh"]) {
            assert.ok(scripts.some((s) => s.where.endsWith(`/${want}`)), `${want} rendered`);
        }
        for (const s of scripts) assert.deepStrictEqual(clientProblems(s.v), [], s.where);
        assert.strictEqual(clientProblems("mysqldump --master-data=2 --single-transaction db; mysql -e 'SHOW MASTER STATUS'").length, 2);
    });

    describe("on a real server (MariaDB: the same option names and client)", () => {
        const APP = { name: "msaportal", password: "AppPassw0rdFor84Test" };
        // As the drill's root: with binary logging on, only such a user creates triggers and routines (5.7 and 8.4 alike).
        const ADMIN = { name: "egovadmin", password: "AdminPassw0rdFor84Test" };
        let server: Server;
        let dir: string;
        const run = (script: string, args: string[], user = APP, pathPrefix = "") => {
            const r = spawnSync("bash", [path.join(BACKUP_SCRIPTS_DIR, script), ...args], {
                encoding: "utf8",
                env: {
                    PATH: `${pathPrefix}${process.env.PATH ?? "/usr/bin:/bin"}`, TMPDIR: os.tmpdir(), MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(server.port),
                    MYSQL_USER: user.name, MYSQL_PASSWORD: user.password, BACKUP_DIR: dir, DATABASES: "msaportal", RETENTION: "2",
                },
            });
            assert.ok(!`${r.stdout}${r.stderr}`.includes(user.password), `${script} printed the password`);
            return r;
        };

        before(async () => {
            // The rendered primary.cnf's settings as the server's options (a later option wins over the test's own).
            const options = serverCnf("primary").split("\n").filter((l) => l && !l.startsWith("[")).map((l) => `--${l}`);
            server = await Server.start("mysql84", options);
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-mysql84-"));
            server.sql(`CREATE USER '${APP.name}'@'%' IDENTIFIED BY '${APP.password}'`);
            for (const db of ["msaportal", "msaportal_from57"]) server.sql(`GRANT ALL PRIVILEGES ON \`${db}\`.* TO '${APP.name}'@'%'`);
            server.sql(`CREATE USER '${ADMIN.name}'@'%' IDENTIFIED BY '${ADMIN.password}'; GRANT ALL PRIVILEGES ON *.* TO '${ADMIN.name}'@'%'`);
        });
        after(async () => {
            await server?.stop();
            if (dir) fs.rmSync(dir, { recursive: true, force: true });
        });

        it("starts with the rendered server settings in force", () => {
            assert.strictEqual(server.sql("SELECT @@character_set_server, @@log_bin").trim(), "utf8mb4\t1");
        });

        it("restores a dump mysqldump 5.7 wrote with the platform's restore (restore.sh, as npm run db:restore runs it)", () => {
            const file = path.join(dir, "msaportal-5.7.sql.gz");
            fs.writeFileSync(file, gzipSync(DUMP_57));
            const modeOf = (db: string) => server.sql(`SELECT SQL_MODE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${db}'`).trim();
            const r = run("restore.sh", ["--database", "msaportal_from57", "--dump", file, "--create"], ADMIN);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.strictEqual(server.sql("SELECT board_no, board_name, IFNULL(created_date, '-') FROM board ORDER BY board_no", { db: "msaportal_from57" }),
                "1\t공지사항\t2021-10-01 00:00:00\n2\t자유게시판\t-\n");
            assert.strictEqual(server.sql("SELECT TABLE_COLLATION LIKE 'utf8mb4%' FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'msaportal_from57' AND TABLE_NAME = 'board'").trim(), "1");
            // Its trigger came along as written (this server still has 5.7's NO_AUTO_CREATE_USER), defined by the application user.
            assert.match(modeOf("msaportal_from57"), /STRICT_TRANS_TABLES,.*NO_AUTO_CREATE_USER/);
            server.sql("INSERT INTO board (board_name) VALUES ('새 게시판')", { db: "msaportal_from57", user: APP });
            assert.strictEqual(server.sql("SELECT COUNT(*) FROM board_log", { db: "msaportal_from57" }).trim(), "1");

            // MySQL 8.0 and later removed the mode and refuse to set it (ERROR 1231). That one answer is given here by a
            // client wrapper in front of the real one (no 8.4 server is installable): the restore then drops the mode
            // from the stored programs' sql_mode, and the rest of their mode stays.
            const shim = fs.mkdtempSync(path.join(os.tmpdir(), "egov-mysql84-client-"));
            const real = spawnSync("bash", ["-c", "command -v mysql"], { encoding: "utf8" }).stdout.trim();
            fs.writeFileSync(path.join(shim, "mysql"), `#!/bin/bash
for a in "$@"; do
  if [[ $a == *"sql_mode = 'NO_AUTO_CREATE_USER'"* ]]; then
    echo "ERROR 1231 (42000): Variable 'sql_mode' can't be set to the value of 'NO_AUTO_CREATE_USER'" >&2; exit 1
  fi
done
exec ${real} "$@"
`, { mode: 0o755 });
            try {
                const again = run("restore.sh", ["--database", "msaportal_from57", "--dump", file], ADMIN, `${shim}:`);
                assert.strictEqual(again.status, 0, again.stderr);
            } finally {
                fs.rmSync(shim, { recursive: true, force: true });
            }
            assert.match(modeOf("msaportal_from57"), /STRICT_TRANS_TABLES,/);
            assert.doesNotMatch(modeOf("msaportal_from57"), /NO_AUTO_CREATE_USER/);
            assert.strictEqual(server.sql("SELECT COUNT(*) FROM board", { db: "msaportal_from57" }).trim(), "2", "the dump's rows, replacing what was there");
        });

        it("dumps (backup.sh) only the application's database: no system schema, user or grant goes into a backup", () => {
            server.sql("CREATE DATABASE msaportal; CREATE TABLE msaportal.site (id INT PRIMARY KEY, name VARCHAR(20)) DEFAULT CHARSET=utf8mb4; INSERT INTO msaportal.site VALUES (1, '포털')");
            const r = run("backup.sh", []);
            assert.strictEqual(r.status, 0, r.stderr);
            const backup = fs.readdirSync(dir).find((n) => /^\d{8}T/.test(n))!;
            const dump = spawnSync("gzip", ["-dc", path.join(dir, backup, "msaportal.sql.gz")], { encoding: "utf8" }).stdout;
            assert.match(dump, /CREATE TABLE `site`/);
            for (const re of [/CREATE USER/i, /\bGRANT\b/i, /`mysql`\./, /^USE /m, /CREATE DATABASE/i, /IDENTIFIED/i]) assert.doesNotMatch(dump, re);
        });
    });
});

/** A dump of msaportal as mysqldump 5.7 (Distrib 5.7.44) writes it with backup.sh's options: the shape the move to 8.4 restores. */
const DUMP_57 = `-- MySQL dump 10.13  Distrib 5.7.44, for Linux (x86_64)
--
-- Host: mysql    Database: msaportal
-- ------------------------------------------------------
-- Server version\t5.7.44-log

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;

--
-- Table structure for table \`board\`
--

DROP TABLE IF EXISTS \`board\`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8 */;
CREATE TABLE \`board\` (
  \`board_no\` int(9) NOT NULL AUTO_INCREMENT COMMENT '게시판 번호',
  \`board_name\` varchar(100) NOT NULL COMMENT '게시판 명',
  \`created_date\` datetime DEFAULT NULL COMMENT '생성일시',
  PRIMARY KEY (\`board_no\`)
) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COMMENT='게시판';
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table \`board\`
--

LOCK TABLES \`board\` WRITE;
/*!40000 ALTER TABLE \`board\` DISABLE KEYS */;
INSERT INTO \`board\` VALUES (1,'공지사항','2021-10-01 00:00:00');
INSERT INTO \`board\` VALUES (2,'자유게시판',NULL);
/*!40000 ALTER TABLE \`board\` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table \`board_log\`
--

DROP TABLE IF EXISTS \`board_log\`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8 */;
CREATE TABLE \`board_log\` (
  \`board_no\` int(9) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table \`board_log\`
--

LOCK TABLES \`board_log\` WRITE;
/*!40000 ALTER TABLE \`board_log\` DISABLE KEYS */;
/*!40000 ALTER TABLE \`board_log\` ENABLE KEYS */;
UNLOCK TABLES;
/*!50003 SET @saved_cs_client      = @@character_set_client */ ;
/*!50003 SET @saved_cs_results     = @@character_set_results */ ;
/*!50003 SET @saved_col_connection = @@collation_connection */ ;
/*!50003 SET character_set_client  = utf8mb4 */ ;
/*!50003 SET character_set_results = utf8mb4 */ ;
/*!50003 SET collation_connection  = utf8mb4_general_ci */ ;
/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;
/*!50003 SET sql_mode              = 'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */ ;
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=\`msaportal\`@\`%\`*/ /*!50003 TRIGGER board_created AFTER INSERT ON board FOR EACH ROW INSERT INTO board_log VALUES (NEW.board_no) */;;
DELIMITER ;
/*!50003 SET sql_mode              = @saved_sql_mode */ ;
/*!50003 SET character_set_client  = @saved_cs_client */ ;
/*!50003 SET character_set_results = @saved_cs_results */ ;
/*!50003 SET collation_connection  = @saved_col_connection */ ;
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

-- Dump completed on 2026-12-01  2:30:01
`;
