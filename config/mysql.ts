// What depends on the MySQL server's version, in one place: the supported series, the server settings the
// platform renders (components/database.ts), the data directory on the claim, and what each client driver of
// the services needs to log in under the server's default authentication. The policy pack, the served database
// URLs (config/served.ts) and the boot check (scripts/lib/boot-check.ts) read it from here.

/** A MySQL release series the platform supports: its settings below are written and checked for it. */
export interface MysqlSeries {
    readonly series: string;
    /** Oracle's end of premier support (LTS: 5 years), for the refusal's message. */
    readonly supportedUntil: string;
    /** The data directory on the mysql claim: a series reads only a directory it or the series it upgrades from wrote. */
    readonly dataDirectory: string;
}

/**
 * 8.4 LTS. 5.7 (end of support October 2023) and 8.0 (April 2026) are out of support, and 5.7 is below what
 * Hibernate 6.6 (Spring Boot 3.5) supports. Innovation series (9.x before the next LTS) are supported only until
 * the next release, so they are not listed.
 */
export const SUPPORTED_MYSQL: readonly MysqlSeries[] = [
    { series: "8.4", supportedUntil: "2029-04", dataDirectory: "mysql-8.4" },
];

/**
 * The directory the reference and earlier platform versions used (5.7 data). 8.4 cannot start on it: MySQL
 * upgrades 5.7 only to 8.0, so an 8.4 server starts on its own directory and the data moves by dump and restore
 * (docs/day-2.md "Move an existing MySQL 5.7 volume to 8.4").
 */
export const LEGACY_DATA_DIRECTORY = "mysql";

/** major.minor of an image tag such as 8.4, 8.4.11, 8.4.11-oraclelinux9; undefined when the tag names no version (lts, latest). */
export function mysqlSeriesOfTag(tag: string | undefined): string | undefined {
    const m = /^(\d+)\.(\d+)(?:\.\d+)?(?:-[\w.-]+)?$/.exec(tag ?? "");
    return m ? `${Number(m[1])}.${Number(m[2])}` : undefined;
}

/** The tag of an image reference (before any @digest); undefined when untagged. */
export function tagOfImage(image: string): string | undefined {
    const ref = image.split("@")[0];
    const last = ref.slice(ref.lastIndexOf("/") + 1);
    const i = last.indexOf(":");
    return i < 0 ? undefined : last.slice(i + 1);
}

/** Whether an image is a MySQL server image (Docker Hub's official mysql, mirrored or not, or Oracle's community-server). */
export function isMysqlImage(image: string): boolean {
    const repo = image.split("@")[0].replace(/:[^/:]*$/, "");
    const parts = repo.split("/");
    const last = parts[parts.length - 1];
    return last === "mysql" || last === "mysql-server" || (last === "community-server" && parts[parts.length - 2] === "mysql");
}

/** Why an image's MySQL is not supported, or undefined when its series is listed. */
export function unsupportedMysql(image: string): string | undefined {
    const series = mysqlSeriesOfTag(tagOfImage(image));
    const listed = SUPPORTED_MYSQL.map((s) => `${s.series} (supported until ${s.supportedUntil})`).join(", ");
    if (series === undefined) return `its tag names no MySQL version; expected a supported series: ${listed}`;
    if (SUPPORTED_MYSQL.some((s) => s.series === series)) return undefined;
    const [major, minor] = series.split(".").map(Number);
    const why = major < 8 || (major === 8 && minor < 4) ? "out of support" : "not a supported series (an innovation release is supported only until the next one)";
    return `MySQL ${series} is ${why}; expected ${listed}`;
}

/** The supported series of a MySQL image, or undefined (the policy pack reports it; the plan keeps the legacy directory). */
export function mysqlSeriesOf(image: string): MysqlSeries | undefined {
    const series = mysqlSeriesOfTag(tagOfImage(image));
    return SUPPORTED_MYSQL.find((s) => s.series === series);
}

/** One server setting of the rendered my.cnf, with why it is there. */
export interface ServerSetting {
    readonly name: string;
    /** undefined: a flag without a value. */
    readonly value?: string;
    readonly role: "primary" | "replica" | "both";
    readonly why: string;
}

/**
 * The [mysqld] settings of the rendered primary.cnf / replica.cnf (server-id is written per pod by the init
 * container). Every name must be an 8.4 server option: tests/mysql-server.test.ts checks them against REMOVED_OPTIONS
 * and starts a real server (MariaDB, which shares these names) on the rendered files.
 */
export const SERVER_SETTINGS: readonly ServerSetting[] = [
    { name: "log-bin", role: "primary", why: "binary log for replicas and point-in-time recovery (the reference's primary.cnf)" },
    { name: "super-read-only", role: "replica", why: "a replica takes no writes, not even from root (the reference's replica.cnf)" },
    {
        name: "character-set-server", value: "utf8mb4", role: "both",
        why: "the charset every application table declares (DEFAULT CHARSET=utf8mb4); the reference's utf8 is utf8mb3, deprecated in 8.4. " +
            "The collation is the charset's default on the server (8.4: utf8mb4_0900_ai_ci)",
    },
];

/**
 * Server options and variables removed in 8.0 or 8.4, which an 8.4 server refuses to start with (MySQL Server
 * Version Reference: "Option and Variable Changes" for 8.0 and 8.4; 8.4 release notes). Dashes and underscores
 * are the same to the server.
 */
