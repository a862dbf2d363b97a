// Versioned schema migrations (issue 27): the application's own SQL, read from its checkout, and the user's files
// (database.initScriptsPath), cut into one migration per database, in a fixed order. jobs/migrate/migrate.sh
// applies each once (a history table per database) before the services that read the database roll.
// The platform owns the database users: a statement that manages users, grants or passwords never runs from
// these files (the application's are stripped with a reason; a user's file with one is refused). Nothing is
// dropped either. Pure: the files come in as text (config/application.ts, config/files.ts read them).
import { createHash } from "crypto";
import type { Migration, StrippedStatement } from "./types";
import { PROJECT } from "./project";

/**
 * The application's SQL files, in the order they are applied, and how each one's database is known: its `use`
 * statements, or the service whose schema it is (the catalog's database, from upstream config/<service>.yml's
 * URL: config/catalog.ts). Facts of upstream d830e08:
 * - initdb.sql: lines 1-8 create the databases and `msaportal` with password `msaportal` and its grants, line 10
 *   `use reservation;` (table reserve), line 51 `use msaportal;` (26 tables and their reference rows); every
 *   CREATE TABLE follows a `DROP TABLE IF EXISTS` (lines 23, 74, ..., 849).
 * - reserve-*-service schema.sql: CREATE TABLE IF NOT EXISTS, each run by nothing (no spring.sql.init, no
 *   initializer bean); the services' R2DBC URLs name msaportal (item) and reservation (check, request).
 */
export const APPLICATION_SQL: readonly ApplicationSqlFile[] = [
    { file: "k8s/environments/databases/mysql/init/initdb.sql", version: "1", database: { from: "use" } },
    { file: "backend/reserve-item-service/src/main/resources/schema.sql", version: "2", database: { from: "service", service: "reserve-item-service" } },
    { file: "backend/reserve-check-service/src/main/resources/schema.sql", version: "3", database: { from: "service", service: "reserve-check-service" } },
    { file: "backend/reserve-request-service/src/main/resources/schema.sql", version: "4", database: { from: "service", service: "reserve-request-service" } },
];

export interface ApplicationSqlFile {
    /** Path in the application checkout. */
    readonly file: string;
    /** The migration version (a file cut by `use` statements gets <version>.<n>). */
    readonly version: string;
    readonly database: { readonly from: "use" } | { readonly from: "service"; readonly service: string };
}

/** The history table jobs/migrate/migrate.sh keeps in each database it migrates. */
export const HISTORY_TABLE = "egov_schema_history";

/** One SQL statement as written (comments included), without its `;`, and the line it starts on. */
export interface Statement {
    readonly text: string;
    readonly line: number;
}

/**
 * Splits SQL as the mysql client does at `;`: not inside quotes ('', "", ``), comments (--, #, block comments)
 * or executable comments. DELIMITER is not supported (see classify).
 */
