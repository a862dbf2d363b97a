// Resolves what each upstream application needs at start-up (scripts/lib/boot-facts.json, derived from its
// source by boot-derive.ts) against what a stack gives it, read from the objects the stack renders: the pod's
// env (with the ConfigMap values it references), the files the config server serves it, the packaged YAML and
// Spring's defaults. It reads source and objects; it does not run a JVM (see docs/boot-check.md).
import { parse } from "yaml";
import type { ServiceGraph } from "../../config/graph";
import { BootFacts, JVM_PROPERTIES, placeholders, Requirement, ServiceFacts, SourcedValue } from "./boot-derive";
import { conformance } from "./boot-conformance";
import { CLIENT_DRIVERS, urlParamsOf, versionBelow } from "../../config/mysql";
import { classify, createTableColumns, splitStatements, statementHead } from "../../config/migrations";
import { INITIAL_ADMIN_PASSWORD_ENV, opensearchYmlProblems } from "../../config/opensearch";
import type { Obj } from "./mocked-run";
import {
    BROKER_SETTINGS, featuresUsed, parseConf, permitsOf, QueueDeclaration, rabbitmqSeries, refusal, REMOVED_CONF_KEYS, seriesAtLeast, seriesText,
} from "../../config/rabbitmq";

/** The rendered objects the check reads (a mocked run, or a copy a test changed). */
export interface Rendered {
    of(kind: string): Obj[];
    find(kind: string, name: string): Obj | undefined;
}

/** A deep copy of rendered objects a test may change ("put a regression back"). */
export function editable(d: Rendered, kinds: readonly string[] = ["Deployment", "StatefulSet", "ConfigMap", "Service", "Secret"]): Rendered & { all: { kind: string; obj: Obj }[] } {
    const all = kinds.flatMap((kind) => d.of(kind).map((o) => ({ kind, obj: structuredClone(o) as Obj })));
    return {
        all,
        of: (kind) => all.filter((x) => x.kind === kind).map((x) => x.obj),
        find: (kind, name) => all.find((x) => x.kind === kind && x.obj.metadata?.name === name)?.obj,
    };
}

export type Status = "ok" | "FAIL" | "note";

export interface Finding {
    readonly status: Status;
    /** The property, probe or port the finding is about. */
    readonly key: string;
    /** The resolved value and where it comes from, or why it cannot be satisfied. */
    readonly detail: string;
    /** Upstream file:line that needs it. */
    readonly needs: string;
}

export interface WorkloadReport {
    readonly workload: string;
    readonly summary: string;
    readonly findings: readonly Finding[];
}

const at = (x: { file: string; line: number }) => `${x.file}:${x.line}`;

/** Spring's PathPattern matching: `?` one character, `*` any within a segment, `**` any number of segments, `{x}` one segment. */
export function pathMatches(pattern: string, path: string): boolean {
    const pat = pattern.split("/").slice(1);
    const seg = path.split("/").slice(1);
    const segRe = (p: string) => new RegExp(`^${p.split(/(\{[^}]+\}|\?|\*)/).map((t) => {
        if (t === "?") return "[^/]";
        if (t === "*") return "[^/]*";
        if (/^\{[^}]+\}$/.test(t)) return "[^/]+";
        return t.replace(/[.+^$()|[\]\\]/g, "\\$&");
    }).join("")}$`);
    const match = (i: number, j: number): boolean => {
        if (i === pat.length) return j === seg.length;
        if (pat[i] === "**" || /^\{\*.+\}$/.test(pat[i])) {
            for (let k = j; k <= seg.length; k++) if (match(i + 1, k)) return true;
            return false;
        }
        return j < seg.length && segRe(pat[i]).test(seg[j]) && match(i + 1, j + 1);
    };
    return match(0, 0);
}

interface Source { readonly name: string; readonly get: (key: string) => string | undefined }
interface Resolved { readonly value?: string; readonly from: string; readonly error?: string }

const SECRET = "<secret>";

/** Env of a container: literal values, ConfigMap values looked up, Secret values hidden. */
function envOf(d: Rendered, c: Obj): Map<string, { value: string; from: string }> {
    const out = new Map<string, { value: string; from: string }>();
    for (const e of (c.env ?? []) as Obj[]) {
        if (e.value !== undefined) out.set(e.name, { value: String(e.value), from: `env ${e.name}` });
        else if (e.valueFrom?.configMapKeyRef) {
            const ref = e.valueFrom.configMapKeyRef;
            const cm = d.of("ConfigMap").find((x) => x.metadata.name === ref.name);
            const v = cm?.data?.[ref.key];
            if (v !== undefined) out.set(e.name, { value: String(v), from: `env ${e.name} (ConfigMap ${ref.name})` });
        } else if (e.valueFrom?.secretKeyRef) {
            out.set(e.name, { value: SECRET, from: `env ${e.name} (Secret ${e.valueFrom.secretKeyRef.name} ${e.valueFrom.secretKeyRef.key})` });
        }
    }
    return out;
}

/**
 * Spring's names of a property in the OS environment: `.` and `-` as `_` (SystemEnvironmentPropertySource, and
 * the binder's legacy form), and the binder's canonical form with dashes removed (`FAILFAST`).
 */
const envNames = (key: string) => {
    const u = key.replace(/[.-]/g, "_");
    return [key, u, u.toUpperCase(), key.replace(/-/g, "").replace(/\./g, "_").toUpperCase()];
};

