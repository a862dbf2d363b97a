// What the config server serves each config client: the applications' own configuration repository (config/ of
// the stack's applicationCheckout) as written, file by file, with the platform's overrides applied and marked.
// The platform overrides only what it owns: endpoints, credentials (as placeholders of the pod's secretKeyRef env
// vars), settings of stack config, and Spring Boot 3 names where a file still has a Boot 2 one. Every override is
// an entry of OVERRIDES (or the credential rule) with its reason; `npm run boot-check` fails on any other
// difference between what a service is served and the application's files (scripts/lib/boot-conformance.ts).
import { Document, isMap, isScalar, isSeq, Node, Pair, parseDocument, Scalar, YAMLMap } from "yaml";
import { infraPorts } from "./catalog";
import { urlParamsFor, withUrlParams } from "./mysql";
import { edgeTo, edgeToServer, isConfigClient, serverFor, SHARED_DIR, ZIPKIN_SPANS_PATH } from "./wiring";
import type { WiredWorkload, WiringContext } from "./wiring";

/** Why a served value differs from the application's file. */
export type OverrideKind =
    | "endpoint" | "credential" | "stack config" | "Spring Boot 3" | "platform"
    /** A setting the application's own files miss although its code needs it (the reference's intent, not its bug). */
    | "application fix"
    /** Only for a client whose application files do not set the property (a service of the stack's own). */
    | "fallback";

export interface ServedOverride {
    readonly property: string;
    readonly kind: OverrideKind;
    readonly reason: string;
    /** Who gets it, in words; `readers` is the rule. */
    readonly who: string;
    readers(w: WiredWorkload, ctx: WiringContext): boolean;
    /**
     * The served value, given what the application's file has (undefined: no file of the client sets it). A
     * `${NAME}` names an env var of the client, which resolves it: the server serves files unresolved.
     */
    value(ctx: WiringContext, w: WiredWorkload, written: string | undefined): string;
}

/** Profiles whose files are not served, with why: every other file of a client is. */
export const UNSERVED_PROFILES: Readonly<Record<string, string>> = {
    test: "the applications' own tests (H2 in memory, ddl create-drop, sample credentials); no pod of the platform activates it",
};

const readsEureka = (w: WiredWorkload, ctx: WiringContext) => isConfigClient(w, ctx) && edgeTo(w, "discovery", ctx);
const readsRabbit = (w: WiredWorkload, ctx: WiringContext) => isConfigClient(w, ctx) && edgeToServer(w, "broker", ctx);
const dbOf = (w: WiredWorkload, ctx: WiringContext) => ({ name: w.spec?.database?.name ?? ctx.cfg.database.name, api: w.spec?.database?.api ?? "jdbc" });
const readsDbApi = (api: "jdbc" | "r2dbc") => (w: WiredWorkload, ctx: WiringContext) =>
    isConfigClient(w, ctx) && edgeToServer(w, "database", ctx) && dbOf(w, ctx).api === api;
const readsToken = (w: WiredWorkload, ctx: WiringContext) => isConfigClient(w, ctx) && w.spec?.usesToken === true;
const readsZipkin = (w: WiredWorkload, ctx: WiringContext) => isConfigClient(w, ctx) && edgeToServer(w, "tracing", ctx);

/**
 * The database URL: the file's, in the stack's time zone; the platform's own for a client whose files set none.
 * Either carries what the API's drivers need to log in to MySQL 8.4 (config/mysql.ts CLIENT_DRIVERS).
 */
const databaseUrl = (scheme: "jdbc" | "r2dbc") => (ctx: WiringContext, w: WiredWorkload, written: string | undefined) =>
    withUrlParams(written !== undefined
        ? written.replace(/([?&]serverTimezone=)[^&]*/, `$1${ctx.cfg.timezone}`)
        : `${scheme}:mysql://${serverFor(ctx, "database").host}:${serverFor(ctx, "database").clientPort}/${dbOf(w, ctx).name}?serverTimezone=${ctx.cfg.timezone}` +
            (scheme === "jdbc" ? "&autoReconnect=true" : ""), urlParamsFor(scheme));

const CREDENTIAL_REASON = "the generated credential of the platform's server, from the pod's secretKeyRef env var; never a literal or a default";

