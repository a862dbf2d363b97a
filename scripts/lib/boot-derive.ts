// Derives, by program, what each upstream application needs to start and to pass its probes: read from its
// Java source, packaged YAML, build.gradle and next.config.js (../shared/reference/egovframe-msa-edu). The
// result is plain data with a source file and line per fact; it is committed (scripts/lib/boot-facts.json) so
// the boot check runs without the upstream tree, and a unit test regenerates it to catch upstream changes.
import * as fs from "fs";
import * as path from "path";
import { isMap, isScalar, isSeq, LineCounter, Node, parseDocument } from "yaml";
import { CLIENT_DRIVERS } from "../../config/mysql";

/** A property value from a packaged file, with where it is written. */
export interface SourcedValue { readonly value: string; readonly file: string; readonly line: number }

/** Something the application needs resolved before its context can start. */
export interface Requirement {
    readonly key: string;
    /** What must hold: resolvable at all, or resolvable to a host other than the pod's own localhost, ... */
    readonly rule: "resolvable" | "remote-host" | "not-default-user" | "true";
    /** Spring Boot's own default when the key is unset (it may still fail the rule). */
    readonly bootDefault?: string;
    readonly why: string;
    readonly file: string;
    readonly line: number;
    /** Other keys any one of which satisfies it instead (a condition on either property). */
    readonly alternatives?: readonly string[];
}

export interface PermitRule { readonly pattern: string; readonly file: string; readonly line: number }

export interface ServiceFacts {
    readonly name: string;
    /** Packaged application.yml then bootstrap.yml, flattened (highest precedence first). */
    readonly packaged: Readonly<Record<string, SourcedValue>>;
    readonly bootstrap: Readonly<Record<string, SourcedValue>>;
    readonly requires: readonly Requirement[];
    /** Whether it reads its settings from a config server (spring-cloud-starter-config + bootstrap). */
    readonly configClient?: { readonly file: string; readonly line: number; readonly retryOnClasspath: boolean };
    readonly actuator?: { readonly file: string; readonly line: number };
    /** Security: permitAll patterns (GET), and what any other path gets. */
    readonly security?: { readonly permits: readonly PermitRule[]; readonly otherwise: SourcedValue };
    /** Spring Cloud Stream: the binder, the functional beans and the StreamBridge bindings the code uses. */
    readonly stream?: StreamFacts;
    /** Health contributors its starters bring (HEALTH_INDICATORS), each with the starter's build.gradle line. */
    readonly health?: readonly HealthFacts[];
    /** Directories a bean creates when it starts (@PostConstruct), from a property. */
    readonly writesAtStart?: readonly StartupWrite[];
    /** The tables its entities map (JPA @Entity, R2DBC @Table): each must be created by a migration (config/migrations.ts). */
    readonly entities?: readonly EntityFacts[];
    /** The database client drivers in build.gradle (config/mysql.ts CLIENT_DRIVERS, or another MySQL/MariaDB driver). */
    readonly drivers?: readonly DriverFacts[];
}

export interface DriverFacts {
    readonly artifact: string;
    /** The version build.gradle gives; undefined: the Spring Boot BOM's (bootVersion). */
    readonly version?: string;
    /** The org.springframework.boot plugin's version, whose BOM manages a driver given without one. */
    readonly bootVersion?: string;
    readonly file: string;
    readonly line: number;
}

/** A MySQL or MariaDB client driver's coordinates (the known ones are in config/mysql.ts CLIENT_DRIVERS). */
export const isDatabaseDriver = (artifact: string) =>
    CLIENT_DRIVERS.some((d) => d.artifact === artifact) || /:(mysql-connector-j(ava)?|r2dbc-mysql|r2dbc-mariadb|mariadb-java-client)$/.test(artifact);

export interface EntityFacts {
    readonly class: string;
    readonly table: string;
    readonly api: "jpa" | "r2dbc";
    readonly file: string;
    readonly line: number;
    /** The columns it maps (its fields and its superclasses'); unmapped: fields whose columns cannot be derived. */
    readonly columns: readonly ColumnFacts[];
    readonly unmapped?: readonly UnmappedField[];
}

export interface ColumnFacts {
    readonly name: string;
    /** The Java field (embedded: path through the embeddable, postsId.boardNo) it maps. */
    readonly field: string;
    readonly file: string;
    readonly line: number;
}

/** A field whose columns the derivation cannot tell: boot-check fails it by name rather than drop it. */
export interface UnmappedField { readonly field: string; readonly construct: string; readonly file: string; readonly line: number }

/** One field declaration of a class body: its annotations (with arguments), modifiers, type and name. */
interface JavaField { readonly name: string; readonly type: string; readonly annotations: string; readonly isStatic: boolean; readonly isTransient: boolean; readonly line: number }

/** Blanks comments and string contents' effect on brace counting by keeping strings but dropping comments (same length). */
const blankComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:\\.|[^"\\\n])*"/g,
    (m) => m.startsWith("\"") ? m : m.replace(/[^\n]/g, " "));