function flat(yml: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (v: unknown, prefix: string) => {
        if (v !== null && typeof v === "object" && !Array.isArray(v)) {
            for (const [k, x] of Object.entries(v)) walk(x, prefix ? `${prefix}.${k.replace(/^\[(.*)\]$/, "$1")}` : k.replace(/^\[(.*)\]$/, "$1"));
        } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${prefix}[${i}]`));
        else out[prefix] = v === null || v === undefined ? "" : String(v);
    };
    walk(parse(yml) ?? {}, "");
    return out;
}

/** The served repository as the config server sees it: search locations in order, each a map of files. */
interface Repository {
    /** spring.cloud.config.server.overrides: served to every client above everything else. */
    readonly overrides?: { readonly file: string; readonly props: Record<string, string> };
    readonly locations: { dir: string; configMap: string; files: Record<string, string> }[];
    readonly git?: string;
}

/**
 * The files a config-server search location holds for one client: `{application}` filled with its name, the
 * mount under it, and the ConfigMap keys the volume projects there (all keys, or its `items` paths).
 */
function filesAt(d: Rendered, pod: Obj, c: Obj, location: string, client: string): Repository["locations"][number] {
    const dir = location.replace(/^file:/, "").replace(/\/$/, "").replace(/\{application\}/g, client);
    const mount = ((c.volumeMounts ?? []) as Obj[])
        .filter((m) => dir === m.mountPath.replace(/\/$/, "") || dir.startsWith(`${m.mountPath.replace(/\/$/, "")}/`))
        .sort((x, y) => y.mountPath.length - x.mountPath.length)[0];
    const vol = mount ? ((pod.volumes ?? []) as Obj[]).find((v) => v.name === mount.name) : undefined;
    const cm = vol?.configMap ? d.of("ConfigMap").find((x) => x.metadata.name === vol.configMap.name) : undefined;
    const data = (cm?.data ?? {}) as Record<string, string>;
    const rel = mount ? dir.slice(mount.mountPath.replace(/\/$/, "").length).replace(/^\//, "") : "";
    const files: Record<string, string> = {};
    const items = vol?.configMap?.items as Obj[] | undefined;
    if (items) {
        for (const it of items) {
            const name = rel === "" ? it.path : it.path.startsWith(`${rel}/`) ? it.path.slice(rel.length + 1) : undefined;
            if (name !== undefined && !name.includes("/") && data[it.key] !== undefined) files[name] = data[it.key];
        }
    } else if (rel === "") Object.assign(files, data);
    return { dir, configMap: cm ? `${cm.metadata.name}${rel ? `/${rel}` : ""}` : "(not mounted)", files };
}

function servedRepository(d: Rendered, client: string): Repository {
    const dep = d.find("Deployment", "config-deployment");
    if (!dep) return { locations: [] };
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    const env = envOf(d, c);
    const locs = (env.get("SPRING_CLOUD_CONFIG_SERVER_NATIVE_SEARCH_LOCATIONS")?.value ?? "").split(",").filter(Boolean);
    const locations = locs.map((l) => filesAt(d, pod, c, l, client));
    const profiles = env.get("SPRING_PROFILES_ACTIVE")?.value.split(",") ?? [];
    // The server's own extra config file, where overrides would be set.
    let overrides: Repository["overrides"];
    const extra = env.get("SPRING_CONFIG_ADDITIONAL_LOCATION")?.value.replace(/^(optional:)?file:/, "");
    if (extra) {
        const mount = ((c.volumeMounts ?? []) as Obj[]).find((m) => extra.startsWith(`${m.mountPath.replace(/\/$/, "")}/`));
        const vol = mount ? ((pod.volumes ?? []) as Obj[]).find((v) => v.name === mount.name) : undefined;
        const cm = vol?.configMap ? d.of("ConfigMap").find((x) => x.metadata.name === vol.configMap.name) : undefined;
        const text = mount && cm ? cm.data?.[extra.slice(mount.mountPath.replace(/\/$/, "").length + 1)] : undefined;
        if (cm && text !== undefined) {
            const props: Record<string, string> = {};
            for (const [k, v] of Object.entries(flat(text))) {
                // The server resolves its own file: an escaped \${X} reaches the client as ${X}.
                if (k.startsWith("spring.cloud.config.server.overrides.")) props[k.slice("spring.cloud.config.server.overrides.".length)] = v.replace(/\\\$\{/g, "${");
            }
            overrides = { file: `${cm.metadata.name}/${extra.split("/").pop()}`, props };
        }
    }
    return { overrides, locations, git: profiles.includes("git") ? env.get("SPRING_CLOUD_CONFIG_SERVER_GIT_URI")?.value ?? "(git)" : undefined };
}

/** The boot check of one Spring service's Deployment. */
function checkService(facts: BootFacts, f: ServiceFacts, d: Rendered, graph?: ServiceGraph, endpoints?: StreamEndpoint[], queues?: DeclaredQueue[]): WorkloadReport | undefined {
    const dep = d.find("Deployment", `${f.name}-deployment`) ?? d.find("StatefulSet", `${f.name}-statefulset`);
    if (!dep) return undefined;
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    const env = envOf(d, c);
    const findings: Finding[] = [];
    const add = (status: Status, key: string, detail: string, needs: string) => findings.push({ status, key, detail, needs });

    const envSource: Source = {
        name: "pod env",
        get: (k) => {
            for (const n of envNames(k)) {
                const e = env.get(n);
                if (e) return `${e.value}\u0000${e.from}`;
            }
            return undefined;
        },
    };
    const servedProps = new Map<string, Record<string, string>>();
    const fileSource = (name: string, props: Record<string, SourcedValue | string>): Source => {
        if (name.startsWith("served ")) servedProps.set(name, props as Record<string, string>);
        return fileSourceOf(name, props);
    };
    const fileSourceOf = (name: string, props: Record<string, SourcedValue | string>): Source => ({
        name,
        get: (k) => {
            const v = props[k];
            if (v === undefined) return undefined;
            return typeof v === "string" ? `${v}\u0000${name}` : `${v.value}\u0000${at(v)}`;
        },
    });
    const bootstrapSources = [envSource, fileSource("bootstrap.yml", f.bootstrap as Record<string, SourcedValue>)];
    const resolveIn = (sources: Source[], key: string, depth = 0): Resolved => {
        if (JVM_PROPERTIES.includes(key)) return { value: `<JVM ${key}>`, from: "JVM system property" };
        if (depth > 10) return { from: "", error: `placeholder loop at ${key}` };
        for (const s of sources) {
            const hit = s.get(key);
            if (hit === undefined) continue;
            const [raw, from] = hit.split("\u0000");
            let value = raw;
            const chain: string[] = [];
            for (const p of placeholders(raw)) {
                const inner = resolveIn(sources, p.name, depth + 1);
                let v = inner.value;
                if (v === undefined && p.fallback !== undefined) v = p.fallback.startsWith("${") ? resolveIn(sources, placeholders(p.fallback)[0].name, depth + 1).value ?? p.fallback : p.fallback;
                if (v === undefined) return { from, error: `\${${p.name}} in ${key} (${from}) resolves nowhere${inner.error ? `: ${inner.error}` : ""}` };
                value = value.replace(p.fallback === undefined ? `\${${p.name}}` : `\${${p.name}:${p.fallback}}`, v);
                if (inner.value !== undefined) chain.push(`${p.name} <- ${inner.from}`);
            }
            return { value, from: chain.length ? `${from} [${chain.join("; ")}]` : from };
        }
        return { from: "" };
    };

    // Where its configuration comes from: served files first when it is a config client.
    const appSources: Source[] = [];
    let summary = "not a config client";
    if (f.configClient) {
        const name = resolveIn(bootstrapSources, "spring.cloud.config.name").value ?? resolveIn(bootstrapSources, "spring.application.name").value
            ?? (f.packaged["spring.application.name"]?.value ?? f.name);
        const repo = servedRepository(d, name);
        const served: Source[] = [];
        if (repo.overrides) served.push(fileSource(`served override ${repo.overrides.file}`, repo.overrides.props));
        for (const loc of [...repo.locations].reverse()) {
            for (const file of [`${name}.yml`, `${name}.yaml`, `${name}.properties`, "application.yml", "application.yaml"]) {
                const text = loc.files[file];
                if (text !== undefined && file.endsWith(".properties") === false) served.push(fileSource(`served ${loc.configMap}/${file}`, flat(text)));
            }
        }
        summary = `config client: served ${name}.yml and application.yml from ${repo.locations.map((l) => l.dir).join(", ") || "(no search location)"}` +
            (repo.git ? `, below git ${repo.git} (not readable here)` : "");
        appSources.push(...served);
        // The platform's location is the lowest: what it serves, against the application's own files.
        findings.push(...conformance(facts, name, repo.locations[0]?.files ?? {}));
        if (repo.git) add("note", "served config", `git repository ${repo.git} is served above these files; the check cannot read it`, at(f.configClient));
        add("note", "spring.cloud.config.retry", f.configClient.retryOnClasspath
            ? "spring-retry is on the classpath: set spring.cloud.config.retry.*"
            : "spring-retry is not in build.gradle: with fail-fast the pod exits and the kubelet restarts it with back-off", at(f.configClient));
        if (graph) {
            for (const server of ["config", "discovery"]) {
                const edge = graph.dependenciesOf(f.name).find((e) => e.to === server);
                if (!edge) continue;
                const before = graph.deployOrder.indexOf(server) < graph.deployOrder.indexOf(f.name);
                add(edge.readyBefore && before ? "ok" : "FAIL", `deploy order: ${server} first`,
                    edge.readyBefore && before ? `${server} is ready before ${f.name} (service graph, readyBefore)` : `${f.name} may start before ${server}`,
                    at(f.configClient));
            }
        }
    }
    appSources.push(envSource, fileSource("application.yml", f.packaged as Record<string, SourcedValue>),
        fileSource("bootstrap.yml", f.bootstrap as Record<string, SourcedValue>));
    const isBootstrapKey = (k: string) => k.startsWith("spring.cloud.config.");
    const resolve = (k: string) => resolveIn(isBootstrapKey(k) ? bootstrapSources : appSources, k);

    for (const r of f.requires) {
        const alt = (r.alternatives ?? []).find((k) => resolve(k).value !== undefined);
        if (alt && resolve(r.key).value === undefined) {
            const a = resolve(alt);
            add("ok", r.key, `unset, but ${alt}=${a.value} <- ${a.from} satisfies the condition (${r.why})`, at(r));
            continue;
        }
        const res = resolve(r.key);
        const needs = at(r);
        if (res.error) {
            add("FAIL", r.key, `unresolvable: ${res.error} (${r.why})`, needs);
            continue;
        }
        const value = res.value ?? r.bootDefault;
        const from = res.value !== undefined ? res.from : r.bootDefault !== undefined ? "Spring default" : "";
        if (value === undefined) {
            add("FAIL", r.key, `not set anywhere the service reads (pod env, served files, packaged application.yml/bootstrap.yml); ${r.why}`, needs);
            continue;
        }
        const shown = value.includes(SECRET) ? value : value.length > 90 ? `${value.slice(0, 87)}...` : value;
        const bad = badValue(r, value, d, graph && { graph, client: f.name });
        add(bad ? "FAIL" : "ok", r.key, `${shown} <- ${from}${bad ? `: ${bad}` : ""}`, needs);
    }

    // Every served value must resolve in this client: the first bean that binds it would fail otherwise.
    for (const src of appSources.filter((x) => x.name.startsWith("served "))) {
        const props = servedProps.get(src.name) ?? {};
        for (const [k, v] of Object.entries(props)) {
            for (const p of placeholders(v)) {
                if (p.fallback !== undefined) continue;
                const r = resolveIn(appSources, p.name);
                if (r.value === undefined) add("FAIL", k, `served \${${p.name}}, which ${f.name} has nowhere (Could not resolve placeholder)`, src.name);
            }
        }
    }

    // Literal credentials a user's served file puts over the platform's generated placeholders.
    for (const s of appSources.filter((x) => x.name.startsWith("served ") && !x.name.includes("generated"))) {
        for (const k of ["token.secret", "spring.datasource.password", "spring.r2dbc.password", "spring.rabbitmq.password"]) {
            const hit = s.get(k);
            if (hit && placeholders(hit.split("\u0000")[0]).length === 0) add("FAIL", k, `a literal credential in ${s.name} replaces the platform's generated one`, s.name);
        }
    }

    // The port it listens on, that port against the pod's user, capabilities and sysctls, and its probes.
    const portRes = resolve("server.port");
    const port = Number(portRes.value ?? "8080");
    const containerPorts = ((c.ports ?? []) as Obj[]).map((p) => Number(p.containerPort));
    const portNeeds = f.packaged["server.port"] ? at(f.packaged["server.port"]) : `backend/${f.name}/src/main/resources/application.yml`;
    if (!Number.isInteger(port) || port <= 0) add("FAIL", "server.port", `${portRes.value} <- ${portRes.from}: a random port; no probe or Service can reach it`, portNeeds);
    else add(containerPorts.includes(port) ? "ok" : "FAIL", "server.port", `${port} <- ${portRes.from || "Spring default"}` +
        (containerPorts.includes(port) ? ", a container port" : `: not a container port (${containerPorts.join(", ")})`), portNeeds);
    if (Number.isInteger(port) && port > 0) findings.push(bindFinding(pod, c, port, portNeeds));

    for (const kind of ["startupProbe", "readinessProbe", "livenessProbe"]) {
        const p = c[kind] as Obj | undefined;
        if (!p) {
            add(kind === "startupProbe" ? "note" : "FAIL", kind, "none", portNeeds);
            continue;
        }
        const probePort = Number(p.httpGet?.port ?? p.tcpSocket?.port);
        if (probePort !== port) add("FAIL", kind, `port ${probePort}, but the service listens on ${port}`, portNeeds);
        if (p.tcpSocket) {
            add(probePort === port ? "ok" : "FAIL", kind, `TCP ${probePort}: the port accepts once the server started`, portNeeds);
            continue;
        }
        const path = String(p.httpGet?.path ?? "/");
        findings.push(...probePathFindings(f, kind, path, resolve));
        findings.push(...healthFindings(f, kind, path, resolve));
    }
    if (f.stream) findings.push(...streamFindings(f, f.stream, resolve, endpoints));
    if (f.stream) findings.push(...queueFindings(f, f.stream, resolve, d, queues));
    for (const w of f.writesAtStart ?? []) findings.push(writeFinding(w, pod, c, resolve));
    findings.push(...entityFindings(f, d, resolve));
    findings.push(...driverFindings(f, resolve));
    return { workload: f.name, summary, findings };
}

