// What a local run (scripts/lib/local-run.ts) starts for an image reference: the image's own start command,
// environment, working directory and files, on this machine's programs. The backend images are read from each
// service's Dockerfile in the application checkout (the jar is the one `npm run apps:build` built); MySQL and
// RabbitMQ are Debian's MariaDB and RabbitMQ behind an entrypoint that does what the official images' does with the
// same environment. Other resolvers (the frontends') live beside their builds and have the same type.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { platformImageName } from "../../config/images";
import type { Obj } from "./mocked-run";

/** An image as a local run starts it (Kubernetes' rules: `command` replaces entrypoint+cmd, `args` replaces cmd). */
export interface ImageSpec {
    /** The image's filesystem, unpacked (the container chroots into it); absent: this machine's own. */
    readonly rootfs?: string;
    readonly entrypoint: readonly string[];
    readonly cmd: readonly string[];
    /** The image's ENV (the pod's env overrides it). */
    readonly env: Readonly<Record<string, string>>;
    readonly workingDir?: string;
    /** Files the image carries, by path in the container: a host file to show there, or "" for an empty directory. */
    readonly files?: Readonly<Record<string, string>>;
    /** The image's USER when the pod sets none; root by default. */
    readonly user?: { readonly uid: number; readonly gid: number };
    /** What this image stands for, for logs: e.g. "Debian MariaDB 10.11 for mysql:8.4.11". */
    readonly note?: string;
}

/** The container and pod an image is asked for (a resolver may look at the workload's name or labels). */
export interface ImageContext {
    readonly container: Obj;
    readonly workload: string;
}

/** Image reference -> how to run it here; undefined: not this resolver's. */
export type ImageResolver = (image: string, ctx: ImageContext) => ImageSpec | undefined;

/** The repository part of a reference, without registry, tag or digest: "docker.io/library/mysql:8.4.11" -> "library/mysql". */
export function repositoryOf(ref: string): string {
    let r = ref.split("@")[0];
    const slash = r.lastIndexOf("/");
    const colon = r.lastIndexOf(":");
    if (colon > slash) r = r.slice(0, colon);
    const parts = r.split("/");
    if (parts.length > 1 && (parts[0].includes(".") || parts[0].includes(":") || parts[0] === "localhost")) parts.shift();
    return parts.join("/");
}

const HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface Dockerfile {
    readonly env: Record<string, string>;
    readonly workingDir?: string;
    readonly entrypoint: string[];
    readonly cmd: string[];
    /** COPY destinations (absolute) of the build's jar. */
    readonly jarAt: string[];
    /** Directories made by `RUN mkdir -p`. */
    readonly dirs: string[];
    /** Instructions with no effect here, for the notes (e.g. RUN apt-get install curl: this machine has curl). */
    readonly ignored: string[];
}