export const OVERRIDES: readonly ServedOverride[] = [
    {
        property: "eureka.client.service-url.defaultZone", kind: "endpoint", who: "graph edge to discovery", readers: readsEureka,
        reason: "the platform's discovery Service and generated user; the file takes the server's host from eureka.instance.hostname " +
            "(the client's own host name) and defaults the user to admin:admin",
        value: () => `http://\${EUREKA_USERNAME}:\${EUREKA_PASSWORD}@\${DISCOVERY_HOSTNAME}:${infraPorts.discovery}/eureka`,
    },
    {
        property: "spring.rabbitmq.port", kind: "endpoint", who: "graph edge to rabbitmq", readers: readsRabbit,
        reason: "the platform's broker Service port (the host comes from the file's ${rabbitmq.hostname}, filled by RABBITMQ_HOSTNAME)",
        value: (ctx) => String(serverFor(ctx, "broker").clientPort),
    },
    ...(["username", "password"] as const).map((key): ServedOverride => ({
        property: `spring.rabbitmq.${key}`, kind: "credential", who: "graph edge to rabbitmq", readers: readsRabbit,
        reason: `${CREDENTIAL_REASON} (the file has the broker's default user guest)`, value: () => `\${RABBITMQ_${key.toUpperCase()}}`,
    })),
    ...(["datasource", "r2dbc"] as const).flatMap((kind) => [
        {
            property: `spring.${kind}.url`, kind: "stack config", who: `graph edge to mysql, catalog database api ${kind === "datasource" ? "jdbc" : "r2dbc"}`,
            readers: readsDbApi(kind === "datasource" ? "jdbc" : "r2dbc"),
            reason: "serverTimezone follows stack config timezone (the database's and the pods' zone; the file fixes Asia/Seoul); " +
                "the host comes from the file's ${mysql.hostname}, filled by MYSQL_HOSTNAME. A client whose files set no URL " +
                "(a service of the stack's own) gets the platform's database. " +
                `${Object.entries(urlParamsFor(kind === "datasource" ? "jdbc" : "r2dbc")).map(([k, v]) => `${k}=${v}`).join("&")}: ` +
                "MySQL 8.4 logs users in with caching_sha2_password, whose full authentication the " +
                `${kind === "datasource" ? "JDBC" : "R2DBC"} drivers do over TLS (config/mysql.ts CLIENT_DRIVERS)`,
            value: databaseUrl(kind === "datasource" ? "jdbc" : "r2dbc"),
        } satisfies ServedOverride,
        ...(["username", "password"] as const).map((key): ServedOverride => ({
            property: `spring.${kind}.${key}`, kind: "credential", who: `graph edge to mysql, catalog database api ${kind === "datasource" ? "jdbc" : "r2dbc"}`,
            readers: readsDbApi(kind === "datasource" ? "jdbc" : "r2dbc"),
            reason: `${CREDENTIAL_REASON} (the file defaults to msaportal)`, value: () => `\${DB_${key.toUpperCase()}}`,
        })),
    ]),
    {
        property: "token.secret", kind: "credential", who: "catalog flag usesToken", readers: readsToken,
        reason: `${CREDENTIAL_REASON} (the file has a published sample key)`, value: () => "${TOKEN_SECRET}",
    },
    {
        property: "token.expiration_time", kind: "stack config", who: "catalog flag usesToken", readers: readsToken,
        reason: "stack config token.expirationSeconds, in ms", value: (ctx) => String(ctx.cfg.token.expirationSeconds * 1000),
    },
    {
        property: "token.refresh_time", kind: "stack config", who: "catalog flag usesToken", readers: readsToken,
        reason: "stack config token.refreshSeconds, in ms", value: (ctx) => String(ctx.cfg.token.refreshSeconds * 1000),
    },
    {
        property: "file.directory", kind: "fallback", who: "catalog flag needsDatabase, a client whose files set none",
        readers: (w, ctx) => isConfigClient(w, ctx) && w.spec?.needsDatabase === true,
        reason: "attachments on the platform's shared volume", value: () => `${SHARED_DIR}/msa-attach-volume`,
    },
    {
        property: "messages.directory", kind: "fallback", who: "catalog flag needsDatabase, a client whose files set none",
        readers: (w, ctx) => isConfigClient(w, ctx) && w.spec?.needsDatabase === true,
        reason: "module-common MessageSourceConfig reads it without a default", value: () => `${SHARED_DIR}/msa-attach-volume/messages`,
    },
    {
        property: "management.zipkin.tracing.endpoint", kind: "Spring Boot 3", who: "graph edge to zipkin", readers: readsZipkin,
        reason: "Spring Boot 3's name for the file's spring.zipkin.base-url (Spring Boot 2 / Sleuth, read by nothing in Boot 3.5), " +
            `the platform's Zipkin (${ZIPKIN_SPANS_PATH})`,
        value: () => "${MANAGEMENT_ZIPKIN_TRACING_ENDPOINT}",
    },
    {
        property: "management.tracing.sampling.probability", kind: "stack config", who: "graph edge to zipkin", readers: readsZipkin,
        reason: "stack config tracing.samplingProbability", value: () => "${MANAGEMENT_TRACING_SAMPLING_PROBABILITY}",
    },
    {
        property: "management.tracing.enabled", kind: "stack config", who: "catalog flag usesTracing while tracing.enabled is false",
        readers: (w, ctx) => isConfigClient(w, ctx) && w.spec?.usesTracing === true && !ctx.cfg.tracing.enabled,
        reason: "tracing.enabled false: no Zipkin to send to", value: () => "${MANAGEMENT_TRACING_ENABLED}",
    },
    // The gateway's readiness is its aggregate health (catalog readinessPath): no other server may take the API out.
    // The boot check derives each indicator of that path from the starters and fails on one that follows a server.
    ...([
        ["management.health.rabbit.enabled", "RabbitHealthIndicator (spring-boot-starter-amqp): the broker", "broker"],
        ["management.health.binders.enabled", "BindersHealthIndicator (Spring Cloud Stream): the broker", "broker"],
        ["health.config.enabled", "ConfigServerHealthIndicator, clientConfigServer (spring-cloud-starter-config): the config server", "config"],
        ["spring.cloud.discovery.client.composite-indicator.enabled", "discoveryComposite (spring-cloud-commons): the instance's status in Eureka", "discovery"],
    ] as const).map(([property, indicator, server]): ServedOverride => ({
        property, kind: "platform", who: `catalog readinessPath /actuator/health (the aggregate health), graph edge to ${server === "broker" ? "rabbitmq" : server}`,
        readers: (w, ctx) => isConfigClient(w, ctx) && w.spec?.readinessPath === "/actuator/health"
            && (server === "broker" ? edgeToServer(w, server, ctx) : edgeTo(w, server, ctx)),
        reason: `the readiness probe reads the aggregate health, and ${indicator} would take every pod out of service in an outage`,
        value: () => "false",
    })),
    {
        property: "spring.cloud.stream.bindings.attachmentEntity-out-0.destination", kind: "application fix",
        who: "reserve-request-service (its code sends, its file names no destination)",
        readers: (w, ctx) => isConfigClient(w, ctx) && edgeToServer(w, "broker", ctx) && w.name === "reserve-request-service",
        reason: "ReserveService.java:82 sends attachment links through module-common's attachmentEntity-out-0 binding; without the " +
            "destination every other service's file gives it (attachment-entity.topic, which portal-service consumes), Stream " +
            "publishes to an exchange of the binding's own name that no queue reads, and the reservation's attachments are never linked",
        value: () => "attachment-entity.topic",
    },
];