/**
 * Every database driver in build.gradle whose API has a URL: a driver the platform knows (config/mysql.ts
 * CLIENT_DRIVERS), of a version that logs in with MySQL 8.4's caching_sha2_password, and the URL carries what it
 * needs for that (issue 27).
 */
function driverFindings(f: ServiceFacts, resolve: (k: string) => Resolved): Finding[] {
    const urlKey = { jdbc: "spring.datasource.url", r2dbc: "spring.r2dbc.url" } as const;
    return (f.drivers ?? []).flatMap((drv): Finding[] => {
        const needs = `${drv.file}:${drv.line}`;
        const known = CLIENT_DRIVERS.find((c) => c.artifact === drv.artifact);
        if (!known) {
            return [{ status: "FAIL", key: `driver ${drv.artifact}`, needs,
                detail: "not a driver config/mysql.ts CLIENT_DRIVERS knows: what it needs to log in to MySQL 8.4 is not declared" }];
        }
        const url = resolve(urlKey[known.api]).value;
        if (url === undefined) return []; // on the classpath, but the service opens no connection of this API
        const key = `driver ${drv.artifact}`;
        const version = drv.version ?? `the Spring Boot ${drv.bootVersion ?? "?"} BOM's`;
        if (drv.version !== undefined ? versionBelow(drv.version, known.sinceVersion) : !/^[3-9]\./.test(drv.bootVersion ?? "")) {
            return [{ status: "FAIL", key, needs, detail: `version ${version}: caching_sha2_password's full authentication needs ${known.sinceVersion} or later` }];
        }
        const params = urlParamsOf(url);
        const missing = Object.entries(known.urlParams).filter(([k, v]) => params[k]?.toUpperCase() !== v.toUpperCase());
        return [{
            status: missing.length === 0 ? "ok" : "FAIL", key, needs,
            detail: missing.length === 0
                ? `${version}: ${urlKey[known.api]} carries ${Object.entries(known.urlParams).map(([k, v]) => `${k}=${v}`).join("&")} (${known.why})`
                : `${urlKey[known.api]} ${url} lacks ${missing.map(([k, v]) => `${k}=${v}`).join("&")}: ${known.why}`,
        }];
    });
}

/**
 * Columns an upstream entity maps that the upstream's own SQL does not create, declared so the check reports them
 * (note) instead of failing every stack; a declaration that no longer matches a missing column fails (stale).
 */
export const UPSTREAM_COLUMN_GAPS: readonly { readonly service: string; readonly table: string; readonly column: string; readonly reason: string }[] = [
    {
        service: "reserve-item-service", table: "code", column: "create_date",
        reason: "reactive BaseTimeEntity.createDate maps create_date, initdb.sql's msaportal.code has created_date: " +
            "ReserveItemRepositoryImpl.findCodeDetail (entityTemplate.select(Code.class)) fails with Unknown column upstream too; not read at start",
    },
];