/** Reads the Dockerfile instructions a backend image is made of; anything else is refused, naming the line. */
export function parseDockerfile(text: string, file: string): Dockerfile {
    const env: Record<string, string> = {};
    let workingDir: string | undefined;
    let entrypoint: string[] = [];
    let cmd: string[] = [];
    const jarAt: string[] = [];
    const dirs: string[] = [];
    const ignored: string[] = [];
    const expand = (s: string) => s.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (m, k: string) => env[k] ?? m);
    const execForm = (rest: string, n: number): string[] => {
        try {
            const v = JSON.parse(rest) as unknown;
            if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
        } catch { /* below */ }
        throw new Error(`${file}:${n}: only the exec form (a JSON array) is understood: ${rest}`);
    };
    text.split("\n").forEach((line, i) => {
        const n = i + 1;
        const t = line.trim();
        if (!t || t.startsWith("#")) return;
        const m = /^([A-Za-z]+)\s+(.*)$/.exec(t);
        if (!m) throw new Error(`${file}:${n}: not understood: ${t}`);
        const [, instr, rest] = m;
        switch (instr.toUpperCase()) {
            case "FROM": case "EXPOSE": return;
            case "ENV": {
                const kv = /^([A-Za-z_][A-Za-z0-9_]*)(?:=|\s+)(.*)$/.exec(rest);
                if (!kv) throw new Error(`${file}:${n}: ENV not understood: ${rest}`);
                env[kv[1]] = expand(kv[2].replace(/^"(.*)"$/, "$1"));
                return;
            }
            case "WORKDIR": workingDir = path.posix.resolve(workingDir ?? "/", expand(rest)); return;
            case "CMD": cmd = execForm(rest, n); return;
            case "ENTRYPOINT": entrypoint = execForm(rest, n); cmd = []; return;
            case "COPY": {
                const parts = rest.split(/\s+/);
                if (parts.length !== 2 || !/^build\/libs\/\*\.jar$/.test(parts[0])) throw new Error(`${file}:${n}: COPY of anything but build/libs/*.jar: ${rest}`);
                jarAt.push(path.posix.resolve(workingDir ?? "/", expand(parts[1])));
                return;
            }
            case "RUN": {
                const mk = /^mkdir\s+-p\s+(\S+(?:\s+\S+)*)$/.exec(rest);
                if (mk) dirs.push(...mk[1].split(/\s+/).map(expand));
                else ignored.push(`${file}:${n}: ${t}`);
                return;
            }
            default: throw new Error(`${file}:${n}: instruction ${instr} not understood`);
        }
    });
    return { env, workingDir, entrypoint, cmd, jarAt, dirs, ignored };
}

/**
 * The backend images: `<registry>/egovframe-msa-edu-backend-<service>` (the platform's names, config/images.ts)
 * run from the service's Dockerfile with the jar `npm run apps:build` made; `jars`: service -> executable jar.
 */
export function backendImages(checkout: string, jars: Readonly<Record<string, string>>): ImageResolver {
    const javaHome = path.dirname(path.dirname(fs.realpathSync("/usr/bin/java")));
    return (image) => {
        const repo = repositoryOf(image).split("/").pop() ?? "";
        const service = Object.keys(jars).find((s) => platformImageName("backend", s) === repo);
        if (!service) return undefined;
        const file = path.join(checkout, "backend", service, "Dockerfile");
        const d = parseDockerfile(fs.readFileSync(file, "utf8"), file);
        const files: Record<string, string> = {};
        for (const dir of d.dirs) files[dir] = "";
        for (const to of d.jarAt) files[to] = jars[service];
        return {
            entrypoint: d.entrypoint, cmd: d.cmd, workingDir: d.workingDir, files,
            // eclipse-temurin's own ENV, with this machine's JDK 17 in place of the image's.
            env: { PATH: `${javaHome}/bin:${HOST_PATH}`, JAVA_HOME: javaHome, LANG: "C.UTF-8", ...d.env },
            note: `${service}: ${path.relative(checkout, file)} with ${jars[service]}, this machine's ${javaHome}`,
        };
    };
}

const INFRA_DIR = path.join(os.tmpdir(), `egov-apprun-images-${process.pid}`);
let infraCleanup = false;

/** Where the infra images' entrypoints and configuration are written (one directory per process, gone at exit). */
function infraFile(name: string, text: string): string {
    fs.mkdirSync(INFRA_DIR, { recursive: true });
    const file = path.join(INFRA_DIR, name);
    fs.writeFileSync(file, text, { mode: 0o755 });
    if (!infraCleanup) {
        infraCleanup = true;
        process.once("exit", () => fs.rmSync(INFRA_DIR, { recursive: true, force: true }));
    }
    return file;
}