/** The fields declared directly in the top-level class of a file (not in methods or nested classes). */
function fieldsOf(f: JavaFile): JavaField[] {
    const text = blankComments(f.text);
    const cls = /^\s*(?:public\s+)?(?:abstract\s+)?class\s+\w+[^{]*\{/m.exec(text);
    if (!cls) return [];
    const out: JavaField[] = [];
    let depth = 0;
    let parens = 0;
    let start = cls.index + cls[0].length;
    for (let i = start; i < text.length; i++) {
        const c = text[i];
        if (c === "\"") { i = text.indexOf("\"", i + 1); while (text[i - 1] === "\\") i = text.indexOf("\"", i + 1); continue; }
        if (c === "(") parens++;
        else if (c === ")") parens--;
        else if (c === "{" && parens === 0) { depth++; continue; }
        else if (c === "}" && parens === 0) {
            if (depth === 0) break;
            depth--;
            if (depth === 0) start = i + 1; // a method, initializer or nested class ended: it declares no field
            continue;
        }
        if (depth === 0 && parens === 0 && c === ";") {
            const declStart = start;
            const decl = text.slice(start, i);
            start = i + 1;
            // Annotations with balanced arguments, then modifiers, type and name (`= init` dropped).
            let rest = decl;
            let annotations = "";
            for (;;) {
                const a = /^\s*@[\w.]+/.exec(rest);
                if (!a) break;
                let end = a[0].length;
                if (/^\s*\(/.test(rest.slice(end))) {
                    let p = 0;
                    for (let j = end; j < rest.length; j++) {
                        if (rest[j] === "(") p++;
                        else if (rest[j] === ")" && --p === 0) { end = j + 1; break; }
                    }
                }
                annotations += `${rest.slice(0, end).trim()} `;
                rest = rest.slice(end);
            }
            const head = rest.split("=")[0];
            if (head.includes("(")) continue; // an abstract or interface method
            const m = /^\s*((?:(?:public|protected|private|static|final|transient|volatile)\s+)*)([\w.<>?,\s[\]]+?)\s+(\w+)\s*$/.exec(head);
            if (!m) continue;
            const at = declStart + decl.length - rest.length + (/\S/.exec(rest)?.index ?? 0);
            out.push({ name: m[3], type: m[2].replace(/\s+/g, ""), annotations, isStatic: /\bstatic\b/.test(m[1]), isTransient: /\btransient\b/.test(m[1]), line: lineOf(f.text, at) });
        }
    }
    return out;
}

/** The file of a class a file names (by import, same package, or a file of that simple name). */
function classFile(name: string, from: JavaFile, pool: readonly JavaFile[]): JavaFile | undefined {
    const simple = name.replace(/<.*$/, "").split(".").pop() ?? name;
    const imported = new RegExp(`^import\\s+([\\w.]+)\\.${simple}\\s*;`, "m").exec(from.text)?.[1];
    const pkg = imported ?? from.pkg;
    return pool.find((p) => p.pkg === pkg && path.basename(p.file, ".java") === simple);
}

const COLLECTION = /^(?:java\.util\.)?(?:List|Set|Collection|Map|SortedSet|SortedMap|Iterable)\b/;
const annotationArg = (annotations: string, name: string, key: string) =>
    new RegExp(`@${name}\\s*\\(([^)]*)\\)`).exec(annotations)?.[1].match(new RegExp(`(?:^|[,\\s])${key}\\s*=\\s*"(\\w+)"`))?.[1];

/**
 * The columns of an entity's class and its superclasses (JPA @MappedSuperclass, R2DBC plain base classes):
 * JPA names go through Spring Boot's CamelCaseToUnderscoresNamingStrategy (explicit names too), R2DBC's
 * default NamingStrategy snake-cases property names and keeps @Column("x") as written.
 */
function columnsOf(f: JavaFile, api: "jpa" | "r2dbc", pool: readonly JavaFile[]): { columns: ColumnFacts[]; unmapped: UnmappedField[] } {
    const columns: ColumnFacts[] = [];
    const unmapped: UnmappedField[] = [];
    const add = (name: string, field: string, file: string, line: number) => {
        if (!columns.some((c) => c.name === name)) columns.push({ name, field, file, line });
    };
    const walk = (file: JavaFile, prefix: string, seen: Set<string>) => {
        if (seen.has(file.file)) return;
        seen.add(file.file);
        for (const fld of fieldsOf(file)) {
            const a = fld.annotations;
            const where = { field: prefix + fld.name, file: file.file, line: fld.line };
            if (fld.isStatic || fld.isTransient || /@(?:[\w.]+\.)?Transient\b/.test(a)) continue;
            if (api === "r2dbc") {
                const named = /@Column\s*\(\s*(?:value\s*=\s*)?"(\w+)"\s*\)/.exec(a)?.[1];
                if (/@(?:MappedCollection|Embedded)\b/.test(a) || COLLECTION.test(fld.type)) {
                    unmapped.push({ ...where, construct: `R2DBC ${/@\w+/.exec(a.replace(/@(?:Id|Column|Setter|Getter)\b\S*\s*/g, ""))?.[0] ?? fld.type}` });
                    continue;
                }
                add(named ?? snakeCase(fld.name), where.field, where.file, where.line);
                continue;
            }
            if (/@(?:OneToMany|ManyToMany|ElementCollection)\b/.test(a) || /@OneToOne\b[^@]*mappedBy/.test(a)) continue; // the other table holds it
            if (/@AttributeOverrides?\b|@AssociationOverrides?\b/.test(a)) { unmapped.push({ ...where, construct: "@AttributeOverride" }); continue; }
            if (/@(?:ManyToOne|OneToOne)\b/.test(a)) {
                const joins = /@JoinColumns\b/.test(a) ? [...a.matchAll(/@JoinColumn\s*\(([^)]*)\)/g)].map((j) => /name\s*=\s*"(\w+)"/.exec(j[1])?.[1])
                    : [annotationArg(a, "JoinColumn", "name")];
                if (joins.length === 0 || joins.some((j) => j === undefined)) { unmapped.push({ ...where, construct: "@ManyToOne/@OneToOne without @JoinColumn(name)" }); continue; }
                for (const j of joins) add(snakeCase(j as string), where.field, where.file, where.line);
                continue;
            }
            const typeFile = classFile(fld.type, file, pool);
            if (/@(?:Embedded|EmbeddedId)\b/.test(a) || (typeFile && /^\s*@Embeddable\b/m.test(typeFile.text))) {
                if (!typeFile) { unmapped.push({ ...where, construct: `embeddable ${fld.type} not found in the scanned source` }); continue; }
                walk(typeFile, `${prefix}${fld.name}.`, new Set(seen));
                continue;
            }
            if (COLLECTION.test(fld.type)) { unmapped.push({ ...where, construct: `collection ${fld.type} without a relation annotation` }); continue; }
            add(snakeCase(annotationArg(a, "Column", "name") ?? fld.name), where.field, where.file, where.line);
        }
        const sup = /^\s*(?:public\s+)?(?:abstract\s+)?class\s+\w+(?:<[^>]*>)?\s+extends\s+([\w.]+)/m.exec(blankComments(file.text))?.[1];
        if (sup && prefix === "") {
            const supFile = classFile(sup, file, pool);
            if (!supFile) unmapped.push({ field: `(superclass ${sup})`, construct: "superclass not found in the scanned source", file: file.file, line: 1 });
            else if (api === "jpa" && !/^\s*@MappedSuperclass\b/m.test(supFile.text)) unmapped.push({ field: `(superclass ${sup})`, construct: "JPA superclass without @MappedSuperclass", file: supFile.file, line: 1 });
            else walk(supFile, prefix, seen);
        }
    };
    walk(f, "", new Set());
    return { columns, unmapped };
}

/** Spring Boot's default physical naming (CamelCaseToUnderscoresNamingStrategy): BoardPosts -> board_posts. */
export const snakeCase = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

/** Entities of the scanned files: JPA's table is @Table(name = ...) or the class name in snake case; R2DBC's @Table("..."). */
function entitiesOf(files: JavaFile[], pool: readonly JavaFile[]): EntityFacts[] {
    const out: EntityFacts[] = [];
    for (const f of files) {
        const cls = /^\s*(?:public\s+)?(?:abstract\s+)?class\s+(\w+)/m.exec(f.text);
        if (!cls) continue;
        const jpa = /^\s*@Entity\b(?!\w)/m.exec(f.text);
        const r2dbc = /import\s+org\.springframework\.data\.relational\.core\.mapping\.Table\s*;/.test(f.text)
            ? /^\s*@Table\(\s*(?:value\s*=\s*)?"(\w+)"\s*\)/m.exec(f.text) : null;
        if (jpa) {
            const named = /^\s*@Table\(\s*name\s*=\s*"(\w+)"/m.exec(f.text);
            const { columns, unmapped } = columnsOf(f, "jpa", pool);
            out.push({ class: cls[1], table: named?.[1] ?? snakeCase(cls[1]), api: "jpa", file: f.file, line: lineOf(f.text, jpa.index + jpa[0].indexOf("@")),
                columns, ...(unmapped.length > 0 ? { unmapped } : {}) });
        } else if (r2dbc) {
            const { columns, unmapped } = columnsOf(f, "r2dbc", pool);
            out.push({ class: cls[1], table: r2dbc[1], api: "r2dbc", file: f.file, line: lineOf(f.text, r2dbc.index + r2dbc[0].indexOf("@")),
                columns, ...(unmapped.length > 0 ? { unmapped } : {}) });
        }
    }
    return out;
}

export interface StreamFacts {
    readonly binder: { readonly artifact: string; readonly file: string; readonly line: number };
    /** spring-cloud-starter-bus-amqp: Spring Cloud Bus adds its own functional bean, busConsumer. */
    readonly bus: boolean;
    readonly functions: readonly { readonly name: string; readonly kind: string; readonly bindings: readonly string[]; readonly file: string; readonly line: number }[];
    /** streamBridge.send("<binding>", ...): `via` is the service's own call when the send is in a shared helper. */
    readonly sends: readonly { readonly binding: string; readonly file: string; readonly line: number; readonly via?: string }[];
}

export interface HealthFacts {
    readonly indicator: string;
    readonly spring: string;
    readonly property: string;
    /** @ConditionalOnEnabledHealthIndicator: unset falls back to management.health.defaults.enabled. */
    readonly defaults: boolean;
    /** The server whose state it reports, if any. */
    readonly dependsOn?: string;
    readonly file: string;
    readonly line: number;
}

export interface StartupWrite {
    readonly key: string;
    /** Appended to the property's value ("/messages"). */
    readonly suffix: string;
    readonly why: string;
    readonly file: string;
    readonly line: number;
}

export interface FrontendFacts {
    readonly name: string;
    /** Keys of next.config.js `env` and the variables `rewrites` reads: inlined when the image is built. */
    readonly buildTime: readonly { readonly key: string; readonly reads: string; readonly file: string; readonly line: number }[];
}

export interface BootFacts {
    readonly commit: string;
    /** The applications' configuration repository (config/*.yml), flattened with lines: what the services are served. */
    readonly configRepository: Readonly<Record<string, Readonly<Record<string, SourcedValue>>>>;
    readonly services: readonly ServiceFacts[];
    readonly frontends: readonly FrontendFacts[];
}

/** JVM system properties that are always defined, so a placeholder naming them resolves. */
export const JVM_PROPERTIES = ["user.dir", "user.home", "java.io.tmpdir", "user.name", "java.home"];

const rel = (root: string, f: string) => path.relative(root, f).split(path.sep).join("/");

/** A YAML file flattened to dotted keys (list items as key[i]) with their line numbers. */
export function flattenYaml(root: string, file: string): Record<string, SourcedValue> {
    const out: Record<string, SourcedValue> = {};
    if (!fs.existsSync(file)) return out;
    const lc = new LineCounter();
    const doc = parseDocument(fs.readFileSync(file, "utf8"), { lineCounter: lc });
    const walk = (n: Node | null | undefined, prefix: string) => {
        if (isMap(n)) {
            for (const p of n.items) {
                const k = isScalar(p.key) ? String(p.key.value) : String(p.key);
                walk(p.value as Node, prefix ? `${prefix}.${k}` : k);
            }
        } else if (isSeq(n)) {
            n.items.forEach((x, i) => walk(x as Node, `${prefix}[${i}]`));
        } else if (isScalar(n)) {
            const line = n.range ? lc.linePos(n.range[0]).line : 0;
            out[prefix] = { value: n.value === null ? "" : String(n.value), file: rel(root, file), line };
        }
    };
    walk(doc.contents as Node, "");
    return out;
}

/** `${a:b}` placeholders of a value, outermost first: [name, default | undefined]. */
export function placeholders(value: string): { name: string; fallback?: string }[] {
    const out: { name: string; fallback?: string }[] = [];
    for (let i = value.indexOf("${"); i >= 0; i = value.indexOf("${", i + 2)) {
        let depth = 0;
        let j = i;
        for (; j < value.length; j++) {
            if (value.startsWith("${", j)) { depth++; j++; } else if (value[j] === "}" && --depth === 0) break;
        }
        const body = value.slice(i + 2, j);
        let d = 0;
        let colon = -1;
        for (let k = 0; k < body.length; k++) {
            if (body.startsWith("${", k)) d++;
            else if (body[k] === "}") d--;
            else if (body[k] === ":" && d === 0) { colon = k; break; }
        }
        out.push(colon < 0 ? { name: body } : { name: body.slice(0, colon), fallback: body.slice(colon + 1) });
        i = j - 1;
    }
    return out;
}

const lineOf = (text: string, index: number) => text.slice(0, index).split("\n").length;

interface JavaFile { readonly file: string; readonly pkg: string; readonly text: string }

function javaFiles(root: string, dir: string): JavaFile[] {
    const out: JavaFile[] = [];
    const walk = (d: string) => {
        if (!fs.existsSync(d)) return;
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.name.endsWith(".java")) {
                const text = fs.readFileSync(p, "utf8");
                out.push({ file: rel(root, p), pkg: /^\s*package\s+([\w.]+)\s*;/m.exec(text)?.[1] ?? "", text });
            }
        }
    };
    walk(dir);
    return out.sort((a, b) => a.file.localeCompare(b.file));
}

/** The packages Spring scans: @ComponentScan({...}) on the application class, else that class's package. */
function scanPackages(own: JavaFile[]): string[] {
    const app = own.find((f) => /@SpringBootApplication/.test(f.text));
    if (!app) return [];
    const cs = /@ComponentScan\(\s*(?:basePackages\s*=\s*)?\{?([^)}]*)\}?\s*\)/.exec(app.text);
    if (cs) return [...cs[1].matchAll(/"([\w.]+)"/g)].map((m) => m[1]);
    return [app.pkg];
}