/**
 * Every table an entity maps is created by a migration in the service's database (the one its served URL names):
 * with ddl-auto none and no schema runner, nothing else creates it (issue 27).
 */
function entityFindings(f: ServiceFacts, d: Rendered, resolve: (k: string) => Resolved): Finding[] {
    if (!f.entities) return [];
    const cm = d.of("ConfigMap").find((c) => c.data?.["manifest.tsv"] !== undefined);
    const manifest = cm?.data?.["manifest.tsv"] as string | undefined;
    if (manifest === undefined) return [];
    const url = resolve("spring.datasource.url").value ?? resolve("spring.r2dbc.url").value ?? "";
    const database = /^(?:jdbc|r2dbc):mysql:\/\/[^/]+\/([\w$]+)/.exec(url)?.[1];
    const rows = manifest.trim().split("\n").map((l) => l.split("\t")).filter((m) => m[1] === database);
    const created = new Set(rows.flatMap((m) => m[4].split(",").map((t) => t.toLowerCase())));
    const columns = tableColumns(rows.map((m) => String(cm?.data?.[m[3]] ?? "")));
    return f.entities.flatMap((e): Finding[] => {
        const table = e.table.toLowerCase();
        const tableFinding: Finding = {
            status: created.has(table) ? "ok" : "FAIL",
            key: `table ${e.table}`,
            detail: created.has(table)
                ? `${e.api} entity ${e.class}: created in ${database} by a migration`
                : `${e.api} entity ${e.class} maps table ${e.table}, which no migration creates in ${database ?? "(no database URL)"}: ` +
                    "add it to the application's SQL or a migration of database.initScriptsPath",
            needs: `${e.file}:${e.line}`,
        };
        if (!created.has(table)) return [tableFinding];
        const has = columns.get(table) ?? new Set<string>();
        const missing = e.columns.filter((c) => !has.has(c.name.toLowerCase()));
        return [
            tableFinding,
            ...(e.unmapped ?? []).map((u): Finding => ({
                status: "FAIL", key: `columns of ${e.table}`,
                detail: `${e.api} entity ${e.class} field ${u.field}: its columns cannot be derived (${u.construct}); the column check does not cover it`,
                needs: `${u.file}:${u.line}`,
            })),
            ...(missing.length === 0 ? [{
                status: "ok" as const, key: `columns of ${e.table}`,
                detail: `${e.api} entity ${e.class}: all ${e.columns.length} columns it maps exist in the migration's CREATE TABLE`,
                needs: `${e.file}:${e.line}`,
            }] : missing.map((c): Finding => {
                const gap = UPSTREAM_COLUMN_GAPS.find((g) => g.service === f.name && g.table === table && g.column === c.name.toLowerCase());
                return gap ? {
                    status: "note", key: `column ${e.table}.${c.name}`,
                    detail: `${e.api} entity ${e.class} field ${c.field} maps column ${c.name}, not in ${database}.${e.table} (declared upstream gap: ${gap.reason})`,
                    needs: `${c.file}:${c.line}`,
                } : {
                status: "FAIL", key: `column ${e.table}.${c.name}`,
                detail: `${e.api} entity ${e.class} field ${c.field} maps column ${c.name} of table ${e.table}, which the CREATE TABLE of ${database} ` +
                    "does not define: add it to the application's SQL or a migration of database.initScriptsPath",
                needs: `${c.file}:${c.line}`,
                };
            })),
            ...UPSTREAM_COLUMN_GAPS.filter((g) => g.service === f.name && g.table === table && !missing.some((c) => c.name.toLowerCase() === g.column))
                .map((g): Finding => ({
                    status: "FAIL", key: `column ${e.table}.${g.column}`,
                    detail: `declared upstream gap no longer holds (entity ${e.class} maps no missing column ${g.column}): remove it from UPSTREAM_COLUMN_GAPS`,
                    needs: `${e.file}:${e.line}`,
                })),
        ];
    });
}

/**
 * The columns of each table after the migrations run in order (lower-cased): DROP TABLE removes one, CREATE TABLE
 * defines it, except CREATE TABLE IF NOT EXISTS of a table that already exists, which the server skips.
 */