// What the mysql image's docker-entrypoint.sh does for `mysqld` on an empty data directory, with MariaDB: the root
// password and MYSQL_ROOT_HOST user, MYSQL_DATABASE, MYSQL_USER/MYSQL_PASSWORD with all privileges on it, then every
// /docker-entrypoint-initdb.d file (*.sh sourced, *.sql run as root), then the server. Values reach SQL from the
// environment through stdin, escaped: never on a command line.
const MYSQL_ENTRYPOINT = String.raw`#!/bin/bash
set -eo pipefail
DEFAULTS=/etc/egov-image/my.cnf
if [ "$1" != mysqld ]; then exec "$@"; fi
shift
# A MySQL 8.4 setting MariaDB refuses is skipped (commented out in the pod's copy) and named; nothing else is changed.
for attempt in $(seq 1 20); do
  err=$(mariadbd --defaults-file=$DEFAULTS --help --verbose 2>&1 >/dev/null | grep -o "unknown \(variable\|option\) '[^']*'" | head -n 1 || true)
  [ -z "$err" ] && break
  bad=$(echo "$err" | sed "s/.*'\(-*\)\([^'=]*\).*/\2/")
  hit=$(grep -l -E "^[[:space:]]*$bad([[:space:]]*=|[[:space:]]*$)" /etc/mysql/conf.d/*.cnf | head -n 1 || true)
  [ -z "$hit" ] && { echo "egov-image: MariaDB refuses $err, not from /etc/mysql/conf.d" >&2; exit 1; }
  sed -i -E "s/^([[:space:]]*$bad([[:space:]]*=.*)?)$/# skipped, MariaDB refuses it: \1/" "$hit"
  echo "egov-image: skipped the MySQL setting '$bad' of $hit: MariaDB refuses it ($err)" >&2
done
# As MySQL 8's auto_generate_certs on a data directory without them: a self-signed CA and server certificate (the
# services connect with sslMode=REQUIRED; MariaDB 10.11 generates none itself).
if [ ! -f /var/lib/mysql/server-key.pem ]; then
  ( cd /var/lib/mysql && umask 077 &&
    openssl req -newkey rsa:2048 -days 3650 -nodes -x509 -subj "/CN=MySQL_Server_Auto_Generated_CA_Certificate" -keyout ca-key.pem -out ca.pem 2>/dev/null &&
    openssl req -newkey rsa:2048 -nodes -subj "/CN=MySQL_Server_Auto_Generated_Server_Certificate" -keyout server-key.pem -out server-req.pem 2>/dev/null &&
    openssl x509 -req -in server-req.pem -days 3650 -CA ca.pem -CAkey ca-key.pem -set_serial 01 -out server-cert.pem 2>/dev/null &&
    rm server-req.pem && chmod 644 ca.pem server-cert.pem )
fi
esc() { local s=${"${"}1//\\/\\\\}; s=${"${"}s//\'/\\\'}; printf '%s' "$s"; }
if [ ! -d /var/lib/mysql/mysql ]; then
  : "${"${"}MYSQL_ROOT_PASSWORD:?the mysql image needs MYSQL_ROOT_PASSWORD}"
  echo "egov-image: initializing the data directory" >&2
  mariadb-install-db --defaults-file=$DEFAULTS --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve >/dev/null
  mariadbd --defaults-file=$DEFAULTS --skip-networking --socket=/var/run/mysqld/init.sock --skip-log-bin &
  pid=$!
  for i in $(seq 1 120); do mariadb-admin --no-defaults --socket=/var/run/mysqld/init.sock -uroot ping >/dev/null 2>&1 && break; sleep 0.5; done
  client() { mariadb --no-defaults --socket=/var/run/mysqld/init.sock -uroot "$@"; }
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    echo "DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1', 'root'@'$(esc "$(hostname)")';"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$(esc "$MYSQL_ROOT_PASSWORD")';"
    if [ -n "$MYSQL_ROOT_HOST" ] && [ "$MYSQL_ROOT_HOST" != localhost ]; then
      echo "CREATE USER 'root'@'$(esc "$MYSQL_ROOT_HOST")' IDENTIFIED BY '$(esc "$MYSQL_ROOT_PASSWORD")';"
      echo "GRANT ALL ON *.* TO 'root'@'$(esc "$MYSQL_ROOT_HOST")' WITH GRANT OPTION;"
    fi
    [ -n "$MYSQL_DATABASE" ] && echo "CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\`;"
    if [ -n "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
      echo "CREATE USER '$(esc "$MYSQL_USER")'@'%' IDENTIFIED BY '$(esc "$MYSQL_PASSWORD")';"
      [ -n "$MYSQL_DATABASE" ] && echo "GRANT ALL ON \`$MYSQL_DATABASE\`.* TO '$(esc "$MYSQL_USER")'@'%';"
    fi
    echo "FLUSH PRIVILEGES;"
  } | client
  export MYSQL_PWD="$MYSQL_ROOT_PASSWORD"
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "egov-image: running $f" >&2; . "$f" ;;
      *.sql) echo "egov-image: running $f" >&2; client < "$f" ;;
      *) [ -e "$f" ] && echo "egov-image: ignoring $f" >&2 ;;
    esac
  done
  unset MYSQL_PWD
  kill "$pid"; wait "$pid" || true
  echo "egov-image: initialized" >&2
fi
exec mariadbd --defaults-file=$DEFAULTS "$@"
`;