const BEAN = /@(Component|Configuration|Service|Repository|Controller|RestController|ControllerAdvice|RestControllerAdvice)\b/;

/** String constants (`NAME = "a" + "b";`, `NAME = {"a", OTHER};`) of a set of Java files by `Class.NAME`, resolved. */
function javaConstants(files: JavaFile[]): (ref: string, from: JavaFile) => string[] {
    const raw = new Map<string, { expr: string; file: JavaFile }>();
    const classOf = (f: JavaFile) => path.basename(f.file, ".java");
    for (const f of files) {
        for (const m of f.text.matchAll(/\b(?:String(?:\[\])?)\s+([A-Z][A-Z0-9_]*)\s*=\s*([^;]+);/g)) raw.set(`${classOf(f)}.${m[1]}`, { expr: m[2], file: f });
    }
    // A bare NAME: the referring class's own, else a static import's class, else the only class defining it.
    const qualify = (ref: string, from: JavaFile): string => {
        if (ref.includes(".")) return ref.split(".").slice(-2).join(".");
        if (raw.has(`${classOf(from)}.${ref}`)) return `${classOf(from)}.${ref}`;
        const imp = new RegExp(`import\\s+static\\s+[\\w.]*\\.(\\w+)\\.(?:${ref}|\\*)\\s*;`).exec(from.text);
        if (imp && raw.has(`${imp[1]}.${ref}`)) return `${imp[1]}.${ref}`;
        return [...raw.keys()].find((k) => k.endsWith(`.${ref}`)) ?? ref;
    };
    const resolve = (ref: string, from: JavaFile, seen: Set<string>): string[] => {
        const key = qualify(ref, from);
        const def = raw.get(key);
        if (def === undefined || seen.has(key)) return [`<${ref}>`];
        const items = splitTop(def.expr.trim().replace(/^\{|\}$/g, ""));
        return items.flatMap((item) => {
            const values = item.split("+").map((p) => p.trim()).map((p) => {
                const lit = /^"(.*)"$/.exec(p);
                return lit ? [lit[1]] : resolve(p, def.file, new Set([...seen, key]));
            });
            return values.length === 1 ? values[0] : [values.map((v) => v.join("")).join("")];
        });
    };
    return (ref, from) => resolve(ref, from, new Set());
}