export const REMOVED_OPTIONS: readonly string[] = [
    // 8.4
    "default-authentication-plugin", "skip-host-cache", "ssl", "admin-ssl", "have-ssl", "have-openssl", "expire-logs-days",
    "binlog-transaction-dependency-tracking", "avoid-temporal-upgrade", "show-old-temporals", "keyring-encrypted-file-password",
    "master-info-repository", "relay-log-info-repository", "group-replication-recovery-complete-at",
    // 8.0 (settings a 5.7 my.cnf may still carry)
    "query-cache-size", "query-cache-type", "query-cache-limit", "tx-isolation", "tx-read-only", "innodb-large-prefix",
    "innodb-file-format", "log-warnings", "secure-auth", "sync-frm", "innodb-support-xa", "old-passwords",
];

/** A server option name as the server compares it (dashes and underscores alike, an optional loose- prefix). */
export const optionKey = (name: string) => name.toLowerCase().replace(/_/g, "-").replace(/^loose-/, "");

/** The my.cnf of a role, rendered from SERVER_SETTINGS. */
export function serverCnf(role: "primary" | "replica"): string {
    const lines = SERVER_SETTINGS.filter((s) => s.role === role || s.role === "both")
        .map((s) => (s.value === undefined ? s.name : `${s.name}=${s.value}`));
    return `[mysqld]\n${lines.join("\n")}\n`;
}

/**
 * A database client driver the services may carry in build.gradle, and what it needs to log in to the server
 * under 8.4's default authentication, caching_sha2_password (mysql_native_password is off by default in 8.4).
 * Its full authentication (after a server restart, or the first login of a user) sends the password either over
 * TLS or RSA-encrypted with the server's public key. The 8.4 image enables TLS by default with certificates it
 * generates, so the URLs ask for TLS (sslMode=REQUIRED): an encrypted connection whose failure is reported as
 * such, rather than PREFERRED's silent fall-back to plain TCP, where the login then fails on the password.
 * RSA key retrieval (Connector/J allowPublicKeyRetrieval=true) is not used: it trusts whatever key the network
 * returns.
 */
export interface ClientDriver {
    /** group:artifact in build.gradle. */
    readonly artifact: string;
    readonly api: "jdbc" | "r2dbc";
    /** The first version that does caching_sha2_password's full authentication. */
    readonly sinceVersion: string;
    /** URL query parameters it needs, by name. */
    readonly urlParams: Readonly<Record<string, string>>;
    readonly why: string;
}

export const CLIENT_DRIVERS: readonly ClientDriver[] = [
    {
        artifact: "com.mysql:mysql-connector-j", api: "jdbc", sinceVersion: "8.0.31", urlParams: { sslMode: "REQUIRED" },
        why: "Connector/J: full caching_sha2_password authentication over TLS (sslMode, default PREFERRED) or RSA (allowPublicKeyRetrieval, off)",
    },
    {
        // The same driver under its old coordinates (relocated to com.mysql:mysql-connector-j in 8.0.31); sslMode since 8.0.13.
        artifact: "mysql:mysql-connector-java", api: "jdbc", sinceVersion: "8.0.13", urlParams: { sslMode: "REQUIRED" },
        why: "Connector/J: full caching_sha2_password authentication over TLS (sslMode, default PREFERRED) or RSA (allowPublicKeyRetrieval, off)",
    },
    {
        artifact: "io.asyncer:r2dbc-mysql", api: "r2dbc", sinceVersion: "1.0.0", urlParams: { sslMode: "REQUIRED" },
        why: "r2dbc-mysql: full caching_sha2_password authentication only over TLS (\"must require SSL in full authentication phase\"; " +
            "sslMode default PREFERRED)",
    },
    {
        artifact: "dev.miku:r2dbc-mysql", api: "r2dbc", sinceVersion: "0.8.0", urlParams: { sslMode: "REQUIRED" },
        why: "r2dbc-mysql (before io.asyncer): full caching_sha2_password authentication only over TLS",
    },
];

/** a < b for dotted numeric versions (8.0.31 < 8.4.0). */
export function versionBelow(a: string, b: string): boolean {
    const x = a.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
    const y = b.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
        if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0);
    }
    return false;
}

/** The URL parameters every driver of an API needs (they agree: tests/mysql-server.test.ts holds it). */
export function urlParamsFor(api: "jdbc" | "r2dbc"): Readonly<Record<string, string>> {
    return Object.assign({}, ...CLIENT_DRIVERS.filter((d) => d.api === api).map((d) => d.urlParams)) as Record<string, string>;
}

/** A URL with these query parameters set (replacing any value the URL had for them). */
export function withUrlParams(url: string, params: Readonly<Record<string, string>>): string {
    let out = url;
    for (const [k, v] of Object.entries(params)) {
        const re = new RegExp(`([?&])${k}=[^&]*`);
        out = re.test(out) ? out.replace(re, `$1${k}=${v}`) : `${out}${out.includes("?") ? "&" : "?"}${k}=${v}`;
    }
    return out;
}

/** The parameters of a URL's query string. */
export function urlParamsOf(url: string): Record<string, string> {
    const q = url.includes("?") ? url.slice(url.indexOf("?") + 1) : "";
    return Object.fromEntries(q.split("&").filter(Boolean).map((kv) => {
        const i = kv.indexOf("=");
        return i < 0 ? [kv, ""] : [kv.slice(0, i), kv.slice(i + 1)];
    }));
}