// The mysql image's /etc/my.cnf, for MariaDB: its data, socket and pid paths, every interface, the certificates
// MySQL generates into the data directory, and the pod's conf.d.
const MYSQL_CNF = `[mysqld]
datadir=/var/lib/mysql
socket=/var/run/mysqld/mysqld.sock
pid-file=/var/run/mysqld/mysqld.pid
bind-address=0.0.0.0
skip-host-cache
skip-name-resolve
ssl-ca=/var/lib/mysql/ca.pem
ssl-cert=/var/lib/mysql/server-cert.pem
ssl-key=/var/lib/mysql/server-key.pem
!includedir /etc/mysql/conf.d/
`;

/** `mysql:*` images: Debian's MariaDB (installed here) with the mysql image's entrypoint behaviour and paths. */
export function mysqlImages(): ImageResolver {
    const entry = infraFile("mysql-entrypoint.sh", MYSQL_ENTRYPOINT);
    const cnf = infraFile("mysql-my.cnf", MYSQL_CNF);
    return (image) => {
        if (!/(^|\/)mysql$/.test(repositoryOf(image))) return undefined;
        return {
            entrypoint: ["/usr/local/bin/docker-entrypoint.sh"], cmd: ["mysqld"],
            env: { PATH: HOST_PATH, GOSU_VERSION: "none" },
            files: { "/usr/local/bin/docker-entrypoint.sh": entry, "/etc/egov-image/my.cnf": cnf, "/etc/mysql/conf.d": "" },
            note: `Debian's MariaDB (${fs.existsSync("/usr/sbin/mariadbd") ? "/usr/sbin/mariadbd" : "missing: apt-get install mariadb-server"}) for ${image}`,
        };
    };
}