function tableColumns(sqls: readonly string[]): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const s of sqls.flatMap(splitStatements)) {
        const c = classify(s.text);
        const head = statementHead(s.text);
        const drop = /^DROP TABLE (?:IF EXISTS )?(.+)$/i.exec(head);
        if (drop) for (const t of drop[1].split(",")) out.delete(t.trim().replace(/`/g, "").toLowerCase());
        if (c.kind !== "create-table" || !c.table) continue;
        if (/^CREATE (?:TEMPORARY )?TABLE IF NOT EXISTS\b/i.test(head) && out.has(c.table.toLowerCase())) continue;
        out.set(c.table.toLowerCase(), new Set(createTableColumns(s.text)));
    }
    return out;
}

/** A binding of one service with its resolved destination, for the producer/consumer check across the stack. */
interface StreamEndpoint { readonly service: string; readonly binding: string; readonly direction: "in" | "out"; readonly destination: string; readonly needs: string }

const splitDefinition = (v: string) => v.split(/[;|,]/).map((x) => x.trim()).filter(Boolean);

/**
 * Spring Cloud Stream: every functional bean listed in the function definition (busConsumer too when Bus is there
 * and a definition is set), every binding with a destination, and each binding recorded for the stack-wide pairing.
 */
function streamFindings(f: ServiceFacts, st: NonNullable<ServiceFacts["stream"]>, resolve: (k: string) => Resolved, endpoints?: StreamEndpoint[]): Finding[] {
    const out: Finding[] = [];
    const binderAt = at(st.binder);
    // Spring Cloud Stream 4 reads spring.cloud.function.definition only; its 3.0 name is ignored (and Bus then sets
    // busConsumer alone), which running the services showed: a served stale key FAILs, naming the key that is read.
    const defKey = "spring.cloud.function.definition";
    const def = resolve(defKey);
    const stale = resolve("spring.cloud.stream.function.definition");
    if (def.value === undefined && stale.value !== undefined) {
        out.push({
            status: "FAIL", key: "spring.cloud.stream.function.definition", needs: binderAt,
            detail: `${stale.value} <- ${stale.from}: the Spring Cloud Stream 3.0 name, which this binder no longer reads; it reads ${defKey}`,
        });
    }
    const listed = def.value !== undefined ? splitDefinition(def.value) : undefined;
    const names = [...st.functions.map((x) => ({ name: x.name, needs: at(x), why: `${x.kind} bean ${x.name}()` }))];
    if (st.bus) names.push({ name: "busConsumer", needs: binderAt, why: "Spring Cloud Bus's Consumer bean (spring-cloud-starter-bus-amqp)" });
    if (st.functions.length > 0 || listed) {
        for (const n of names) {
            if (listed === undefined) {
                // Without a definition Spring Cloud Stream binds a functional bean only when it is the only one.
                const ok = names.length === 1;
                out.push({
                    status: ok ? "ok" : "FAIL", key: `${defKey} ${n.name}`, needs: n.needs,
                    detail: ok ? `unset; ${n.why} is the only functional bean, so it is bound by discovery`
                        : `unset, and ${names.map((x) => x.name).join(", ")} are all functional beans: with more than one and no definition none is bound (${n.why})`,
                });
            } else {
                const ok = listed.includes(n.name);
                out.push({
                    status: ok ? "ok" : "FAIL", key: `${defKey} ${n.name}`, needs: n.needs,
                    detail: `${def.value} <- ${def.from}${ok ? "" : `: ${n.why} is not listed; a definition replaces discovery, so it is never bound`}`,
                });
            }
        }
    }
    const bindings: { binding: string; direction: "in" | "out"; needs: string; why: string }[] = [
        ...st.functions.flatMap((x) => x.bindings.map((b) => ({ binding: b, direction: (b.includes("-in-") ? "in" : "out") as "in" | "out", needs: at(x), why: `${x.kind} bean ${x.name}()` }))),
        ...st.sends.map((x) => ({ binding: x.binding, direction: "out" as const, needs: x.via ?? at(x), why: `streamBridge.send("${x.binding}") at ${at(x)}` })),
    ];
    const seen = new Set<string>();
    for (const b of bindings) {
        if (seen.has(b.binding)) continue;
        seen.add(b.binding);
        const key = `spring.cloud.stream.bindings.${b.binding}.destination`;
        const r = resolve(key);
        if (r.value === undefined) {
            out.push({
                status: "FAIL", key, needs: b.needs,
                detail: `not set anywhere the service reads; ${b.why} would use an exchange named "${b.binding}" that no other service binds`,
            });
            continue;
        }
        out.push({ status: "ok", key, needs: b.needs, detail: `${r.value} <- ${r.from}` });
        endpoints?.push({ service: f.name, binding: b.binding, direction: b.direction, destination: r.value, needs: b.needs });
    }
    return out;
}

/** A queue a service's binder declares, for the broker's report. */
interface DeclaredQueue { readonly service: string; readonly binding: string; readonly queue: string; readonly decl: QueueDeclaration; readonly needs: string }

/** The broker the stack runs: its image's series and the settings of the rabbitmq.conf files mounted into it. */
export function renderedBroker(d: Rendered): { image: string; conf: Map<string, string>; files: string[] } | undefined {
    const sts = d.find("StatefulSet", "rabbitmq-statefulset");
    if (!sts) return undefined;
    const pod = sts.spec.template.spec;
    const c = pod.containers[0];
    const conf = new Map<string, string>();
    const files: string[] = [];
    for (const m of (c.volumeMounts ?? []) as Obj[]) {
        if (!String(m.mountPath).startsWith("/etc/rabbitmq/")) continue;
        const vol = ((pod.volumes ?? []) as Obj[]).find((v) => v.name === m.name);
        const cm = vol?.configMap ? d.of("ConfigMap").find((x) => x.metadata.name === vol.configMap.name) : undefined;
        const text = cm?.data?.[m.subPath ?? String(m.mountPath).split("/").pop()];
        if (typeof text !== "string") continue;
        files.push(`${cm!.metadata.name}/${m.subPath ?? ""}`);
        for (const [k, v] of parseConf(text)) conf.set(k, v);
    }
    return { image: String(c.image), conf, files };
}

/**
 * The queues the service's Rabbit binder declares (Spring Cloud Stream's RabbitExchangeQueueProvisioner, Spring
 * AMQP's Queue and AnonymousQueue): a consumer binding with a group gets `<destination>.<group>`, durable unless
 * durableSubscription=false (then non-durable, non-exclusive, auto-delete); one without a group (Spring Cloud Bus's
 * busConsumer-in-0) an AnonymousQueue: non-durable, exclusive, auto-delete, with x-queue-master-locator=client-local.
 * The binder's queue properties (quorum.enabled, lazy, singleActiveConsumer, autoBindDlq) become x-arguments.
 * Each declaration is checked against the broker the stack renders (config/rabbitmq.ts refusal).
 */
function queueFindings(f: ServiceFacts, st: NonNullable<ServiceFacts["stream"]>, resolve: (k: string) => Resolved, d: Rendered, queues?: DeclaredQueue[]): Finding[] {
    const broker = renderedBroker(d);
    if (!broker) return [];
    const series = rabbitmqSeries(broker.image);
    const permits = permitsOf(broker.conf);
    const kebab = (x: string) => x.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const first = (keys: string[]) => {
        for (const k of keys) {
            const r = resolve(k);
            if (r.value !== undefined) return r;
        }
        return undefined;
    };
    const rabbitProp = (binding: string, side: "consumer" | "producer", name: string) => first([
        ...[`bindings.${binding}`, "default"].flatMap((scope) => [name, kebab(name)].map((n) => `spring.cloud.stream.rabbit.${scope}.${side}.${n}`)),
    ]);
    const listed = resolve("spring.cloud.function.definition").value?.split(/[;|,]/).map((x) => x.trim()).filter(Boolean);
    const beans = st.functions.length + (st.bus ? 1 : 0);
    const bound = (bean: string) => listed === undefined ? beans === 1 : listed.includes(bean);
    const consumers = [
        ...st.functions.filter((x) => bound(x.name)).flatMap((x) => x.bindings.filter((b) => b.includes("-in-")).map((b) => ({ binding: b, needs: at(x) }))),
        ...(st.bus && bound("busConsumer") ? [{ binding: "busConsumer-in-0", needs: at(st.binder) }] : []),
    ];
    const args = (binding: string, side: "consumer" | "producer") => {
        const out: Record<string, string> = {};
        const on = (n: string) => rabbitProp(binding, side, n)?.value === "true";
        if (on("quorum.enabled")) out["x-queue-type"] = "quorum";
        if (on("lazy")) out["x-queue-mode"] = "lazy";
        if (on("singleActiveConsumer")) out["x-single-active-consumer"] = "true";
        if (on("autoBindDlq")) out["x-dead-letter-exchange"] = "DLX";
        if (rabbitProp(binding, side, "containerType")?.value?.toLowerCase() === "stream") out["x-queue-type"] = "stream";
        return out;
    };
    const out: Finding[] = [];
    const judge = (binding: string, queue: string, decl: QueueDeclaration, needs: string, how: string) => {
        queues?.push({ service: f.name, binding, queue, decl, needs });
        const kind = `${decl.durable ? "durable" : "non-durable"}${decl.exclusive ? " exclusive" : ""}${decl.autoDelete ? " auto-delete" : ""}` +
            `${Object.keys(decl.args).length ? ` ${Object.entries(decl.args).map(([k, v]) => `${k}=${v}`).join(" ")}` : ""}`;
        const key = `queue ${binding}`;
        if (!series) {
            out.push({ status: "note", key, needs, detail: `${queue}: ${kind} (${how}); broker image ${broker.image} names no series, not checked` });
            return;
        }
        const why = refusal(decl, series, permits);
        const used = featuresUsed(decl).filter((x) => permits.has(x));
        out.push({
            status: why ? "FAIL" : "ok", key, needs,
            detail: `${queue}: ${kind} (${how}); RabbitMQ ${seriesText(series)} (${broker.image}) ` +
                (why ? `refuses it: ${why}` : `accepts it${used.length ? ` (rabbitmq.conf permits ${used.join(", ")})` : ""}`),
        });
    };
    for (const c of consumers) {
        const dest = resolve(`spring.cloud.stream.bindings.${c.binding}.destination`).value
            ?? (c.binding === "busConsumer-in-0" ? resolve("spring.cloud.bus.destination").value ?? "springCloudBus" : undefined);
        if (dest === undefined) continue; // streamFindings fails it already
        const group = resolve(`spring.cloud.stream.bindings.${c.binding}.group`).value;
        const a = args(c.binding, "consumer");
        if (!group) {
            judge(c.binding, `${dest}.anonymous.<random>`, { durable: false, exclusive: true, autoDelete: true, args: { ...a, "x-queue-master-locator": "client-local" } }, c.needs,
                "no group: Spring AMQP AnonymousQueue");
            continue;
        }
        const durable = rabbitProp(c.binding, "consumer", "durableSubscription")?.value !== "false";
        judge(c.binding, `${dest}.${group}`, { durable, exclusive: false, autoDelete: !durable, args: a }, c.needs,
            `group ${group}${durable ? "" : ", durableSubscription=false"}`);
    }
    const producers = [...st.functions.flatMap((x) => x.bindings.filter((b) => b.includes("-out-")).map((b) => ({ binding: b, needs: at(x) }))),
        ...st.sends.map((x) => ({ binding: x.binding, needs: x.via ?? at(x) }))];
    for (const p of producers) {
        const groups = first([`spring.cloud.stream.bindings.${p.binding}.producer.requiredGroups`, `spring.cloud.stream.bindings.${p.binding}.producer.required-groups`])?.value;
        const dest = resolve(`spring.cloud.stream.bindings.${p.binding}.destination`).value ?? p.binding;
        for (const g of (groups ?? "").split(",").map((x) => x.trim()).filter(Boolean)) {
            judge(p.binding, `${dest}.${g}`, { durable: true, exclusive: false, autoDelete: false, args: args(p.binding, "producer") }, p.needs, `producer requiredGroups ${g}`);
        }
    }
    return out;
}

/**
 * The broker's own report: its rabbitmq.conf holds no key its series dropped, and every permit the platform
 * declares (config/rabbitmq.ts BROKER_SETTINGS) is needed by a queue a service declares, or it is stale.
 */
function brokerReport(d: Rendered, queues: readonly DeclaredQueue[]): WorkloadReport | undefined {
    const broker = renderedBroker(d);
    if (!broker) return undefined;
    const series = rabbitmqSeries(broker.image);
    const findings: Finding[] = [];
    const where = broker.files.join(", ") || "(no rabbitmq.conf mounted)";
    for (const k of broker.conf.keys()) {
        const removed = REMOVED_CONF_KEYS.find((r) => r.key.test(k) && (!series || seriesAtLeast(series, r.removedIn)));
        findings.push(removed
            ? { status: "FAIL", key: k, needs: where, detail: `not honoured from RabbitMQ ${seriesText(removed.removedIn)}: ${removed.why}` }
            : { status: "ok", key: k, needs: where, detail: `${broker.conf.get(k)}` });
    }
    for (const s of BROKER_SETTINGS.filter((x) => x.permits && broker.conf.get(x.key) === x.value)) {
        const users = queues.filter((q) => featuresUsed(q.decl).includes(s.permits!));
        findings.push({
            status: users.length > 0 ? "ok" : "FAIL", key: s.key, needs: "config/rabbitmq.ts BROKER_SETTINGS",
            detail: users.length > 0 ? `needed by ${users.map((q) => `${q.service} ${q.binding}`).join(", ")}`
                : `declared permit no longer needed: no queue a service declares uses ${s.permits}; remove it from BROKER_SETTINGS`,
        });
    }
    return { workload: "rabbitmq", summary: `broker ${broker.image}${series ? `, series ${seriesText(series)}` : ""}; rabbitmq.conf from ${where}`, findings };
}

/** Across the stack: each consumed destination has a producer, each produced destination a consumer. */
function pairingFindings(endpoints: readonly StreamEndpoint[]): Map<string, Finding[]> {
    const byService = new Map<string, Finding[]>();
    for (const e of endpoints) {
        const other = endpoints.filter((x) => x.destination === e.destination && x.direction !== e.direction);
        const role = e.direction === "in" ? "producer" : "consumer";
        const list = byService.get(e.service) ?? [];
        list.push({
            status: other.length > 0 ? "ok" : "FAIL", key: `stream ${e.binding} -> ${e.destination}`, needs: e.needs,
            detail: other.length > 0
                ? `${e.direction === "in" ? "produced by" : "consumed by"} ${other.map((x) => `${x.service} (${x.binding})`).join(", ")}`
                : `no ${role} of ${e.destination} in the stack: ${e.direction === "in" ? "nothing ever arrives" : "the messages reach no service"}`,
        });
        byService.set(e.service, list);
    }
    return byService;
}

/** The indicators an actuator health path aggregates, given the resolved properties. */
function healthFindings(f: ServiceFacts, kind: string, path: string, resolve: (k: string) => Resolved): Finding[] {
    const m = /^\/actuator\/health(?:\/([^/]+))?\/?$/.exec(path);
    if (!m || !f.health) return [];
    const enabled = (h: NonNullable<ServiceFacts["health"]>[number]) => {
        const v = resolve(h.property).value ?? (h.defaults ? resolve("management.health.defaults.enabled").value : undefined) ?? "true";
        return v !== "false";
    };
    const present = f.health.filter(enabled);
    let members: typeof present;
    let what: string;
    if (!m[1]) {
        members = present;
        what = `GET ${path} is the aggregate of every health contributor`;
    } else {
        const group = m[1];
        const include = resolve(`management.endpoint.health.group.${group}.include`).value;
        const names = include !== undefined ? include.split(",").map((x) => x.trim())
            : group === "readiness" ? ["readinessState"] : group === "liveness" ? ["livenessState"] : [group];
        members = names.includes("*") ? present : present.filter((h) => names.includes(h.indicator));
        what = `GET ${path} aggregates ${names.join(", ")}`;
    }
    const effect = kind === "livenessProbe" || kind === "startupProbe" ? "the kubelet restarts the pod" : "the pod leaves its Service";
    const deps = members.filter((h) => h.dependsOn);
    if (deps.length === 0) {
        return [{
            status: "ok", key: `${kind} health`, needs: f.actuator ? at(f.actuator) : `backend/${f.name}/build.gradle`,
            detail: `${what}: ${members.map((h) => h.indicator).join(", ") || "no indicator of another server"}; none depends on another server`,
        }];
    }
    return deps.map((h) => ({
        status: "FAIL" as const, key: `${kind} health ${h.indicator}`, needs: at(h),
        detail: `${what}, including ${h.indicator} (${h.spring}), which is DOWN when ${h.dependsOn} is: ${effect}. ` +
            `Fix: serve ${h.property}=false (or probe a path without it)`,
    }));
}

/** A directory created at start-up must lie on a writable volume: the root filesystem may be read-only. */
function writeFinding(w: NonNullable<ServiceFacts["writesAtStart"]>[number], pod: Obj, c: Obj, resolve: (k: string) => Resolved): Finding {
    const key = `writes ${w.key}${w.suffix}`;
    const r = resolve(w.key);
    if (r.value === undefined) return { status: "FAIL", key, needs: at(w), detail: `${w.key} resolves nowhere: ${w.why}` };
    const dir = `${r.value}${w.suffix}`.replace(/\/+$/, "");
    const under = (m: Obj) => dir === m.mountPath.replace(/\/+$/, "") || dir.startsWith(`${m.mountPath.replace(/\/+$/, "")}/`);
    const mount = ((c.volumeMounts ?? []) as Obj[]).filter(under).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    const uid = c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
    const readOnlyRoot = c.securityContext?.readOnlyRootFilesystem === true;
    if (!mount) {
        return {
            status: readOnlyRoot ? "FAIL" : "note", key, needs: at(w),
            detail: `${dir} <- ${r.from} is on no volume of the container` +
                (readOnlyRoot ? ": the root filesystem is read-only (readOnlyRootFilesystem), so the bean fails to start"
                    : `: it is written into the image's filesystem, which must be writable by uid ${uid ?? "(image)"}`),
        };
    }
    const vol = ((pod.volumes ?? []) as Obj[]).find((v) => v.name === mount.name) ?? {};
    const type = Object.keys(vol).find((k) => k !== "name") ?? "(no volume)";
    const ro = mount.readOnly === true || vol.persistentVolumeClaim?.readOnly === true || ["configMap", "secret", "downwardAPI", "projected"].includes(type);
    return {
        status: ro ? "FAIL" : "ok", key, needs: at(w),
        detail: `${dir} <- ${r.from}: under ${mount.mountPath} (volume ${mount.name}, ${type}${type === "persistentVolumeClaim" ? ` ${vol.persistentVolumeClaim.claimName}` : ""})` +
            (ro ? ", which is read-only: the bean fails to start" : `, writable; uid ${uid ?? "(image)"}, fsGroup ${pod.securityContext?.fsGroup ?? "none"}`),
    };
}

