// The wiring contract: every setting the platform gives the Spring services and the frontends, the property
// the application really reads (file and key in the upstream source), how the platform sets it and what could
// override it. Env vars (components/backend-service.ts, frontend.ts), the backend ConfigMap (platform.ts) and
// the files the config server serves each service (components/config-server.ts) are all built from it, and
// docs/wiring.md is generated from it (`npm run docs:wiring`). Who gets a setting is decided by the
// service graph (config/graph.ts) and catalog flags, never by a list kept here.
import { parse } from "yaml";
import type { PlatformConfig } from "./types";
import { BackendServiceSpec, infraPorts } from "./catalog";
import { ServiceGraph } from "./graph";
import { serverOf } from "./servers";
import type { ServerRecord, ServerRole } from "./servers";
import { shutdown } from "./rollout";

/** The application source every `upstream` reference below points into. */
export { UPSTREAM } from "./application";

/** The config server's workload name (the graph's `config` node). */
export const CONFIG_SERVER = "config";
/** Spring profile named as the default one when logs go to Logstash (see SPRING_PROFILES_DEFAULT). */
export const LOG_PROFILE = "logstash";
/**
 * Where the config server finds the files the platform generates (one `<service>.yml` per config client) and,
 * with configServer.path, the user's files, which are searched after them and so win.
 */
export const GENERATED_REPO_DIR = "/etc/egov/config-generated";
export const CONFIG_REPO_DIR = "/etc/egov/config-repo";
/** The shared volume's mount path (APP_HOME): attachments and the message bundles portal-service writes. */
export const SHARED_DIR = "/srv/nfs";
/** Zipkin's span intake path (Zipkin v2 API). */
export const ZIPKIN_SPANS_PATH = "/api/v2/spans";

export type SecretName = "mysql" | "rabbitmq" | "eureka" | "token";

/** Where an env var's value comes from. ConfigMap keys are the env var's own name. */
export type ValueSource =
    | { readonly from: "configMap"; readonly configMap: "backend" | "common" }
    | { readonly from: "secret"; readonly secret: SecretName; readonly key: string }
    /** A Secret the user creates, named in stack config (`value` gives its name). */
    | { readonly from: "userSecret"; readonly setting: string; readonly key: string }
    | { readonly from: "literal" };

/** How a value reaches the property the application reads. */
export type Via =
    /** Spring binds the env var to the property (relaxed binding): beats packaged application/bootstrap.yml. */
    | "env"
    /** A served file (an override of config/served.ts) names the env var as a placeholder; the client resolves it. */
    | "served"
    /** A served or packaged file refers to the env var through a placeholder of its own. */
    | "placeholder"
    /** logback-spring.xml: a Spring profile or a logback variable (system property, then OS env). */
    | "logback"
    /** Read from the process environment by a non-Spring reader (the JVM, Node.js). */
    | "process";

/** A workload as the contract sees it: a backend service (with its catalog entry) or a frontend. */
export interface WiredWorkload {
    readonly name: string;
    readonly spec?: BackendServiceSpec;
}

export interface WiringContext {
    readonly cfg: PlatformConfig;
    readonly graph: ServiceGraph;
    /** The backend catalog in force (the graph was built from it). */
    readonly services: readonly BackendServiceSpec[];
}

export interface EnvSetting {
    readonly env: string;
    readonly source: ValueSource;
    /** The property or variable the application reads. */
    readonly feeds: string;
    readonly via: Via;
    /** Upstream file and key that read it (paths relative to UPSTREAM at its commit). */
    readonly upstream: string;
    /** What could still override the platform's value. */
    readonly overriddenBy: string;
    /** Who gets it, in words; `applies` is the rule. */
    readonly who: string;
    applies(w: WiredWorkload, ctx: WiringContext): boolean;
    /** The value, for ConfigMap and literal sources (a ConfigMap value must not depend on the workload). */
    value?(ctx: WiringContext, w: WiredWorkload): string;
}