export function splitStatements(sql: string): Statement[] {
    const out: Statement[] = [];
    let start = 0;
    let line = 1;
    let startLine = 1;
    let i = 0;
    const push = (end: number) => {
        const text = sql.slice(start, end);
        if (stripComments(text).trim() !== "" || /\/\*!/.test(text)) {
            // The line of its first token: past blanks and plain comments.
            const lead = /^(?:\s+|(?:--\s|#)[^\n]*|\/\*(?!!)[\s\S]*?\*\/)*/.exec(text)?.[0].length ?? 0;
            out.push({ text: text.trim(), line: startLine + (text.slice(0, lead).match(/\n/g)?.length ?? 0) });
        }
    };
    while (i < sql.length) {
        const c = sql[i];
        const next = sql[i + 1];
        if (c === "\n") {
            line++;
            i++;
        } else if (c === "'" || c === '"' || c === "`") {
            i++;
            while (i < sql.length && sql[i] !== c) {
                if (sql[i] === "\\" && c !== "`") i++;
                if (sql[i] === "\n") line++;
                i++;
            }
            i++; // closing quote ('' doubles as an escape: two strings back to back split the same way)
        } else if ((c === "-" && next === "-" && /[\s]/.test(sql[i + 2] ?? " ")) || c === "#") {
            while (i < sql.length && sql[i] !== "\n") i++;
        } else if (c === "/" && next === "*") {
            // An executable comment (/*!40101 ... */) is SQL to the server; its `;` (none in dumps) is not looked at.
            const end = sql.indexOf("*/", i + 2);
            const stop = end < 0 ? sql.length : end + 2;
            line += sql.slice(i, stop).match(/\n/g)?.length ?? 0;
            i = stop;
        } else if (c === ";") {
            push(i);
            i++;
            start = i;
            startLine = line;
        } else {
            i++;
        }
    }
    push(sql.length);
    return out;
}

/** The statement as the server reads it: plain comments out, executable comments' bodies in, one space. */
export function statementHead(text: string): string {
    return stripComments(text.replace(/\/\*!\d*\s?([\s\S]*?)\*\//g, " $1 ")).replace(/\s+/g, " ").trim();
}

function stripComments(text: string): string {
    // Good enough for classification: quotes are not parsed here, the split above already was.
    return text.replace(/\/\*(?!!)[\s\S]*?\*\//g, " ").replace(/(^|\n)\s*(--\s|#)[^\n]*/g, "\n");
}

export type StatementKind = "user" | "password" | "drop" | "database" | "use" | "delimiter" | "create-table" | "insert" | "other";

/** What a statement does, as far as the platform's rules care. */
export function classify(text: string): { kind: StatementKind; what: string; database?: string; table?: string } {
    const head = statementHead(text);
    const up = head.toUpperCase();
    const first = (n: number) => up.split(" ").slice(0, n).join(" ");
    let m: RegExpMatchArray | null;
    if (/^(CREATE|DROP|ALTER|RENAME) USER\b/.test(up) || /^(GRANT|REVOKE)\b/.test(up) || /^SET PASSWORD\b/.test(up) || /^FLUSH PRIVILEGES\b/.test(up)
        || /^(CREATE|DROP) ROLE\b/.test(up) || /^SET (DEFAULT )?ROLE\b/.test(up)) {
        return { kind: "user", what: /^(GRANT|REVOKE)\b/.test(up) ? first(1) : first(up.startsWith("SET DEFAULT") ? 3 : 2) };
    }
    if (/\bIDENTIFIED (BY|WITH|VIA)\b/.test(up) || /\bPASSWORD\s*\(/.test(up)) return { kind: "password", what: first(2) };
    if (/^(DROP (TABLE|DATABASE|SCHEMA|VIEW)|TRUNCATE)\b/.test(up)) return { kind: "drop", what: up.startsWith("TRUNCATE") ? "TRUNCATE" : first(2) };
    if (/^CREATE (DATABASE|SCHEMA)\b/.test(up)) return { kind: "database", what: first(2) };
    if ((m = /^USE\s+`?([\w$]+)`?$/i.exec(head))) return { kind: "use", what: "USE", database: m[1] };
    if (/^DELIMITER\b/.test(up)) return { kind: "delimiter", what: "DELIMITER" };
    if ((m = /^CREATE (?:TEMPORARY )?TABLE (?:IF NOT EXISTS )?`?([\w$]+)`?/i.exec(head))) {
        return { kind: "create-table", what: "CREATE TABLE", table: m[1] };
    }
    if (/^INSERT\b/.test(up)) return { kind: "insert", what: "INSERT" };
    return { kind: "other", what: first(2) };
}

/**
 * The columns a CREATE TABLE statement defines, lower-cased: the first name of each top-level item of its
 * parenthesised list that is not a key, index or constraint. CREATE TABLE ... LIKE / AS SELECT define none here.
 */
export function createTableColumns(text: string): string[] {
    const body = stripComments(text);
    const open = body.indexOf("(");
    if (open < 0) return [];
    const items: string[] = [];
    let depth = 0;
    let quote = "";
    let start = open + 1;
    for (let i = open; i < body.length; i++) {
        const c = body[i];
        if (quote) { if (c === quote && body[i - 1] !== "\\") quote = ""; continue; }
        if (c === "'" || c === "\"" || c === "`") quote = c;
        else if (c === "(") depth++;
        else if (c === ")" && --depth === 0) { items.push(body.slice(start, i)); break; }
        else if (c === "," && depth === 1) { items.push(body.slice(start, i)); start = i + 1; }
    }
    return items.map((x) => x.trim())
        .filter((x) => !/^(?:PRIMARY|KEY|INDEX|UNIQUE|CONSTRAINT|FOREIGN|FULLTEXT|SPATIAL|CHECK|PERIOD)\b/i.test(x))
        .map((x) => /^`([^`]+)`|^([\w$]+)/.exec(x))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => (m[1] ?? m[2]).toLowerCase());
}

/** Why a statement never runs from a migration file. */
export const NEVER_RUN: Readonly<Partial<Record<StatementKind, string>>> = {
    user: "the platform owns the database users: it creates the application user with a generated password and grants it its databases " +
        "(config/plan.ts databasesSql); a user or grant statement here would reset or widen them",
    password: "a literal password would put a well-known credential in the database; the platform's are generated (Pulumi state)",
    drop: "migrations never drop data: tables are created IF NOT EXISTS instead, and dropping is an operator's decision (docs/day-2.md)",
    database: "the platform creates the databases (stack config database.databases, config/plan.ts databasesSql)",
    delimiter: "DELIMITER is a command of the interactive client, not SQL; stored routines are not supported in migrations",
};

export interface MigrationSource {
    /** Where it comes from, for messages: an application file or a user's file. */
    readonly origin: "application" | "user";
    /** File name (application: path in the checkout). */
    readonly file: string;
    readonly text: string;
    readonly version: string;
    /** The database before any `use` statement; undefined: the file must say. */
    readonly database?: string;
}

/** A statement that may not run from a user's file: the file, the line, the statement and why. */
export interface Refusal {
    readonly file: string;
    readonly line: number;
    readonly what: string;
    readonly reason: string;
}

/**
 * Cuts one file into migrations, one per `use` segment. The application's statements that must never run are
 * stripped (recorded with their reason, and named in a comment where they were); its CREATE TABLEs get
 * IF NOT EXISTS and its INSERTs IGNORE, so a re-run after a failure part-way completes what is missing without
 * duplicating rows. A user's file is not rewritten: any such statement is refused.
 */
export function fileMigrations(src: MigrationSource, databases: readonly string[]): { migrations: Migration[]; refused: Refusal[] } {
    const refused: Refusal[] = [];
    interface Segment { database?: string; line: number; parts: string[]; statements: number; creates: string[]; stripped: StrippedStatement[] }
    const segments: Segment[] = [];
    let current: Segment = { database: src.database, line: 1, parts: [], statements: 0, creates: [], stripped: [] };
    let carried: StrippedStatement[] = [];
    const close = () => {
        if (current.statements > 0) {
            segments.push({ ...current, stripped: [...carried, ...current.stripped] });
            carried = [];
        } else {
            carried = [...carried, ...current.stripped];
        }
    };
    for (const st of splitStatements(src.text)) {
        const c = classify(st.text);
        const reason = NEVER_RUN[c.kind];
        if (reason) {
            if (src.origin === "user") refused.push({ file: src.file, line: st.line, what: c.what, reason });
            current.stripped.push({ file: src.file, line: st.line, what: c.what, reason });
            // Named, never quoted: the statement may carry a password.
            current.parts.push(`-- line ${st.line}: ${c.what} statement stripped (${c.kind})`);
            continue;
        }
        if (c.kind === "use") {
            if (!databases.includes(c.database!)) {
                refused.push({ file: src.file, line: st.line, what: `USE ${c.database}`,
                    reason: `the stack creates no database ${c.database} (stack config database.databases: ${databases.join(", ")})` });
            }
            close();
            current = { database: c.database, line: st.line, parts: [], statements: 0, creates: [], stripped: [] };
            continue;
        }
        let text = st.text;
        if (src.origin === "application" && c.kind === "create-table" && !/^\s*CREATE\s+(TEMPORARY\s+)?TABLE\s+IF\s+NOT\s+EXISTS\b/i.test(statementHead(text))) {
            text = text.replace(/\bCREATE(\s+)TABLE\b/i, "CREATE$1TABLE IF NOT EXISTS");
        }
        if (src.origin === "application" && c.kind === "insert" && !/^INSERT\s+IGNORE\b/i.test(statementHead(text))) {
            text = text.replace(/\bINSERT(\s+)INTO\b/i, "INSERT$1IGNORE INTO");
        }
        if (c.kind === "create-table" && c.table && !current.creates.includes(c.table)) current.creates.push(c.table);
        current.parts.push(`${text};`);
        current.statements++;
    }
    close();
    if (carried.length > 0 && segments.length > 0) segments[segments.length - 1].stripped.push(...carried);

    const migrations = segments.map((s, i): Migration => {
        const version = segments.length === 1 ? src.version : `${src.version}.${i + 1}`;
        if (s.database === undefined) {
            refused.push({ file: src.file, line: s.line, what: "(no database)", reason: "statements before any `use <database>;` and no database to run them in" });
        }
        const database = s.database ?? "";
        const name = `${src.file}${segments.length === 1 ? "" : ` (${database})`}`;
        const sql = `-- egov-platform migration ${version}: ${name}, from the ${src.origin === "application" ? "application checkout" : "stack's database.initScriptsPath"}\n` +
            `${s.parts.join("\n")}\n`;
        return {
            version, name, origin: src.origin, database, sql,
            checksum: createHash("sha256").update(sql).digest("hex"),
            creates: s.creates,
            stripped: s.stripped,
        };
    });
    return { migrations, refused };
}

/** The migrations' fingerprint: a new set (a changed or added migration) is a new Job. */
export function migrationSetHash(migrations: readonly Migration[]): string {
    return createHash("sha256").update(migrations.map((m) => `${m.version} ${m.database} ${m.checksum}`).join("\n")).digest("hex").slice(0, 10);
}

/** The runner's input: manifest.tsv (version, database, checksum, file, tables it creates, name), one file per migration. */
export function migrationFiles(migrations: readonly Migration[]): Record<string, string> {
    const files: Record<string, string> = {};
    const lines = migrations.map((m, i) => {
        const file = `${String(i + 1).padStart(3, "0")}.sql`;
        files[file] = m.sql;
        return [m.version, m.database, m.checksum, file, m.creates.join(",") || "-", m.name].join("\t");
    });
    files["manifest.tsv"] = `${lines.join("\n")}\n`;
    return files;
}

/**
 * Every migration of a stack, in order: the application's files, then the user's (by file name, version
 * `user/<file>`). Problems name the key: applicationCheckout for the application's files (a database the stack
 * does not create), database.initScriptsPath for a user's file with a statement that never runs.
 */
export function stackMigrations(
    sqlFiles: Readonly<Record<string, string>>, userFiles: Readonly<Record<string, string>>,
    serviceDatabases: Readonly<Record<string, string | undefined>>, databases: readonly string[], defaultDatabase: string,
): { migrations: Migration[]; problems: string[] } {
    const problems: string[] = [];
    const migrations: Migration[] = [];
    for (const a of APPLICATION_SQL) {
        const text = sqlFiles[a.file];
        if (text === undefined) continue; // no checkout: reported by its reader
        let database: string | undefined;
        if (a.database.from === "service") {
            database = serviceDatabases[a.database.service];
            if (database === undefined) continue; // the service is not in this stack: nothing reads its tables
        }
        const r = fileMigrations({ origin: "application", file: a.file, text, version: a.version, database }, databases);
        for (const x of r.refused) problems.push(`${PROJECT}:applicationCheckout: ${x.file} line ${x.line}: ${x.what}: ${x.reason}`);
        migrations.push(...r.migrations);
    }
    for (const file of Object.keys(userFiles).sort()) {
        const r = fileMigrations({ origin: "user", file, text: userFiles[file], version: `user/${file}`, database: defaultDatabase }, databases);
        for (const x of r.refused) {
            problems.push(`${PROJECT}:database.initScriptsPath: ${x.file} line ${x.line}: ${x.what} statement refused: ${x.reason}`);
        }
        migrations.push(...r.migrations);
    }
    const total = migrations.reduce((n, m) => n + Buffer.byteLength(m.sql), 0);
    if (total > 900 * 1024) {
        problems.push(`${PROJECT}:database.initScriptsPath: migrations of at most 900 KiB in all (a ConfigMap's limit), the application's ` +
            `included; found ${total} bytes`);
    }
    return { migrations, problems };
}