function badValue(r: Requirement, value: string, d: Rendered, stack?: { graph: ServiceGraph; client: string }): string | undefined {
    const [host, port] = (() => {
        const m = /^[a-z0-9+:]+:\/\/(?:[^@/]*@)?([^:/?]+)(?::(\d+))?/i.exec(value);
        return m ? [m[1], m[2]] : [value.split(":")[0], /^[^:/]+:(\d+)$/.exec(value)?.[1]];
    })();
    switch (r.rule) {
        case "remote-host": {
            if (/^(localhost|127\.0\.0\.1|\[::1\])$/.test(host)) return `${host} is the pod itself: ${r.why}`;
            if (host.startsWith("<")) return undefined;
            const svc = host.split(".")[0];
            if (host.endsWith(".svc.cluster.local") || !host.includes(".")) {
                if (!d.of("Service").some((s) => s.metadata.name === svc)) return `no Service ${svc} in this stack`;
            }
            // An infrastructure server: its record (config/servers.ts) says where it is and which ports it serves, and
            // the service graph (hence the network policy) must let this client reach it there.
            const server = stack?.graph.servers.byName[svc];
            if (stack && server) {
                if (host !== server.host && host !== server.service) return `${host} is not where ${server.name} is (its record: ${server.host})`;
                const on = port === undefined ? server.clientPort : Number(port);
                if (!server.ports.some((p) => p.port === on)) return `port ${on}: ${server.name} serves ${server.ports.map((p) => p.port).join(", ")} (its record)`;
                if (!stack.graph.allows(stack.client, server.name, on)) {
                    return `the service graph has no edge ${stack.client} -> ${server.name}:${on}: the network policy refuses the connection`;
                }
            }
            return undefined;
        }
        case "not-default-user":
            return value === r.bootDefault ? `${value} is the broker's default user; ${r.why}` : undefined;
        case "true":
            return value === "true" ? undefined : `is ${value}; ${r.why}`;
        default:
            return undefined;
    }
}