function splitTop(s: string): string[] {
    const out: string[] = [];
    let cur = "";
    let inStr = false;
    for (const ch of s) {
        if (ch === "\"") inStr = !inStr;
        if (ch === "," && !inStr) { if (cur.trim()) out.push(cur.trim()); cur = ""; } else cur += ch;
    }
    if (cur.trim()) out.push(cur.trim());
    return out;
}

/** permitAll() rules of the scanned security configuration, in order, with what other paths get. */
function securityOf(files: JavaFile[], constant: (ref: string, from: JavaFile) => string[]): ServiceFacts["security"] {
    const sec = files.find((f) => /\.permitAll\(\)/.test(f.text) && /(SecurityWebFilterChain|SecurityFilterChain)/.test(f.text));
    if (!sec) return undefined;
    const permits: PermitRule[] = [];
    for (const m of sec.text.matchAll(/\.(pathMatchers|requestMatchers)\(([^()]*)\)\s*\.permitAll\(\)/g)) {
        const args = splitTop(m[2]);
        // A rule for one HTTP method other than GET never lets a probe through.
        if (args[0]?.startsWith("HttpMethod.")) {
            if (args[0] !== "HttpMethod.GET") continue;
            args.shift();
        }
        const line = lineOf(sec.text, m.index ?? 0);
        for (const a of args) {
            const lit = /^"(.*)"$/.exec(a);
            const values = lit ? [lit[1]] : constant(a, sec);
            for (const pattern of values) permits.push({ pattern, file: sec.file, line });
        }
    }
    const other = /\.(anyExchange|anyRequest)\(\)\s*\.([\w]+\([^)]*\))/.exec(sec.text);
    const otherwise = other
        ? { value: `${other[1]}().${other[2]}`, file: sec.file, line: lineOf(sec.text, other.index) }
        : { value: "authenticated (no anyRequest rule found)", file: sec.file, line: 1 };
    return { permits, otherwise };
}

interface Dependency { readonly artifact: string; readonly version?: string; readonly line: number }