/**
 * The credential rule: a property the files set whose name ends in password or secret, and that no entry above
 * gives the client, is served as a placeholder of the env var Spring maps to it (`spring.mail.password` ->
 * `${SPRING_MAIL_PASSWORD:}`), so no literal (`email_password`, `guest`, a sample key) reaches a pod and the
 * value can come from a Secret. A username beside it keeps the file's value as its default.
 */
export const CREDENTIAL_RULE = {
    secret: /(^|[._-])(password|secret)$/i,
    username: /(^|[._-])username$/i,
    reason: "a credential of a server the platform does not own: served as a placeholder of the pod's env var, never the file's literal",
} as const;

/** The env var name Spring's relaxed binding reads for a property (SystemEnvironmentPropertySource). */
export const envNameOf = (property: string) => property.replace(/[.-]/g, "_").replace(/[[\]]/g, "").toUpperCase();

const hasLiteral = (v: string) => !v.startsWith("${") || /^\$\{[^:}]+:[^}]+\}$/.test(v);

/** The credential rule's value for a property the files set, or undefined when the rule does not apply. */
export function credentialPlaceholder(property: string, written: string): string | undefined {
    if (CREDENTIAL_RULE.secret.test(property)) return hasLiteral(written) ? `\${${envNameOf(property)}:}` : undefined;
    if (CREDENTIAL_RULE.username.test(property) && !written.includes("${")) return `\${${envNameOf(property)}:${written}}`;
    return undefined;
}

/** Relaxed binding's canonical form: `preferIpAddress`, `prefer-ip-address` and `prefer_ip_address` are one property. */
export const canonical = (property: string) => property.toLowerCase().replace(/[-_]/g, "");

/** The declared reason a served value may differ from the file's, for the conformance check. */
export function declaredOverride(property: string, written?: string): { kind: OverrideKind | "credential rule"; reason: string } | undefined {
    const o = OVERRIDES.find((x) => canonical(x.property) === canonical(property));
    if (o) return { kind: o.kind, reason: o.reason };
    if (written !== undefined && credentialPlaceholder(property, written) !== undefined) return { kind: "credential rule", reason: CREDENTIAL_RULE.reason };
    return undefined;
}