/** Whether a non-root process of this pod can bind `port`. */
function bindFinding(pod: Obj, c: Obj, port: number, needs: string): Finding {
    const uid = c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
    const added: string[] = c.securityContext?.capabilities?.add ?? [];
    const sysctl = ((pod.securityContext?.sysctls ?? []) as Obj[]).find((s) => s.name === "net.ipv4.ip_unprivileged_port_start");
    const key = `bind :${port}`;
    if (port >= 1024) return { status: "ok", key, detail: `unprivileged port (uid ${uid ?? "of the image"})`, needs };
    if (uid === 0) return { status: "ok", key, detail: "runs as root", needs };
    if (added.includes("NET_BIND_SERVICE")) return { status: "ok", key, detail: "CAP_NET_BIND_SERVICE added", needs };
    if (sysctl && Number(sysctl.value) <= port) return { status: "ok", key, detail: `sysctl net.ipv4.ip_unprivileged_port_start=${sysctl.value}`, needs };
    return {
        status: "FAIL", key, needs,
        detail: `uid ${uid ?? "(image)"} with capabilities ${JSON.stringify(c.securityContext?.capabilities ?? {})} and no ` +
            "net.ipv4.ip_unprivileged_port_start sysctl: \"Permission denied\" on runtimes that keep the kernel's 1024 (containerd 1.x, CRI-O)",
    };
}

function probePathFindings(f: ServiceFacts, kind: string, path: string, resolve: (k: string) => Resolved): Finding[] {
    const out: Finding[] = [];
    const needsActuator = f.actuator ? at(f.actuator) : `backend/${f.name}/build.gradle`;
    if (path.startsWith("/actuator")) {
        if (!f.actuator) out.push({ status: "FAIL", key: kind, detail: `${path}: no actuator in build.gradle`, needs: needsActuator });
        const exposure = resolve("management.endpoints.web.exposure.include").value ?? "health";
        if (!/(^|[\s,])(health|\*)($|[\s,])/.test(exposure)) {
            out.push({ status: "FAIL", key: kind, detail: `${path}: health is not exposed (${exposure})`, needs: needsActuator });
        }
        if (/^\/actuator\/health\/(liveness|readiness)$/.test(path) && resolve("management.endpoint.health.probes.enabled").value !== "true") {
            out.push({ status: "FAIL", key: kind, detail: `${path}: the probe groups need management.endpoint.health.probes.enabled=true`, needs: needsActuator });
        }
    }
    if (!f.security) {
        out.push({ status: "ok", key: kind, detail: `GET ${path}: no Spring Security in build.gradle`, needs: needsActuator });
        return out;
    }
    const permit = f.security.permits.find((p) => pathMatches(p.pattern, path));
    out.push(permit
        ? { status: "ok", key: kind, detail: `GET ${path}: permitAll by ${permit.pattern}`, needs: at(permit) }
        : {
            status: "FAIL", key: kind, needs: at(f.security.otherwise),
            detail: `GET ${path}: matches no permitAll pattern (${f.security.permits.map((p) => p.pattern).join(" ")}); goes to ${f.security.otherwise.value}` +
                " and is refused (401) without a token",
        });
    return out;
}

function checkFrontend(f: BootFacts["frontends"][number], d: Rendered): WorkloadReport | undefined {
    const dep = d.find("Deployment", `frontend-${f.name}-deployment`);
    if (!dep) return undefined;
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    const env = envOf(d, c);
    const findings: Finding[] = [];
    for (const b of f.buildTime) {
        const pv = b.reads ? env.get(b.reads) : undefined;
        findings.push({
            status: "note", key: b.key, needs: at(b),
            detail: `fixed when the image is built${b.reads ? ` from ${b.reads}` : ""}` +
                (pv ? `; the pod's ${b.reads}=${pv.value} does not reach it (only code reading process.env at run time sees it)` : ""),
        });
    }
    const port = Number(env.get("PORT")?.value ?? "3000");
    findings.push(bindFinding(pod, c, port, `frontend/${f.name}/next.config.js`));
    const containerPorts = ((c.ports ?? []) as Obj[]).map((p) => Number(p.containerPort));
    findings.push({
        status: containerPorts.includes(port) ? "ok" : "FAIL", key: "PORT", needs: `frontend/${f.name}/next.config.js`,
        detail: `${port}${containerPorts.includes(port) ? ", a container port" : `: not a container port (${containerPorts.join(", ")})`}`,
    });
    return { workload: `frontend-${f.name}`, summary: "Next.js: build-time settings are reported, not failed (the image decides them)", findings };
}

/** A Fluent Bit classic config: its sections in order, each with its keys (lower-cased: Fluent Bit ignores their case). */
export function parseFluentBitConf(text: string): { section: string; keys: Record<string, string> }[] {
    const out: { section: string; keys: Record<string, string> }[] = [];
    for (const raw of text.split("\n")) {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) continue;
        const head = /^\[([A-Z_]+)\]$/.exec(line);
        if (head) { out.push({ section: head[1], keys: {} }); continue; }
        const kv = /^(\S+)\s+(.*)$/.exec(line);
        if (!kv || out.length === 0) throw new Error(`fluent-bit.conf: cannot read line "${line}"`);
        out[out.length - 1].keys[kv[1].toLowerCase()] = kv[2];
    }
    return out;
}