export const host = (ctx: WiringContext, svc: string) => `${svc}.${ctx.cfg.namespace}.svc.cluster.local`;
export const edgeTo = (w: WiredWorkload, to: string, ctx: WiringContext) => ctx.graph.dependenciesOf(w.name).some((e) => e.to === to);
/** The stack's server of a role (config/servers.ts): its host and ports come from its record, never from here. */
export const serverFor = (ctx: WiringContext, role: ServerRole): ServerRecord => serverOf(ctx.graph.servers, role);
/** Whether the workload is a client of the stack's server of this role (a graph edge to it). */
export const edgeToServer = (w: WiredWorkload, role: ServerRole, ctx: WiringContext) => {
    const server = ctx.graph.servers.byRole[role];
    return server !== undefined && edgeTo(w, server.name, ctx);
};
/** Whether the application's own files served to a client (application.yml, <name>.yml) set a property (nested keys). */
export const applicationFilesSet = (w: WiredWorkload, ctx: WiringContext, property: string): boolean =>
    ["application.yml", `${w.name}.yml`].some((f) => {
        const text = ctx.cfg.application.configFiles[f];
        let v: unknown = text === undefined ? undefined : parse(text);
        for (const k of property.split(".")) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
        return v !== undefined && v !== null;
    });
/** The value the application's own files served to a client give a property (<name>.yml over application.yml), if any. */
export const applicationFilesValue = (w: WiredWorkload, ctx: WiringContext, property: string): string | undefined => {
    let found: string | undefined;
    for (const f of ["application.yml", `${w.name}.yml`]) {
        const text = ctx.cfg.application.configFiles[f];
        let v: unknown = text === undefined ? undefined : parse(text);
        for (const k of property.split(".")) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
        if (v !== undefined && v !== null && typeof v !== "object") found = String(v);
    }
    return found;
};
/** The functions a client's served files ask Spring Cloud Stream to bind: the current key, else its Stream 3.0 name. */
const servedFunctionDefinition = (w: WiredWorkload, ctx: WiringContext): string | undefined =>
    applicationFilesValue(w, ctx, "spring.cloud.function.definition") ?? applicationFilesValue(w, ctx, "spring.cloud.stream.function.definition");
export const isConfigClient = (w: WiredWorkload, ctx: WiringContext) => w.spec !== undefined && edgeTo(w, CONFIG_SERVER, ctx);
const isConfigServer = (w: WiredWorkload) => w.spec !== undefined && w.name === CONFIG_SERVER;
const gatewayOf = (ctx: WiringContext) => ctx.services.find((s) => s.isGateway);
const serverSource = (ctx: WiringContext) => ctx.cfg.configServer;
/** Whether the stack serves the user's files from configServer.path (an empty set means the key is unset). */
export const servesUserFiles = (ctx: { cfg: PlatformConfig }) => {
    const s = ctx.cfg.configServer;
    return s.source === "directory" && Object.keys(s.files).length > 0;
};

const REMOTE_WINS = "a user's served file (configServer.path or git) setting the same property; served config outranks the environment";
const BOOT_ENV = "a served file setting the same property (bootstrap-phase remote sources outrank the environment); the upstream served files do not";