/** The scalar leaves of a YAML document: dotted property (list items as key[i]) -> the pair or item holding it. */
function leaves(doc: Document): { property: string; set(value: string, note: string): void; value: string }[] {
    const out: { property: string; set(value: string, note: string): void; value: string }[] = [];
    const walk = (n: Node | null | undefined, prefix: string, setNode: (x: Node) => void) => {
        if (isMap(n)) {
            for (const p of (n as YAMLMap<unknown, unknown>).items as Pair<Node, Node>[]) {
                const k = isScalar(p.key) ? String(p.key.value) : String(p.key);
                walk(p.value, prefix ? `${prefix}.${k}` : k, (x) => { p.value = x; });
            }
        } else if (isSeq(n)) {
            n.items.forEach((x, i) => walk(x as Node, `${prefix}[${i}]`, (y) => { n.items[i] = y; }));
        } else if (isScalar(n)) {
            const old = n;
            out.push({
                property: prefix,
                value: old.value === null ? "" : String(old.value),
                set: (value, note) => {
                    const s = new Scalar(value);
                    s.comment = ` egov-platform: ${note}${old.comment ? ` (was:${old.comment})` : ""}`;
                    s.commentBefore = old.commentBefore;
                    setNode(s);
                },
            });
        }
    };
    walk(doc.contents as Node, "", (x) => { doc.contents = x as never; });
    return out;
}

/** The application's files a client is served: application*.yml and <name>*.yml, but for UNSERVED_PROFILES. */
export function servedFileNames(client: string, files: readonly string[]): string[] {
    return files.filter((f) => {
        const name = f.replace(/\.ya?ml$/, "");
        if (name === f) return false;
        for (const base of ["application", client]) {
            if (name === base) return true;
            if (name.startsWith(`${base}-`)) return UNSERVED_PROFILES[name.slice(base.length + 1)] === undefined;
        }
        return false;
    });
}

/**
 * The served repository: `<client>/<file>` -> text, for each config client. Each file is the application's, as
 * written (comments kept), with the overrides of OVERRIDES and the credential rule applied and marked where they
 * change it; a client whose files set none of an override's property gets it in its own `<client>.yml`.
 */
export function servedConfigFiles(workloads: readonly WiredWorkload[], ctx: WiringContext): Record<string, string> {
    const app = ctx.cfg.application;
    const out: Record<string, string> = {};
    for (const w of workloads.filter((x) => isConfigClient(x, ctx))) {
        const names = servedFileNames(w.name, Object.keys(app.configFiles));
        const own = `${w.name}.yml`;
        if (!names.includes(own)) names.push(own);
        const docs = new Map(names.map((f) => [f, parseDocument(app.configFiles[f] ?? "")]));
        const overrides = OVERRIDES.filter((o) => o.readers(w, ctx));
        const given = new Set(overrides.map((o) => canonical(o.property)));
        const setAnywhere = new Set<string>();
        for (const [, doc] of docs) {
            for (const leaf of leaves(doc)) {
                const key = canonical(leaf.property);
                const o = overrides.find((x) => canonical(x.property) === key);
                let value: string | undefined;
                let note = "";
                if (o) {
                    setAnywhere.add(key);
                    if (o.kind === "fallback") continue;
                    value = o.value(ctx, w, leaf.value);
                    note = `${o.kind} override (config/served.ts)`;
                } else if (!given.has(key)) {
                    value = credentialPlaceholder(leaf.property, leaf.value);
                    note = "credential rule (config/served.ts)";
                }
                if (value !== undefined && value !== leaf.value) leaf.set(value, note);
            }
        }
        const ownDoc = docs.get(own)!;
        for (const o of overrides.filter((x) => !setAnywhere.has(canonical(x.property)))) {
            if (!isMap(ownDoc.contents)) ownDoc.contents = ownDoc.createNode({}) as never;
            const value = new Scalar(o.value(ctx, w, undefined));
            value.comment = ` egov-platform: ${o.kind === "fallback" ? "fallback" : `${o.kind} override`} (config/served.ts)`;
            (ownDoc.contents as YAMLMap).set(o.property, value);
        }
        for (const [f, doc] of docs) {
            const origin = app.configFiles[f] !== undefined
                ? `config/${f} of the application checkout (${app.commit.slice(0, 12)})`
                : "no application file: the platform's settings only";
            out[`${w.name}/${f}`] = `# Served to ${w.name} by egov-platform: ${origin}, with the overrides marked below.\n${doc.toString({ lineWidth: 0 })}`;
        }
    }
    return out;
}