const IMAGE_NEEDS = "opensearchproject/opensearch 2.12+ (opensearch-docker-entrypoint.sh)";
const APPENDER_NEEDS = "backend/<service>/src/main/resources/logback-spring.xml: LogstashTcpSocketAppender to ${logstash_hostname}";

/**
 * OpenSearch and the log shipper: what the image needs to start with its security plugin (the initial admin password
 * from a Secret the stack makes, no demo configuration, TLS with certificates of its own) and whether the shipper
 * takes what the services' Logstash appender sends (JSON maps over TCP at the port of logstash_hostname).
 */
function checkLogging(d: Rendered): WorkloadReport[] {
    const sts = d.find("StatefulSet", "opensearch-statefulset");
    if (!sts) return [];
    const pod = sts.spec.template.spec;
    const c = (pod.containers as Obj[])[0];
    const env = new Map<string, Obj>(((c.env ?? []) as Obj[]).map((e) => [e.name as string, e]));
    const os: Finding[] = [];
    const password = env.get(INITIAL_ADMIN_PASSWORD_ENV);
    const ref = password?.valueFrom?.secretKeyRef as Obj | undefined;
    const secret = ref ? d.of("Secret").find((x) => x.metadata.name === ref.name) : undefined;
    const inSecret = secret !== undefined && ref !== undefined && { ...secret.data, ...secret.stringData }[ref.key] !== undefined;
    os.push({
        key: INITIAL_ADMIN_PASSWORD_ENV, needs: IMAGE_NEEDS,
        ...(!password ? { status: "FAIL", detail: "not set: the image refuses to start without a strong initial admin password" }
            : !ref ? { status: "FAIL", detail: "a plain value in the pod spec: expected a Secret the stack generates" }
                : !inSecret ? { status: "FAIL", detail: `Secret ${ref.name} with key ${ref.key}: the stack renders none` }
                    : { status: "ok", detail: `Secret ${ref.name} ${ref.key} (generated)` }),
    } as Finding);
    const demo = env.get("DISABLE_INSTALL_DEMO_CONFIG")?.value;
    os.push(demo === "true"
        ? { status: "ok", key: "DISABLE_INSTALL_DEMO_CONFIG", detail: "true: the stack's certificates and users, not the demo ones", needs: IMAGE_NEEDS }
        : { status: "FAIL", key: "DISABLE_INSTALL_DEMO_CONFIG", detail: `${demo ?? "unset"}: the image installs its demo certificates and users`, needs: IMAGE_NEEDS });
    const cmName = (pod.volumes as Obj[] ?? []).find((v) => v.name === "config")?.configMap?.name as string | undefined;
    const yml = cmName ? d.find("ConfigMap", cmName)?.data?.["opensearch.yml"] as string | undefined : undefined;
    const problems = yml === undefined ? ["no opensearch.yml mounted (volume config)"] : opensearchYmlProblems(yml);
    os.push(problems.length === 0
        ? { status: "ok", key: "opensearch.yml", detail: `ConfigMap ${cmName}: security plugin on, TLS on transport and HTTP with the stack's certificates`, needs: IMAGE_NEEDS }
        : { status: "FAIL", key: "opensearch.yml", detail: problems.join("; "), needs: IMAGE_NEEDS });
    const tls = (pod.volumes as Obj[] ?? []).find((v) => v.name === "tls")?.secret?.secretName as string | undefined;
    os.push({ status: tls ? "note" : "FAIL", key: "TLS Secret", needs: "logging.tlsSecretName",
        detail: tls ? `${tls}: made outside git (tls.crt, tls.key, ca.crt); the pod waits until it exists` : "no certificate Secret mounted" });
    const reports: WorkloadReport[] = [{ workload: "opensearch", summary: "OpenSearch: what the image needs to start secured", findings: os }];

    const shipper = d.find("Deployment", "logstash-deployment");
    if (!shipper) return reports;
    const sp = shipper.spec.template.spec;
    const confMap = (sp.volumes as Obj[] ?? []).find((v) => v.name === "config")?.configMap?.name as string | undefined;
    const conf = confMap ? d.find("ConfigMap", confMap)?.data?.["fluent-bit.conf"] as string | undefined : undefined;
    const sections = conf === undefined ? [] : parseFluentBitConf(conf);
    const input = sections.find((x) => x.section === "INPUT" && x.keys.name === "tcp");
    const output = sections.find((x) => x.section === "OUTPUT" && x.keys.name === "opensearch");
    // Where the services send: logstash_hostname of every pod that has it (one value: the backend ConfigMap).
    const destinations = new Set(d.of("Deployment").flatMap((w) => (w.spec.template.spec.containers as Obj[])
        .map((x) => envOf(d, x).get("logstash_hostname")?.value).filter((v): v is string => v !== undefined)));
    const sh: Finding[] = [];
    for (const dest of destinations) {
        const port = dest.split(":").pop();
        const ok = input !== undefined && input.keys.port === port && (input.keys.format ?? "json") === "json";
        sh.push({ status: ok ? "ok" : "FAIL", key: "logstash_hostname", needs: APPENDER_NEEDS,
            detail: ok ? `${dest}: a tcp input on ${port} reading JSON maps, one per line as the appender writes them`
                : `${dest}: ${input ? `the tcp input listens on ${input.keys.port} (format ${input.keys.format ?? "json"})` : "no tcp input in fluent-bit.conf"}` });
    }
    const secured = output !== undefined && output.keys.tls === "On" && output.keys["tls.verify"] === "On" && output.keys.http_user !== undefined;
    sh.push({ status: secured ? "ok" : "FAIL", key: "opensearch output", needs: IMAGE_NEEDS,
        detail: output ? `${output.keys.host}:${output.keys.port} as ${output.keys.http_user ?? "nobody"}, tls ${output.keys.tls ?? "Off"}, verify ${output.keys["tls.verify"] ?? "default"}`
            : "no opensearch output in fluent-bit.conf" });
    reports.push({ workload: "logstash", summary: "Fluent Bit: takes what the services' Logstash appender sends", findings: sh });
    return reports;
}

/** Every upstream workload the stack deploys, checked. */
export function bootCheck(facts: BootFacts, d: Rendered, graph?: ServiceGraph): WorkloadReport[] {
    const endpoints: StreamEndpoint[] = [];
    const queues: DeclaredQueue[] = [];
    const services = facts.services.map((s) => checkService(facts, s, d, graph, endpoints, queues)).filter((r): r is WorkloadReport => r !== undefined);
    const pairs = pairingFindings(endpoints);
    return [
        ...services.map((r) => ({ ...r, findings: [...r.findings, ...(pairs.get(r.workload) ?? [])] })),
        brokerReport(d, queues),
        ...facts.frontends.map((f) => checkFrontend(f, d)),
        ...checkLogging(d),
    ].filter((r): r is WorkloadReport => r !== undefined);
}

export function failures(reports: readonly WorkloadReport[]): { workload: string; finding: Finding }[] {
    return reports.flatMap((r) => r.findings.filter((x) => x.status === "FAIL").map((finding) => ({ workload: r.workload, finding })));
}

export function formatReport(r: WorkloadReport): string {
    return [`${r.workload} (${r.summary})`, ...r.findings.map((x) => `  ${x.status.padEnd(4)} ${x.key}: ${x.detail}  [${x.needs}]`)].join("\n");
}