// The rabbitmq image's start: its configuration (/etc/rabbitmq/conf.d: every interface, the management listener,
// logs to the console), the default user from RABBITMQ_DEFAULT_USER/PASS (the image's environment) written as
// Erlang terms to the pod's /tmp (the root filesystem is read-only; a password's characters need no cuttlefish
// quoting there), then the server. The rendered conf.d files are read through a copy in /tmp: a key the stand-in
// broker's own schemas (cuttlefish mappings) do not know is commented out there and named in the pod's log, as
// MariaDB's refused my.cnf settings are (the image's newer RabbitMQ knows it: 4.x's deprecated_features.permit.*,
// which 3.10 fails to boot on).
const RABBITMQ_ENTRYPOINT = String.raw`#!/bin/bash
set -eo pipefail
if [ "$1" = rabbitmq-server ]; then
  q() { local s=${"${"}1//\\/\\\\}; s=${"${"}s//\"/\\\"}; printf '%s' "$s"; }
  mkdir -p /tmp/egov-rabbitmq/conf.d
  known=/tmp/egov-rabbitmq/known-keys
  find /usr/lib/rabbitmq/lib -name '*.schema' -exec grep -ho '{mapping, *"[^"]*"' {} + |
    sed -e 's/^{mapping, *"//' -e 's/"$//' -e 's/[.]/[.]/g' -e 's/[$][A-Za-z_]*/[^.]+/g' -e 's/^/^/' -e 's/$/$/' > "$known"
  for f in /etc/rabbitmq/conf.d/*.conf; do
    [ -e "$f" ] || continue
    while IFS= read -r line || [ -n "$line" ]; do
      key=$(printf '%s' "$line" | sed -n 's/^[[:space:]]*\([^#[:space:]=][^[:space:]=]*\)[[:space:]]*=.*/\1/p')
      if [ -n "$key" ] && ! printf '%s\n' "$key" | grep -qEf "$known"; then
        echo "stand-in RabbitMQ $(ls /usr/lib/rabbitmq/lib | sed -n 's/^rabbitmq_server-//p') has no setting $key ($(basename "$f")): left out of this run" >&2
        printf '# not known to this RabbitMQ: %s\n' "$line"
      else
        printf '%s\n' "$line"
      fi
    done < "$f" > "/tmp/egov-rabbitmq/conf.d/$(basename "$f")"
  done
  export RABBITMQ_CONFIG_FILES=/tmp/egov-rabbitmq/conf.d
  umask 077
  printf '[{rabbit, [{default_user, <<"%s">>}, {default_pass, <<"%s">>}]}].\n' "$(q "$RABBITMQ_DEFAULT_USER")" "$(q "$RABBITMQ_DEFAULT_PASS")" > /tmp/egov-rabbitmq/advanced.config
  export RABBITMQ_ADVANCED_CONFIG_FILE=/tmp/egov-rabbitmq/advanced.config
fi
exec "$@"
`;
const RABBITMQ_CONF = `loopback_users.guest = false
listeners.tcp.default = 5672
management.tcp.port = 15672
log.console = true
`;

/** `rabbitmq:*` images: Debian's RabbitMQ (installed here) with the image's configuration and default user. */
export function rabbitmqImages(): ImageResolver {
    const entry = infraFile("rabbitmq-entrypoint.sh", RABBITMQ_ENTRYPOINT);
    const conf = infraFile("rabbitmq.conf", RABBITMQ_CONF);
    const plugins = infraFile("rabbitmq-enabled-plugins", "[rabbitmq_management,rabbitmq_prometheus].\n");
    return (image) => {
        if (!/(^|\/)rabbitmq$/.test(repositoryOf(image))) return undefined;
        return {
            entrypoint: ["/usr/local/bin/docker-entrypoint.sh"], cmd: ["rabbitmq-server"],
            env: {
                PATH: `/usr/lib/rabbitmq/bin:${HOST_PATH}`, HOME: "/var/lib/rabbitmq", RABBITMQ_DATA_DIR: "/var/lib/rabbitmq",
                RABBITMQ_CONFIG_FILE: "/etc/egov-image/rabbitmq/rabbitmq.conf", RABBITMQ_ENABLED_PLUGINS_FILE: "/etc/egov-image/rabbitmq/enabled_plugins",
                RABBITMQ_MNESIA_BASE: "/var/lib/rabbitmq/mnesia", RABBITMQ_LOGS: "-", RABBITMQ_LOG_BASE: "/var/lib/rabbitmq/log",
            },
            files: {
                "/usr/local/bin/docker-entrypoint.sh": entry, "/etc/egov-image/rabbitmq/rabbitmq.conf": conf,
                "/etc/egov-image/rabbitmq/enabled_plugins": plugins,
            },
            note: `Debian's RabbitMQ (/usr/lib/rabbitmq) for ${image}`,
        };
    };
}