export const envSettings: readonly EnvSetting[] = [
    {
        env: "SERVER_PORT", source: { from: "literal" }, feeds: "server.port", via: "env",
        upstream: "backend/<service>/src/main/resources/application.yml: server.port (0, a random port)", overriddenBy: BOOT_ENV,
        who: "catalog flag setsServerPort (the business services: 8080, a port a non-root process binds on every runtime)",
        applies: (w) => w.spec?.setsServerPort === true, value: (_ctx, w) => String(w.spec?.port),
    },
    {
        env: "APP_HOME", source: { from: "configMap", configMap: "common" }, feeds: "app.home in file.directory (messages.directory follows it)", via: "placeholder",
        upstream: "config/application.yml: file.directory: ${app.home:${user.home}}/msa-attach-volume",
        overriddenBy: "a served file with a fixed file.directory", who: "catalog flag needsDatabase (the reference's business services)",
        applies: (w) => w.spec?.needsDatabase === true, value: () => SHARED_DIR,
    },
    {
        env: "SPRING_CLOUD_CONFIG_URI", source: { from: "configMap", configMap: "backend" }, feeds: "spring.cloud.config.uri", via: "env",
        upstream: "backend/<service>/src/main/resources/bootstrap.yml: spring.cloud.config.uri (http://localhost:8888)",
        overriddenBy: "nothing served: it is read before the config server is contacted", who: "graph edge to config",
        applies: isConfigClient, value: (ctx) => `http://${host(ctx, CONFIG_SERVER)}:${infraPorts.config}`,
    },
    {
        env: "SPRING_CLOUD_CONFIG_FAIL_FAST", source: { from: "literal" }, feeds: "spring.cloud.config.fail-fast", via: "env",
        upstream: "backend/<service>/src/main/resources/bootstrap.yml: fail-fast: false (starts on its packaged defaults without the config server)",
        overriddenBy: "nothing served: it is read before the config server is contacted",
        who: "graph edge to config: the pod fails and the kubelet restarts it with back-off until the server answers " +
            "(spring-retry is not on the services' classpath, so Spring's own retry is not available)",
        applies: isConfigClient, value: () => "true",
    },
    {
        env: "SPRING_CLOUD_CONFIG_NAME", source: { from: "literal" }, feeds: "spring.cloud.config.name: which `<name>.yml` the server serves it",
        via: "env",
        upstream: "backend/<service>/src/main/resources/bootstrap.yml: name: <service> (apigateway: application, which every client is served)",
        overriddenBy: "nothing served: it is read before the config server is contacted", who: "graph edge to config",
        applies: isConfigClient, value: (_ctx, w) => w.name,
    },
    {
        env: "SPRING_CLOUD_FUNCTION_DEFINITION", source: { from: "literal" },
        feeds: "spring.cloud.function.definition: the functions Spring Cloud Stream binds (the served definition, e.g. reserveRequest;busConsumer)", via: "env",
        upstream: "config/<service>.yml: spring.cloud.stream.function.definition, the Spring Cloud Stream 3.0 name, which the binder of the " +
            "services' Spring Cloud 2025.0 no longer reads; it reads spring.cloud.function.definition, which spring-cloud-bus then sets to " +
            "busConsumer alone: the services' own consumers (reserveRequest, inventoryUpdated, attachmentEntity) are never bound. " +
            "Running reserve-item-service showed it: no reserve-request.topic.reserved queue without this variable, bound with it",
        overriddenBy: "a served spring.cloud.function.definition (its value is taken instead; the upstream files set none)",
        who: "config clients whose served files set spring.cloud.function.definition or spring.cloud.stream.function.definition",
        applies: (w, ctx) => isConfigClient(w, ctx) && servedFunctionDefinition(w, ctx) !== undefined,
        value: (ctx, w) => servedFunctionDefinition(w, ctx)!,
    },
    {
        env: "DISCOVERY_HOSTNAME", source: { from: "configMap", configMap: "backend" }, feeds: "the eureka.client.service-url.defaultZone served setting", via: "served",
        upstream: "config/application.yml: eureka.client.service-url.defaultZone (host from ${eureka.instance.hostname:localhost})",
        overriddenBy: REMOTE_WINS, who: "graph edge to discovery",
        applies: (w, ctx) => w.spec !== undefined && edgeTo(w, "discovery", ctx), value: (ctx) => host(ctx, "discovery"),
    },
    ...(["username", "password"] as const).map((key): EnvSetting => ({
        env: `EUREKA_${key.toUpperCase()}`, source: { from: "secret", secret: "eureka", key }, feeds: "the eureka.client.service-url.defaultZone served setting", via: "served",
        upstream: `config/application.yml: eureka.client.service-url.defaultZone (\${EUREKA_${key.toUpperCase()}:admin})`,
        overriddenBy: REMOTE_WINS, who: "graph edge to discovery",
        applies: (w, ctx) => w.spec !== undefined && edgeTo(w, "discovery", ctx),
    })),
    ...(["username", "password"] as const).map((key): EnvSetting => ({
        env: key === "username" ? "SPRING_SECURITY_USER_NAME" : "SPRING_SECURITY_USER_PASSWORD", source: { from: "secret", secret: "eureka", key },
        feeds: `spring.security.user.${key === "username" ? "name" : "password"}`, via: "env",
        upstream: `backend/discovery/src/main/resources/application.yml: spring.security.user.${key === "username" ? "name" : "password"} (admin)`,
        overriddenBy: "nothing: the discovery server reads no remote config", who: "catalog flag isDiscoveryServer",
        applies: (w) => w.spec?.isDiscoveryServer === true,
    })),
    {
        env: "RABBITMQ_HOSTNAME", source: { from: "configMap", configMap: "backend" }, feeds: "rabbitmq.hostname in the served spring.rabbitmq.host", via: "placeholder",
        upstream: "config/application.yml: spring.rabbitmq.host: ${rabbitmq.hostname:localhost}",
        overriddenBy: REMOTE_WINS, who: "graph edges to rabbitmq and to config",
        applies: (w, ctx) => isConfigClient(w, ctx) && edgeToServer(w, "broker", ctx), value: (ctx) => serverFor(ctx, "broker").host,
    },
    {
        env: "SPRING_RABBITMQ_HOST", source: { from: "configMap", configMap: "backend" }, feeds: "spring.rabbitmq.host", via: "env",
        upstream: "backend/config/src/main/resources/application.yml: spring.rabbitmq.host: ${rabbitmq.hostname:localhost}",
        overriddenBy: "nothing: the config server reads no remote config", who: "graph edge to rabbitmq, not a config client (the config server)",
        applies: (w, ctx) => w.spec !== undefined && edgeToServer(w, "broker", ctx) && !isConfigClient(w, ctx), value: (ctx) => serverFor(ctx, "broker").host,
    },
    ...(["username", "password"] as const).map((key): EnvSetting => ({
        env: `RABBITMQ_${key.toUpperCase()}`, source: { from: "secret", secret: "rabbitmq", key }, feeds: `the spring.rabbitmq.${key} served setting`, via: "served",
        upstream: `config/application.yml: spring.rabbitmq.${key} (guest)`, overriddenBy: REMOTE_WINS,
        who: "graph edges to rabbitmq and to config",
        applies: (w, ctx) => isConfigClient(w, ctx) && edgeToServer(w, "broker", ctx),
    })),
    ...(["username", "password"] as const).map((key): EnvSetting => ({
        env: `SPRING_RABBITMQ_${key.toUpperCase()}`, source: { from: "secret", secret: "rabbitmq", key }, feeds: `spring.rabbitmq.${key}`, via: "env",
        upstream: `backend/config/src/main/resources/application.yml: spring.rabbitmq.${key} (guest)`,
        overriddenBy: "nothing: the config server reads no remote config; these names are never override placeholders, so it cannot serve them",
        who: "graph edge to rabbitmq, not a config client (the config server's own Spring Cloud Bus)",
        applies: (w, ctx) => w.spec !== undefined && edgeToServer(w, "broker", ctx) && !isConfigClient(w, ctx),
    })),
    ...(["username", "password"] as const).map((key): EnvSetting => ({
        env: `SPRING_MAIL_${key.toUpperCase()}`, source: { from: "userSecret", setting: "mail.credentialsSecretName", key },
        feeds: `spring.mail.${key}: the served \${SPRING_MAIL_${key.toUpperCase()}:...} placeholder (config/served.ts, the credential rule)`, via: "served",
        upstream: `config/user-service.yml: spring.mail.${key} (${key === "username" ? "email_username" : "email_password"}, samples)`,
        overriddenBy: REMOTE_WINS, who: "config clients whose application files set spring.mail.host, when stack config mail.credentialsSecretName is set",
        applies: (w, ctx) => ctx.cfg.mail.credentialsSecretName !== undefined && isConfigClient(w, ctx) && applicationFilesSet(w, ctx, "spring.mail.host"),
        value: (ctx) => ctx.cfg.mail.credentialsSecretName ?? "",
    })),
    {
        env: "MYSQL_HOSTNAME", source: { from: "configMap", configMap: "backend" }, feeds: "mysql.hostname in the served datasource / R2DBC URL (database.url of config/<service>.yml)", via: "placeholder",
        upstream: "config/<service>.yml: spring.datasource.url / spring.r2dbc.url (jdbc|r2dbc:mysql://${mysql.hostname:localhost}:3306/...)",
        overriddenBy: "a served file with a fixed host",
        who: "graph edge to mysql", applies: (w, ctx) => w.spec !== undefined && edgeToServer(w, "database", ctx), value: (ctx) => serverFor(ctx, "database").host,
    },
    ...(["username", "password"] as const).map((key): EnvSetting => ({
        env: `DB_${key.toUpperCase()}`, source: { from: "secret", secret: "mysql", key },
        feeds: `the spring.datasource.${key} and spring.r2dbc.${key} served setting`, via: "served",
        upstream: `config/<service>.yml: spring.datasource.${key} / spring.r2dbc.${key} (\${DB_${key.toUpperCase()}:msaportal})`,
        overriddenBy: REMOTE_WINS, who: "graph edge to mysql",
        applies: (w, ctx) => w.spec !== undefined && edgeToServer(w, "database", ctx),
    })),
    {
        env: "TOKEN_SECRET", source: { from: "secret", secret: "token", key: "token-secret" }, feeds: "the token.secret served setting", via: "served",
        upstream: "config/application.yml: token.secret (a fixed key); read by @Value(\"${token.secret}\") in apigateway ReactiveAuthorization, " +
            "user-service TokenProvider, board/portal SecurityConfig, reserve-* AuthenticationConverter",
        overriddenBy: REMOTE_WINS, who: "catalog flag usesToken", applies: (w) => w.spec?.usesToken === true,
    },
    {
        env: "APIGATEWAY_HOSTNAME", source: { from: "configMap", configMap: "backend" }, feeds: "apigateway.hostname in the served apigateway.host", via: "placeholder",
        upstream: "config/application.yml: apigateway.host: http://${apigateway.hostname:localhost}:${server.port}; " +
            "read by backend/apigateway/.../ReactiveAuthorization.java @Value(\"${apigateway.host:...}\") to check authorizations through its own route",
        overriddenBy: REMOTE_WINS, who: "catalog flag isGateway", applies: (w) => w.spec?.isGateway === true,
        value: (ctx) => host(ctx, gatewayOf(ctx)?.name ?? "apigateway"),
    },
    {
        env: "MANAGEMENT_ZIPKIN_TRACING_ENDPOINT", source: { from: "configMap", configMap: "backend" }, feeds: "management.zipkin.tracing.endpoint", via: "served",
        upstream: "backend/<service>/build.gradle: micrometer-tracing-bridge-brave + zipkin-reporter-brave (Spring Boot 3.5.6); " +
            "config/application.yml sets only Boot 2's spring.zipkin.base-url, which nothing reads",
        overriddenBy: REMOTE_WINS, who: "graph edge to zipkin (tracing.enabled and catalog flag usesTracing)",
        applies: (w, ctx) => w.spec !== undefined && edgeToServer(w, "tracing", ctx),
        value: (ctx) => `http://${serverFor(ctx, "tracing").host}:${serverFor(ctx, "tracing").clientPort}${ZIPKIN_SPANS_PATH}`,
    },
    {
        env: "MANAGEMENT_TRACING_SAMPLING_PROBABILITY", source: { from: "literal" },
        feeds: "management.tracing.sampling.probability (Boot's default 0.1)", via: "served",
        upstream: "backend/<service>/build.gradle: micrometer-tracing-bridge-brave (Spring Boot 3.5.6)",
        overriddenBy: REMOTE_WINS, who: "graph edge to zipkin", applies: (w, ctx) => w.spec !== undefined && edgeToServer(w, "tracing", ctx),
        value: (ctx) => String(ctx.cfg.tracing.samplingProbability),
    },
    {
        env: "MANAGEMENT_TRACING_ENABLED", source: { from: "literal" }, feeds: "management.tracing.enabled", via: "served",
        upstream: "backend/<service>/build.gradle: micrometer-tracing-bridge-brave (Spring Boot 3.5.6)",
        overriddenBy: REMOTE_WINS, who: "catalog flag usesTracing while tracing.enabled is false (no Zipkin to retry)",
        applies: (w, ctx) => w.spec?.usesTracing === true && !ctx.cfg.tracing.enabled, value: () => "false",
    },
    {
        env: "MANAGEMENT_ENDPOINT_HEALTH_PROBES_ENABLED", source: { from: "literal" },
        feeds: "management.endpoint.health.probes.enabled: serves /actuator/health/liveness and /actuator/health/readiness, the pods' probes",
        via: "env",
        upstream: "none: Spring Boot turns the probe groups on by itself only when it detects Kubernetes; set so it does not depend on that detection",
        overriddenBy: "a served management.endpoint.health.probes.enabled (the served files set none)",
        who: "catalog: every backend service (discovery too: its actuator comes with the Eureka server starter, and its SecurityConfig permits /actuator/**, as upstream's SecurityConfigTest checks)",
        applies: (w) => w.spec !== undefined, value: () => "true",
    },
    // A graceful stop (config/rollout.ts: the preStop pause comes first, the grace period covers both).
    {
        env: "SERVER_SHUTDOWN", source: { from: "literal" }, feeds: "server.shutdown: on SIGTERM, stop taking requests and finish those in flight",
        via: "env", upstream: "none: Spring Boot 3.5's default is graceful since 3.4, set so an older image or a served immediate is not silent",
        overriddenBy: "a served server.shutdown (the served files set none)", who: "catalog: every backend service",
        applies: (w) => w.spec !== undefined, value: () => "graceful",
    },
    {
        env: "SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE", source: { from: "literal" },
        feeds: "spring.lifecycle.timeout-per-shutdown-phase: how long in-flight requests get (Boot's default 30s)", via: "env",
        upstream: "none", overriddenBy: "a served spring.lifecycle.timeout-per-shutdown-phase (the served files set none)",
        who: "catalog: every backend service", applies: (w) => w.spec !== undefined, value: () => `${shutdown.springShutdownSeconds}s`,
    },
    {
        env: "EUREKA_CLIENT_REGISTRYFETCHINTERVALSECONDS", source: { from: "literal" },
        feeds: "eureka.client.registry-fetch-interval-seconds (default 30): a de-registered instance leaves callers within the preStop pause",
        via: "env", upstream: "config/application.yml: eureka.client (sets no interval)", overriddenBy: "a served eureka.client.registry-fetch-interval-seconds (the served files set none)",
        who: "graph edge to discovery", applies: (w, ctx) => w.spec !== undefined && edgeTo(w, "discovery", ctx), value: () => String(shutdown.registryFetchSeconds),
    },
    {
        env: "EUREKA_SERVER_USEREADONLYRESPONSECACHE", source: { from: "literal" },
        feeds: "eureka.server.use-read-only-response-cache (default true: registry answers up to 30 s old); off, a status change reaches the next fetch",
        via: "env", upstream: "backend/discovery/src/main/resources/application.yml: eureka.server (sets only peer-node-read-timeout-ms)",
        overriddenBy: "nothing served: the discovery server is no config client", who: "catalog flag isDiscoveryServer",
        applies: (w) => w.spec?.isDiscoveryServer === true, value: () => "false",
    },
    {
        env: "SPRING_CLOUD_LOADBALANCER_CACHE_TTL", source: { from: "literal" },
        feeds: "spring.cloud.loadbalancer.cache.ttl (default 35s): how long a caller keeps an instance list", via: "env",
        upstream: "backend/apigateway/build.gradle: spring-cloud-starter-gateway (lb:// routes)", overriddenBy: "a served spring.cloud.loadbalancer.cache.ttl (the served files set none)",
        who: "graph edge to discovery", applies: (w, ctx) => w.spec !== undefined && edgeTo(w, "discovery", ctx), value: () => `${shutdown.loadBalancerCacheSeconds}s`,
    },
    {
        env: "SPRING_PROFILES_DEFAULT", source: { from: "literal" },
        feeds: "spring.profiles.default: turns on <springProfile name=\"!default\"> (the LOGSTASH appender)", via: "logback",
        upstream: "backend/<service>/src/main/resources/logback-spring.xml: <springProfile name=\"!default\">; the default profile is renamed " +
            "instead of a profile activated because egovframe-cloud-module-common MessageSourceConfig reads ${spring.profiles.active:default} " +
            "and loads messages from a file: URL only when it is \"default\"",
        overriddenBy: "SPRING_PROFILES_ACTIVE or a served spring.profiles.active (any active profile replaces the default one)",
        who: "graph edge to logstash (logging.enabled and catalog flag shipsLogs), config clients",
        applies: (w, ctx) => isConfigClient(w, ctx) && edgeToServer(w, "logShipper", ctx), value: () => LOG_PROFILE,
    },
    {
        env: "logstash_hostname", source: { from: "configMap", configMap: "backend" }, feeds: "logback variable logstash_hostname (host:port)", via: "logback",
        upstream: "backend/<service>/src/main/resources/logback-spring.xml: <property name=\"destination\" value=\"${logstash_hostname:-localhost:5001}\"/>; " +
            "the images' -Dlogstash.url (DockerfileK8s CMD) is read by nothing",
        overriddenBy: "a -Dlogstash_hostname system property (logback looks up system properties before the OS environment); the images set none",
        who: "graph edge to logstash", applies: (w, ctx) => w.spec !== undefined && edgeToServer(w, "logShipper", ctx),
        value: (ctx) => `${serverFor(ctx, "logShipper").host}:${serverFor(ctx, "logShipper").clientPort}`,
    },
    {
        env: "SPRING_PROFILES_ACTIVE", source: { from: "literal" },
        feeds: "spring.profiles.active: native (the generated files), and git with configServer.git; logstash, or default to keep logback's LOGSTASH appender off",
        via: "env",
        upstream: "backend/config/src/main/resources/application.yml: spring.profiles.active: native,default; application-prod.yml: git settings; logback-spring.xml",
        overriddenBy: "nothing: the config server reads no remote config", who: "the config server (target of config edges)",
        applies: isConfigServer,
        value: (ctx, w) => `${serverSource(ctx).source === "git" ? "git,native" : "native"},${edgeToServer(w, "logShipper", ctx) ? LOG_PROFILE : "default"}`,
    },
    {
        env: "SPRING_CLOUD_CONFIG_SERVER_NATIVE_SEARCH_LOCATIONS", source: { from: "literal" }, feeds: "spring.cloud.config.server.native.search-locations", via: "env",
        upstream: "backend/config/src/main/resources/application.yml: search-locations: file:./config (no such directory in the image; SEARCH_LOCATION is read by nothing)",
        overriddenBy: "nothing", who: "the config server: the generated files, then (configServer.path) the user's, which win",
        applies: isConfigServer,
        // {application}: each client has a directory of its own, its served files with the overrides it reads.
        value: (ctx) => [`${GENERATED_REPO_DIR}/{application}`, ...(servesUserFiles(ctx) ? [CONFIG_REPO_DIR] : [])].map((d) => `file:${d}/`).join(","),
    },
    ...([["GIT", "1"], ["NATIVE", "2"]] as const).map(([repo, order]): EnvSetting => ({
        env: `SPRING_CLOUD_CONFIG_SERVER_${repo}_ORDER`, source: { from: "literal" },
        feeds: `spring.cloud.config.server.${repo.toLowerCase()}.order (lower wins)`, via: "env",
        upstream: "spring-cloud-config-server: several active repository profiles are merged by their order",
        overriddenBy: "nothing", who: "the config server, configServer.git set: the git repository above the generated files",
        applies: (w, ctx) => isConfigServer(w) && serverSource(ctx).source === "git", value: () => order,
    })),
    ...([["URI", "uri"], ["DEFAULT_LABEL", "label"], ["SEARCH_PATHS", "searchPaths"]] as const).map(([suffix, field]): EnvSetting => ({
        env: `SPRING_CLOUD_CONFIG_SERVER_GIT_${suffix}`, source: { from: "literal" },
        feeds: `spring.cloud.config.server.git.${suffix.toLowerCase().replace("_", "-")}`, via: "env",
        upstream: `backend/config/src/main/resources/application-prod.yml: spring.cloud.config.server.git.${suffix.toLowerCase().replace("_", "-")}`,
        overriddenBy: "nothing", who: `the config server, configServer.git${field === "uri" ? "" : `.${field}`} set`,
        applies: (w, ctx) => {
            const s = serverSource(ctx);
            return isConfigServer(w) && s.source === "git" && s[field] !== undefined;
        },
        value: (ctx) => {
            const s = serverSource(ctx);
            return s.source === "git" ? s[field] ?? "" : "";
        },
    })),
];

/** Env var names a template refers to. */
export function placeholdersOf(template: string): string[] {
    return [...template.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]);
}

/** The settings a workload gets, in contract order. */
export function settingsFor(w: WiredWorkload, ctx: WiringContext): EnvSetting[] {
    return envSettings.filter((s) => s.applies(w, ctx));
}

/** Data of the backend ConfigMap: every backend-ConfigMap setting some workload of this stack gets. */
export function backendConfigMapData(workloads: readonly WiredWorkload[], ctx: WiringContext): Record<string, string> {
    const data: Record<string, string> = {};
    for (const s of envSettings) {
        if (s.source.from !== "configMap" || s.source.configMap !== "backend" || !s.value) continue;
        const user = workloads.find((w) => s.applies(w, ctx));
        if (user) data[s.env] = s.value(ctx, user);
    }
    return data;
}