function dependencies(gradleText: string): Dependency[] {
    const out: Dependency[] = [];
    gradleText.split("\n").forEach((l, i) => {
        if (/^\s*\/\//.test(l)) return;
        const m = /^\s*(implementation|runtimeOnly|api)\s*\(?\s*["']([^"':]+):([^"':]+)(?::([^"'@]+))?/.exec(l);
        if (m) out.push({ artifact: `${m[2]}:${m[3]}`, version: m[4], line: i + 1 });
    });
    return out;
}

/** Starter -> what it needs at start-up (Spring Boot / Spring Cloud auto-configuration). */
const STARTER_NEEDS: readonly { artifact: string; autoconfig?: string; needs: Omit<Requirement, "file" | "line">[] }[] = [
    {
        artifact: "org.springframework.boot:spring-boot-starter-data-jpa", autoconfig: "DataSourceAutoConfiguration",
        needs: [{ key: "spring.datasource.url", rule: "remote-host", why: "JPA starter with no embedded database: DataSourceAutoConfiguration fails without a URL" }],
    },
    {
        artifact: "org.springframework.boot:spring-boot-starter-data-r2dbc", autoconfig: "R2dbcAutoConfiguration",
        needs: [{ key: "spring.r2dbc.url", rule: "remote-host", why: "R2DBC starter: R2dbcAutoConfiguration needs a URL (no embedded driver)" }],
    },
    ...["org.springframework.cloud:spring-cloud-starter-bus-amqp", "org.springframework.boot:spring-boot-starter-amqp",
        "org.springframework.cloud:spring-cloud-stream-binder-rabbit"].map((artifact) => ({
        artifact,
        needs: [
            { key: "spring.rabbitmq.host", rule: "remote-host" as const, bootDefault: "localhost", why: "AMQP: the broker is not in the pod" },
            { key: "spring.rabbitmq.username", rule: "not-default-user" as const, bootDefault: "guest", why: "AMQP: RabbitMQ refuses guest from other hosts" },
        ],
    })),
    {
        artifact: "org.springframework.cloud:spring-cloud-starter-netflix-eureka-client",
        needs: [{
            key: "eureka.client.service-url.defaultZone", rule: "remote-host", bootDefault: "http://localhost:8761/eureka/",
            why: "Eureka client: registers with and looks up the discovery server",
        }],
    },
    {
        artifact: "org.springframework.cloud:spring-cloud-starter-config",
        needs: [
            { key: "spring.cloud.config.uri", rule: "remote-host", bootDefault: "http://localhost:8888", why: "config client: where its settings come from" },
            {
                key: "spring.cloud.config.fail-fast", rule: "true", bootDefault: "false",
                why: "config client: without fail-fast it starts on its packaged defaults when the config server is not there",
            },
        ],
    },
];

/**
 * Beans Spring Boot auto-configures only under a property condition (Spring knowledge, not the application's):
 * the injected type, the starter that brings the auto-configuration, its class and the condition. A requirement
 * is derived only where a scanned bean injects the type and the starter is in build.gradle.
 */
export const CONDITIONAL_BEANS: readonly {
    readonly types: readonly string[]; readonly artifact: string; readonly autoconfig: string; readonly condition: string;
    readonly key: string; readonly alternatives: readonly string[];
}[] = [
    {
        types: ["JavaMailSender", "MailSender"], artifact: "org.springframework.boot:spring-boot-starter-mail",
        autoconfig: "org.springframework.boot.autoconfigure.mail.MailSenderAutoConfiguration",
        condition: "@Conditional(MailSenderCondition): @ConditionalOnProperty spring.mail.host or spring.mail.jndi-name",
        key: "spring.mail.host", alternatives: ["spring.mail.jndi-name"],
    },
];

const RABBIT = ["org.springframework.boot:spring-boot-starter-amqp", "org.springframework.cloud:spring-cloud-starter-bus-amqp",
    "org.springframework.cloud:spring-cloud-stream-binder-rabbit", "org.springframework.cloud:spring-cloud-starter-stream-rabbit"];
/** What brings a Spring Cloud Stream binder (Bus over AMQP depends on the Rabbit binder). */
export const STREAM_BINDERS = RABBIT.slice(1);

/**
 * Health contributors a starter brings, with the property that turns each off and the Spring class (checked
 * against the Spring sources: see docs/boot-check.md). `defaults`: @ConditionalOnEnabledHealthIndicator, so an
 * unset property falls back to management.health.defaults.enabled; else a plain @ConditionalOnProperty
 * (matchIfMissing). `dependsOn`: the other server whose state it reports.
 */
export const HEALTH_INDICATORS: readonly {
    readonly indicator: string; readonly spring: string; readonly property: string; readonly defaults: boolean;
    readonly dependsOn?: string; readonly artifacts: readonly string[]; readonly needsBootstrap?: boolean;
}[] = [
    {
        indicator: "rabbit", spring: "org.springframework.boot.actuate.amqp.RabbitHealthIndicator (RabbitHealthContributorAutoConfiguration)",
        property: "management.health.rabbit.enabled", defaults: true, dependsOn: "the RabbitMQ broker", artifacts: RABBIT,
    },
    {
        indicator: "binders", spring: "org.springframework.cloud.stream.config.BindersHealthIndicatorAutoConfiguration (BindersHealthContributor: each binder's RabbitHealthIndicator)",
        property: "management.health.binders.enabled", defaults: true, dependsOn: "the RabbitMQ broker", artifacts: STREAM_BINDERS,
    },
    {
        indicator: "clientConfigServer", spring: "org.springframework.cloud.config.client.ConfigServerHealthIndicator (ConfigClientAutoConfiguration, bean clientConfigServerHealthIndicator)",
        property: "health.config.enabled", defaults: false, dependsOn: "the config server",
        artifacts: ["org.springframework.cloud:spring-cloud-starter-config"], needsBootstrap: true,
    },
    {
        indicator: "discoveryComposite", spring: "org.springframework.cloud.client.discovery.health.DiscoveryCompositeHealthContributor (EurekaHealthIndicator: the instance's status in the Eureka registry)",
        property: "spring.cloud.discovery.client.composite-indicator.enabled", defaults: false, dependsOn: "the Eureka server",
        artifacts: ["org.springframework.cloud:spring-cloud-starter-netflix-eureka-client"],
    },
    {
        indicator: "db", spring: "org.springframework.boot.actuate.jdbc.DataSourceHealthIndicator", property: "management.health.db.enabled",
        defaults: true, dependsOn: "the database", artifacts: ["org.springframework.boot:spring-boot-starter-data-jpa"],
    },
    {
        indicator: "r2dbc", spring: "org.springframework.boot.actuate.r2dbc.ConnectionFactoryHealthIndicator", property: "management.health.r2dbc.enabled",
        defaults: true, dependsOn: "the database", artifacts: ["org.springframework.boot:spring-boot-starter-data-r2dbc"],
    },
    {
        indicator: "diskSpace", spring: "org.springframework.boot.actuate.system.DiskSpaceHealthIndicator", property: "management.health.diskspace.enabled",
        defaults: true, artifacts: ["org.springframework.boot:spring-boot-starter-actuator"],
    },
    {
        indicator: "ping", spring: "org.springframework.boot.actuate.health.PingHealthIndicator", property: "management.health.ping.enabled",
        defaults: true, artifacts: ["org.springframework.boot:spring-boot-starter-actuator"],
    },
    {
        indicator: "refreshScope", spring: "org.springframework.cloud.health.RefreshScopeHealthIndicator (RefreshEndpointAutoConfiguration)",
        property: "management.health.refresh.enabled", defaults: true, artifacts: ["org.springframework.cloud:spring-cloud-starter-config"],
    },
];

/** A Java type or method body: the text from `open` (an index of `{`) to its matching `}`. */
function block(text: string, open: number): string {
    let depth = 0;
    for (let i = open; i < text.length; i++) {
        if (text[i] === "{") depth++;
        else if (text[i] === "}" && --depth === 0) return text.slice(open, i + 1);
    }
    return text.slice(open);
}

/** Types a bean class takes by injection: constructor parameters, final fields under a Lombok constructor, @Autowired fields. */
function injected(f: JavaFile): { type: string; line: number }[] {
    const out: { type: string; line: number }[] = [];
    const cls = path.basename(f.file, ".java");
    if (/@(RequiredArgsConstructor|AllArgsConstructor)\b/.test(f.text)) {
        for (const m of f.text.matchAll(/^\s*private\s+final\s+([\w.]+)\s+\w+\s*;/gm)) out.push({ type: m[1], line: lineOf(f.text, m.index + m[0].search(/\S/)) });
    }
    for (const m of f.text.matchAll(/@Autowired\s+(?:private|protected|public)?\s*([\w.]+)\s+\w+\s*;/g)) {
        out.push({ type: m[1], line: lineOf(f.text, m.index) });
    }
    for (const m of f.text.matchAll(new RegExp(`(?:public|protected)\\s+${cls}\\s*\\(([^)]*)\\)`, "g"))) {
        for (const p of m[1].split(",")) {
            const t = /^\s*(?:@\w+\s+)*(?:final\s+)?([\w.]+)\s+\w+\s*$/.exec(p);
            if (t) out.push({ type: t[1], line: lineOf(f.text, m.index) });
        }
    }
    return out.map((x) => ({ type: x.type.split(".").pop() ?? x.type, line: x.line }));
}

/** Functional beans: @Bean methods returning Consumer/Function/Supplier, with their default binding names. */
function functionalBeans(f: JavaFile): StreamFacts["functions"][number][] {
    const out: StreamFacts["functions"][number][] = [];
    for (const m of f.text.matchAll(/@Bean\b(?:\s*\([^)]*\))?\s+(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|protected|private|static)\s+)*(Consumer|Function|Supplier)\s*</g)) {
        let depth = 1;
        let i = m.index + m[0].length;
        for (; i < f.text.length && depth > 0; i++) {
            if (f.text[i] === "<") depth++;
            else if (f.text[i] === ">") depth--;
        }
        const name = /^\s*(\w+)\s*\(\s*\)/.exec(f.text.slice(i))?.[1];
        if (!name) continue;
        const kind = m[1];
        const bindings = kind === "Consumer" ? [`${name}-in-0`] : kind === "Supplier" ? [`${name}-out-0`] : [`${name}-in-0`, `${name}-out-0`];
        out.push({ name, kind, bindings, file: f.file, line: lineOf(f.text, i + (/\w/.exec(f.text.slice(i))?.index ?? 0)) });
    }
    return out;
}

/** streamBridge.send(binding, ...) calls: the binding a literal or a resolved string constant, with the enclosing method. */
function bridgeSends(f: JavaFile, constant: (ref: string, from: JavaFile) => string[]): { binding: string; line: number; method?: string }[] {
    const vars = [...f.text.matchAll(/\bStreamBridge\s+(\w+)/g)].map((m) => m[1]);
    const out: { binding: string; line: number; method?: string }[] = [];
    for (const v of new Set(vars)) {
        for (const m of f.text.matchAll(new RegExp(`\\b${v}\\.send\\(\\s*("([^"]*)"|[A-Za-z_][\\w.]*)\\s*,`, "g"))) {
            const bindings = m[2] !== undefined ? [m[2]] : constant(m[1], f);
            const before = f.text.slice(0, m.index);
            const method = [...before.matchAll(/(?:public|protected|private)\s+[\w<>[\], ?]+?\s+(\w+)\s*\([^)]*\)\s*(?:throws [\w., ]+)?\{/g)].pop()?.[1];
            for (const binding of bindings) out.push({ binding, line: lineOf(f.text, m.index), method });
        }
    }
    return out;
}

/** @PostConstruct methods that create a directory, and the property the directory comes from. */
function startupWrites(f: JavaFile): StartupWrite[] {
    const out: StartupWrite[] = [];
    for (const m of f.text.matchAll(/@PostConstruct\s+[^{;]*?(\w+)\s*\([^)]*\)\s*(?:throws [\w., ]+)?\{/g)) {
        const body = block(f.text, m.index + m[0].length - 1);
        const create = /(Files\.createDirector(?:y|ies)|\.mkdirs?)\(/.exec(body);
        if (!create) continue;
        const line = lineOf(f.text, m.index);
        const dirKey = (k: RegExpMatchArray) => /director|path|home|location|dir/i.test(k[1]);
        const keys = [...body.matchAll(/getProperty\(\s*"([^"]+)"\s*\)(?:\s*\+\s*"([^"]*)")?/g)].filter(dirKey);
        // The directory from a field the constructor sets from a property.
        if (keys.length === 0) {
            const arg = /\(\s*(?:this\.)?(\w+)/.exec(body.slice(create.index + create[0].length - 1))?.[1];
            if (arg) keys.push(...[...f.text.matchAll(new RegExp(`this\\.${arg}\\s*=[^;]*getProperty\\(\\s*"([^"]+)"\\s*\\)(?:\\s*\\+\\s*"([^"]*)")?`, "g"))].filter(dirKey));
        }
        for (const k of keys) {
            out.push({
                key: k[1], suffix: k[2] ?? "", file: f.file, line,
                why: `@PostConstruct ${m[1]}() creates ${k[1]}${k[2] ?? ""} (${create[1].replace(/^\./, "")}) when the bean starts`,
            });
        }
    }
    return out;
}

export function deriveService(root: string, name: string): ServiceFacts {
    const dir = path.join(root, "backend", name);
    const res = path.join(dir, "src/main/resources");
    const packaged = flattenYaml(root, path.join(res, "application.yml"));
    const bootstrap = flattenYaml(root, path.join(res, "bootstrap.yml"));
    const own = javaFiles(root, path.join(dir, "src/main/java"));
    const common = javaFiles(root, path.join(root, "backend/egovframe-cloud-module-common/src/main/java"));
    const pkgs = scanPackages(own);
    const scanned = [...own, ...common].filter((f) => pkgs.some((p) => f.pkg === p || f.pkg.startsWith(`${p}.`)));
    const requires: Requirement[] = [];

    for (const f of scanned.filter((x) => BEAN.test(x.text))) {
        for (const m of f.text.matchAll(/@Value\(\s*"([^"]*)"\s*\)/g)) {
            for (const p of placeholders(m[1])) {
                if (p.fallback !== undefined) continue;
                requires.push({ key: p.name, rule: "resolvable", why: `@Value("${m[1]}") without a default`, file: f.file, line: lineOf(f.text, m.index ?? 0) });
            }
        }
    }
    // @ConfigurationProperties validated with @Validated: each @NotNull/@NotBlank/@NotEmpty field must be bound.
    for (const f of scanned) {
        const cp = /@ConfigurationProperties\(\s*(?:(?:prefix|value)\s*=\s*)?"([^"]+)"/.exec(f.text);
        if (!cp || !/@Validated\b/.test(f.text)) continue;
        for (const m of f.text.matchAll(/@(NotNull|NotBlank|NotEmpty)\b[^;]*?\s(\w+)\s*(?:=[^;]*)?;/g)) {
            const kebab = m[2].replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
            requires.push({
                key: `${cp[1]}.${kebab}`, rule: "resolvable", why: `@ConfigurationProperties("${cp[1]}") @Validated field ${m[2]} is @${m[1]}`,
                file: f.file, line: lineOf(f.text, m.index ?? 0),
            });
        }
    }
    for (const props of [packaged, bootstrap]) {
        for (const [key, v] of Object.entries(props)) {
            for (const p of placeholders(v.value)) {
                if (p.fallback !== undefined || JVM_PROPERTIES.includes(p.name) || p.name.startsWith("random.")) continue;
                requires.push({ key: p.name, rule: "resolvable", why: `${key}: \${${p.name}} without a default`, file: v.file, line: v.line });
            }
        }
    }
    const gradleFile = path.join(dir, "build.gradle");
    const gradle = fs.existsSync(gradleFile) ? fs.readFileSync(gradleFile, "utf8") : "";
    const deps = dependencies(gradle);
    const excluded = Object.entries(packaged).filter(([k]) => k.startsWith("spring.autoconfigure.exclude")).map(([, v]) => v.value);
    for (const s of STARTER_NEEDS) {
        const dep = deps.find((d) => d.artifact === s.artifact);
        if (!dep) continue;
        if (s.autoconfig && excluded.some((e) => e.endsWith(`.${s.autoconfig}`))) continue;
        for (const n of s.needs) {
            if (requires.some((r) => r.key === n.key && r.rule === n.rule)) continue;
            requires.push({ ...n, why: `${s.artifact.split(":")[1]}: ${n.why}`, file: rel(root, gradleFile), line: dep.line });
        }
    }
    // Beans auto-configured only under a property condition, where a scanned bean injects them.
    for (const c of CONDITIONAL_BEANS) {
        const dep = deps.find((d) => d.artifact === c.artifact);
        if (!dep) continue;
        for (const f of scanned.filter((x) => BEAN.test(x.text))) {
            for (const inj of injected(f).filter((x) => c.types.includes(x.type))) {
                requires.push({
                    key: c.key, rule: "resolvable", alternatives: c.alternatives, file: f.file, line: inj.line,
                    why: `${inj.type} injected by ${path.basename(f.file)}:${inj.line} (${c.autoconfig.split(".").pop()}: ${c.condition}; ` +
                        `${c.artifact.split(":")[1]} at build.gradle:${dep.line})`,
                });
            }
        }
    }
    const constants = javaConstants([...own, ...common]);
    const binderDep = deps.find((d) => STREAM_BINDERS.includes(d.artifact));
    let stream: StreamFacts | undefined;
    if (binderDep) {
        const ownFiles = new Set(own.map((f) => f.file));
        const sends: StreamFacts["sends"][number][] = [];
        for (const f of scanned.concat(common.filter((c) => !scanned.includes(c)))) {
            for (const s of bridgeSends(f, constants)) {
                if (ownFiles.has(f.file)) {
                    if (scanned.includes(f)) sends.push({ binding: s.binding, file: f.file, line: s.line });
                    continue;
                }
                // A shared helper: the service sends when its own code calls the helper.
                if (!s.method) continue;
                for (const o of own) {
                    const call = new RegExp(`\\b${s.method}\\(`).exec(o.text);
                    if (call) sends.push({ binding: s.binding, file: f.file, line: s.line, via: `${o.file}:${lineOf(o.text, call.index)}` });
                }
            }
        }
        stream = {
            binder: { artifact: binderDep.artifact, file: rel(root, gradleFile), line: binderDep.line },
            bus: deps.some((d) => d.artifact === "org.springframework.cloud:spring-cloud-starter-bus-amqp"),
            functions: scanned.filter((x) => BEAN.test(x.text)).flatMap(functionalBeans),
            sends,
        };
    }
    const hasBootstrap = deps.some((d) => d.artifact === "org.springframework.cloud:spring-cloud-starter-bootstrap");
    const health: HealthFacts[] = [];
    for (const h of HEALTH_INDICATORS) {
        const dep = deps.find((d) => h.artifacts.includes(d.artifact));
        if (!dep || (h.needsBootstrap && !hasBootstrap)) continue;
        if (h.indicator === "db" && excluded.some((e) => e.endsWith(".DataSourceAutoConfiguration"))) continue;
        if (h.indicator === "r2dbc" && excluded.some((e) => e.endsWith(".R2dbcAutoConfiguration"))) continue;
        health.push({
            indicator: h.indicator, spring: h.spring, property: h.property, defaults: h.defaults,
            ...(h.dependsOn ? { dependsOn: h.dependsOn } : {}), file: rel(root, gradleFile), line: dep.line,
        });
    }
    // Bean classes, and classes a scanned @Configuration creates in a @Bean method (so their @PostConstruct runs).
    const configs = scanned.filter((x) => /@Bean\b/.test(x.text));
    const writesAtStart = scanned.filter((x) => BEAN.test(x.text) || configs.some((c) => c.text.includes(`new ${path.basename(x.file, ".java")}(`)))
        .flatMap(startupWrites);
    const configDep = deps.find((d) => d.artifact === "org.springframework.cloud:spring-cloud-starter-config");
    const actuatorDep = deps.find((d) => d.artifact === "org.springframework.boot:spring-boot-starter-actuator"
        || d.artifact === "org.springframework.cloud:spring-cloud-starter-netflix-eureka-server");
    const hasSecurity = deps.some((d) => d.artifact === "org.springframework.boot:spring-boot-starter-security");
    const bootVersion = /id\s*\(?\s*["']org\.springframework\.boot["']\s*\)?\s*version\s*["']([^"']+)["']/.exec(gradle)?.[1];
    const drivers: DriverFacts[] = deps.filter((d) => isDatabaseDriver(d.artifact)).map((d) => ({
        artifact: d.artifact, ...(d.version ? { version: d.version } : { bootVersion }), file: rel(root, gradleFile), line: d.line,
    }));
    return {
        name,
        packaged,
        bootstrap,
        requires,
        configClient: configDep && deps.some((d) => d.artifact === "org.springframework.cloud:spring-cloud-starter-bootstrap")
            ? {
                file: rel(root, gradleFile), line: configDep.line,
                retryOnClasspath: deps.some((d) => d.artifact === "org.springframework.retry:spring-retry"),
            }
            : undefined,
        actuator: actuatorDep ? { file: rel(root, gradleFile), line: actuatorDep.line } : undefined,
        security: hasSecurity ? securityOf(scanned, constants) : undefined,
        stream,
        health: actuatorDep ? health : undefined,
        writesAtStart: writesAtStart.length > 0 ? writesAtStart : undefined,
        entities: entitiesOf(scanned, [...own, ...common]).length > 0 ? entitiesOf(scanned, [...own, ...common]) : undefined,
        drivers: drivers.length > 0 ? drivers : undefined,
    };
}

export function deriveFrontend(root: string, name: string): FrontendFacts {
    const file = path.join(root, "frontend", name, "next.config.js");
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    const buildTime: { key: string; reads: string; file: string; line: number }[] = [];
    // const x = process.env.A || ...: which variable each local reads.
    const locals = new Map<string, string>();
    for (const m of text.matchAll(/const\s+(\w+)\s*=\s*process\.env\.(\w+)/g)) locals.set(m[1], m[2]);
    const envBlock = /\benv:\s*\{/.exec(text);
    if (envBlock) {
        let depth = 1;
        let i = envBlock.index + envBlock[0].length;
        const start = i;
        for (; i < text.length && depth > 0; i++) {
            if (text[i] === "{") depth++;
            else if (text[i] === "}") depth--;
        }
        const body = text.slice(start, i - 1);
        for (const m of body.matchAll(/^\s*(\w+)\s*:\s*([^\n]+)/gm)) {
            const expr = m[2];
            const reads = /process\.env\.(\w+)/.exec(expr)?.[1] ?? locals.get(/^(\w+)/.exec(expr)?.[1] ?? "") ?? "";
            buildTime.push({ key: m[1], reads, file: rel(root, file), line: lineOf(text, start + (m.index ?? 0) + m[0].indexOf(m[1])) });
        }
    }
    const rewrites = /async\s+rewrites\s*\(\)/.exec(text);
    if (rewrites) {
        const tail = text.slice(rewrites.index);
        for (const m of tail.matchAll(/\$\{(\w+)\}/g)) {
            const reads = locals.get(m[1]) ?? m[1];
            buildTime.push({ key: `rewrites ${m[1]}`, reads, file: rel(root, file), line: lineOf(text, rewrites.index + (m.index ?? 0)) });
        }
    }
    return { name, buildTime };
}

/** Every backend service directory with a Spring application, and every frontend with a next.config.js. */
export function deriveFacts(root: string): BootFacts {
    const backend = path.join(root, "backend");
    const services = fs.readdirSync(backend, { withFileTypes: true })
        .filter((e) => e.isDirectory() && fs.existsSync(path.join(backend, e.name, "src/main/resources/application.yml")))
        .map((e) => e.name).sort();
    const frontend = path.join(root, "frontend");
    const frontends = fs.readdirSync(frontend, { withFileTypes: true })
        .filter((e) => e.isDirectory() && fs.existsSync(path.join(frontend, e.name, "next.config.js"))).map((e) => e.name).sort();
    const commitFile = path.join(root, "SOURCE_COMMIT");
    return {
        commit: fs.existsSync(commitFile) ? fs.readFileSync(commitFile, "utf8").trim().split(/\s+/)[0] : "unknown",
        configRepository: Object.fromEntries(fs.readdirSync(path.join(root, "config")).filter((f) => /\.ya?ml$/.test(f)).sort()
            .map((f) => [f, flattenYaml(root, path.join(root, "config", f))])),
        services: services.map((s) => deriveService(root, s)),
        frontends: frontends.map((f) => deriveFrontend(root, f)),
    };
}

export const FACTS_FILE = path.join(__dirname, "boot-facts.json");
export const DEFAULT_UPSTREAM = path.resolve(__dirname, "..", "..", "..", "shared", "reference", "egovframe-msa-edu");

export function readFacts(file = FACTS_FILE): BootFacts {
    return JSON.parse(fs.readFileSync(file, "utf8")) as BootFacts;
}

export function factsJson(f: BootFacts): string {
    return `${JSON.stringify(f, null, 1)}\n`;
}
