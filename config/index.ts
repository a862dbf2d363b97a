// Stack config: read and validated here, once, before any resource is created. The shapes are in ./types, the
// reading primitives in ./reader, resources, files and the backup objects in modules of their own; this module
// holds the defaults of the other keys and the checks across keys.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { backendServices, defaultImages, frontends, ImageKey } from "./catalog";
import { readServices } from "./services";
import { frontendImages, readFrontendsLock } from "./frontends";
import { DIGEST, formatImageRef, imagesInUse, lockKey, parseImageRef, readLockFile, sourceImage } from "./images";
import { offsiteWorkloads, singleInstance, singleWriterProblems, VolumeRole, volumeRoles } from "./volumes";
import { PROJECT } from "./project";
import { sideNamespaces } from "./parts";
import { ConfigError, looksLikeKubeconfigContents, readSecretFields, secretKeySet, DNS_LABEL, Reader, closest } from "./reader";
import { ConfigSource, Environment, IngressKind, Migration, TLS_SECRET_NAME, NetworkPolicyConfig, PlatformConfig, PullPolicy, ResourcePart, ResourceQuantities, RotatedCredential, ServiceType, StorageBackend, VolumeSize, environments, resourceParts, rotatedCredentials, volumeSizes } from "./types";
import { CONFIG_KEYS } from "./schema";
import { serviceGraph } from "./graph";
import { defaultResources, readResources } from "./resources";
import { expandHome, readConfigServer, readInitScripts } from "./files";
import { readDrill, readOffsite } from "./backup";
import { readApplicationCheckout } from "./application";
import { publicPeer, readGateway } from "./gateway";
import { stackMigrations } from "./migrations";

export { PROJECT };
export * from "./types";
export * from "./reader";
export { CONFIG_KEYS, STACK_SCHEMA, nodeAt } from "./schema";
export type { ConfigKey, SchemaNode } from "./schema";
export { quantityValue } from "./resources";

/**
 * The target cluster of one run, from the environment (scripts/deploy.sh and drift.sh export them for --kubeconfig and
 * --context), so choosing a cluster never rewrites the committed stack file. Validated as a stack key is.
 */
export const CLUSTER_ENV = { kubeconfig: "EGOV_KUBECONFIG", context: "EGOV_KUBE_CONTEXT" } as const;

function runCluster(r: Reader, env: Readonly<Record<string, string | undefined>>): { kubeconfig?: string; context?: string } {
    const out: { kubeconfig?: string; context?: string } = {};
    const file = env[CLUSTER_ENV.kubeconfig];
    if (file !== undefined && file !== "") {
        const resolved = path.resolve(expandHome(file));
        // A path only: contents in the environment would reach child processes and logs.
        if (looksLikeKubeconfigContents(file)) {
            r.problems.push(`${CLUSTER_ENV.kubeconfig}: a kubeconfig's contents (value not shown: it holds credentials); expected the path of a kubeconfig file`);
        } else if (!fs.existsSync(resolved) || !fs.statSync(resolved).isFile()) {
            r.problems.push(`${CLUSTER_ENV.kubeconfig}: ${JSON.stringify(file)}: expected an existing kubeconfig file (npm run deploy -- --kubeconfig FILE)`);
        } else {
            out.kubeconfig = resolved;
        }
    }
    const context = env[CLUSTER_ENV.context];
    if (context !== undefined && context !== "") {
        if (/^\S+$/.test(context)) out.context = context;
        else r.problems.push(`${CLUSTER_ENV.context}: ${JSON.stringify(context)}: expected a kubeconfig context name (no spaces)`);
    }
    return out;
}

function readTracing(r: Reader): PlatformConfig["tracing"] {
    const t = r.object("tracing");
    const samplingProbability = r.decimal("tracing.samplingProbability", t.samplingProbability);
    return { enabled: r.flag("tracing.enabled", t.enabled), samplingProbability };
}


/**
 * Reads and validates the whole stack config; throws ConfigError listing every bad key.
 * setKeys: the `egov-platform:` keys the stack sets (without the prefix); any not declared (config/schema.ts) is refused.
 * isSecret: whether a key is stored encrypted (`pulumi config set --secret`).
 */
export function loadConfig(source: ConfigSource, stackName = "dev", setKeys: Iterable<string> = [],
    isSecret: (key: string) => boolean = () => false,
    opts: { readonly frontendRecord?: boolean; readonly env?: Readonly<Record<string, string | undefined>> } = {}): PlatformConfig {
    const r = new Reader(source, isSecret);
    for (const key of setKeys) {
        if ((CONFIG_KEYS as readonly string[]).includes(key)) continue;
        // `pulumi config set storage.backend nfs` without --path stores a top-level key named "storage.backend".
        const top = key.split(/[.[]/)[0];
        if (top !== key && (CONFIG_KEYS as readonly string[]).includes(top)) {
            r.problems.push(`${PROJECT}:${key}: not a key of this program; it looks like a field of ${PROJECT}:${top} set without --path: ` +
                `run \`pulumi config rm '${key}'\` and set it with \`pulumi config set --path '${key}' <value>\``);
        } else {
            r.problems.push(`${PROJECT}:${key}: not a key of this program (a typo?); the closest known key is ` +
                `${PROJECT}:${closest(key, CONFIG_KEYS)} (all keys are declared in config/schema.ts and listed in Pulumi.yaml)`);
        }
    }

    // Never defaulted (not even from the stack name): a misnamed prod stack must not get dev's leniency.
    const envRaw = r.scalar("environment");
    if (envRaw === undefined || envRaw === null || envRaw === "") {
        r.problems.push(`${PROJECT}:environment: not set; every stack states its environment, one of ${environments.join(", ")} ` +
            `(\`pulumi config set environment <env> --stack ${stackName}\`); it is never guessed`);
    }
    const environment = r.choice<Environment>("environment", envRaw, "dev"); // "dev" only while a problem is reported
    r.environment = environment;
    const isProd = environment === "prod";

    const kubeconfigRaw = r.optionalText("kubeconfig", r.scalar("kubeconfig"));
    const stackContext = r.optionalText("kubeContext", r.scalar("kubeContext"));
    const run = runCluster(r, opts.env ?? process.env);
    // A run's --kubeconfig replaces the stack's kubeconfig and its context (a context of another file); --context
    // alone names a context of the stack's kubeconfig.
    const context = run.kubeconfig !== undefined ? run.context : run.context ?? stackContext;
    let kubeconfig: string | undefined = run.kubeconfig;
    if (run.kubeconfig === undefined && kubeconfigRaw !== undefined) {
        const looksLikeContents = looksLikeKubeconfigContents(kubeconfigRaw);
        kubeconfig = looksLikeContents ? kubeconfigRaw : path.resolve(expandHome(kubeconfigRaw));
        if (looksLikeContents && !isSecret("kubeconfig")) {
            // Not echoed: the contents hold the cluster's credentials.
            r.problems.push(`${PROJECT}:kubeconfig: a kubeconfig's contents stored in plain text (value not shown: it holds credentials); ` +
                "expected a path to the file, or the contents encrypted: `pulumi config set --secret kubeconfig \"$(cat ~/.kube/config)\"`");
        }
        if (!looksLikeContents && !fs.existsSync(kubeconfig)) {
            r.reject("kubeconfig", kubeconfigRaw,
                "an existing kubeconfig file (start the local cluster with `npm run cluster:up`, or set it with `pulumi config set kubeconfig <path>`)");
        }
    }
    if (kubeconfig === undefined && context === undefined) {
        r.problems.push(`${PROJECT}:kubeconfig / ${PROJECT}:kubeContext: neither is set; set one so the target cluster is explicit, ` +
            "or name it for this run (`npm run deploy -- --kubeconfig FILE` or `--context NAME`: " +
            `${CLUSTER_ENV.kubeconfig} / ${CLUSTER_ENV.context}) (this program never deploys to the current kubeconfig context by accident)`);
    }
    const local = r.flag("localCluster", r.scalar("localCluster"));
    if (local && environment === "prod") {
        r.reject("localCluster", true, "false in a prod stack: the local test cluster holds no production");
    }

    const namespace = r.text("namespace", r.scalar("namespace"));
    if (namespace.startsWith("kube-")) r.reject("namespace", namespace, "a namespace not starting with kube-");
    // Pulumi passes Pulumi.yaml's default (true) for an unset createNamespace, so the two cannot be told apart: a
    // namespace-scoped stack never creates its namespace (cluster-scoped: the admin's), whatever createNamespace says.
    const clusterScoped = r.flag("clusterScoped", r.scalar("clusterScoped"));
    const createNamespace = r.flag("createNamespace", r.scalar("createNamespace")) && clusterScoped;
    const domain = r.text("domain", r.scalar("domain"));

    const ing = r.object("ingress");
    // The TLS Secret: one made outside git (ingress.tlsSecretName; in a namespace that exists before the up), or one the
    // program makes from encrypted stack config (tls), which works on a first up that creates the namespace.
    const tls = readSecretFields(r, "tls");
    const tlsSecretName = r.optionalText("ingress.tlsSecretName", ing.tlsSecretName);
    if (tlsSecretName !== undefined && secretKeySet(r, "tls")) {
        r.problems.push(`${PROJECT}:ingress.tlsSecretName / ${PROJECT}:tls: both set; expected one: the name of a Secret made outside git, ` +
            `or the certificate and key, from which the program makes Secret ${TLS_SECRET_NAME}`);
    }
    const ingressKind = r.choice<IngressKind>("ingress.kind", ing.kind);
    const ingress = {
        kind: ingressKind,
        gateway: readGateway(r, ingressKind, ing, isProd && (tls !== undefined || tlsSecretName !== undefined)),
        className: r.text("ingress.className", ing.className),
        waitForAddress: r.flag("ingress.waitForAddress", ing.waitForAddress),
        tlsSecretName: tls ? TLS_SECRET_NAME : tlsSecretName,
        tls,
    };

    const img = r.object("image");
    const tagProblems = r.problems.length;
    const image = {
        registry: r.text("image.registry", img.registry),
        tag: r.text("image.tag", img.tag),
        pullPolicy: r.choice<PullPolicy>("image.pullPolicy", img.pullPolicy),
        requireDigests: r.flag("image.requireDigests", img.requireDigests),
    };
    // A refused tag falls back to the default, which is no reason for a second message about `latest`.
    const tagRefused = r.problems.slice(tagProblems).some((p) => p.startsWith(`${PROJECT}:image.tag:`));
    if (isProd && image.tag === "latest" && !tagRefused) {
        r.problems.push(`${PROJECT}:image.tag: "latest" is not allowed when environment is prod; expected a fixed release tag`);
    }
    const imgOverrides = r.object("images");
    const images = Object.fromEntries((Object.keys(defaultImages) as ImageKey[]).map((k) => [k, r.text(`images.${k}`, imgOverrides[k])])) as
        Record<ImageKey, string>;
    const platformRef = parseImageRef(`${image.registry}/x:${image.tag}`);
    if (typeof platformRef === "string") r.reject("image.registry", image.registry, `a registry/repository prefix (${platformRef})`);
    const imageMirror = r.optionalText("imageMirror", r.scalar("imageMirror"));
    // Digests: the checked-in lock file, then the stack's imageDigests key; keys are normalised source references.
    const imageDigests: Record<string, string> = {};
    const readDigests = (where: string, table: unknown) => {
        const bad = (key: string, value: unknown, allowed: string) =>
            r.problems.push(`${key}: ${where === "images.lock.json" ? JSON.stringify(value) : r.shown("imageDigests", value)} is not allowed; expected ${allowed}`);
        if (table === null || typeof table !== "object" || Array.isArray(table)) {
            bad(where, table, "an object of image reference -> sha256 digest");
            return;
        }
        for (const [ref, digest] of Object.entries(table)) {
            const parsed = parseImageRef(ref);
            if (typeof parsed === "string" || parsed.digest) {
                bad(`${where}[${JSON.stringify(ref)}]`, ref, "an image reference with a tag and no digest, e.g. mysql:8.4.11");
            } else if (typeof digest !== "string" || !DIGEST.test(digest)) {
                bad(`${where}[${JSON.stringify(ref)}]`, digest, "a digest sha256:<64 hex digits>");
            } else {
                imageDigests[lockKey(parsed)] = digest;
            }
        }
    };
    try {
        readDigests("images.lock.json", readLockFile());
    } catch (e) {
        r.problems.push(`images.lock.json: ${(e as Error).message}; expected JSON of image reference -> sha256 digest`);
    }
    const digestsRaw = r.source("imageDigests");
    if (digestsRaw !== undefined && digestsRaw !== "") {
        let parsedDigests: unknown;
        try {
            parsedDigests = JSON.parse(digestsRaw);
        } catch {
            parsedDigests = digestsRaw;
        }
        readDigests(`${PROJECT}:imageDigests`, parsedDigests);
    }

    const waiversIn = r.object("supportWaivers", Object.keys(defaultImages));
    const supportWaivers: Partial<Record<ImageKey, { reason: string; until: string }>> = {};
    for (const k of Object.keys(waiversIn) as ImageKey[]) {
        const w = r.sub(`supportWaivers.${k}`, waiversIn[k], "an object {reason, until}");
        if (!w) continue;
        const reason = r.optionalText(`supportWaivers.${k}.reason`, w.reason);
        // Unquoted in YAML, the Pulumi CLI hands a date over as a timestamp (2027-01-31 00:00:00 +0000 UTC).
        const untilIn = typeof w.until === "string" ? w.until.replace(/^(\d{4}-\d{2}-\d{2}) 00:00:00 \+0000 UTC$/, "$1") : w.until;
        const until = r.string(`supportWaivers.${k}.until`, untilIn, undefined, /^\d{4}-\d{2}-\d{2}$/, "a date YYYY-MM-DD");
        if (reason === undefined || reason.trim() === "") r.reject(`supportWaivers.${k}.reason`, w.reason, "a reason");
        else if (until !== undefined) supportWaivers[k] = { reason, until };
        else if (w.until === undefined) r.reject(`supportWaivers.${k}.until`, w.until, "a date YYYY-MM-DD");
    }

    const serviceType = r.choice<ServiceType>("serviceType", r.scalar("serviceType"));

    const added = readServices(r, r.list("services"));
    const services = [...backendServices, ...added.specs];
    const scalableNames = [...services.map((s) => s.name), ...frontends.map((f) => `frontend-${f.name}`)];
    const replicasDefault = r.whole("replicas", r.scalar("replicas"));
    const perService = r.object("serviceReplicas", scalableNames);
    const replicas: Record<string, number> = {};
    for (const name of scalableNames) {
        if (perService[name] !== undefined && added.replicas[name] !== undefined) {
            r.problems.push(`${PROJECT}:serviceReplicas.${name}: ${r.shown(`serviceReplicas.${name}`, perService[name])} is not allowed; ` +
                "expected the replica count in one place: the service's entry in services already sets replicas");
        }
        // The Eureka server is one registry: `replicas` does not apply to it, and more than one is refused.
        const single = singleInstance(name);
        replicas[name] = r.whole(`serviceReplicas.${name}`, perService[name], single ? 1 : (added.replicas[name] ?? replicasDefault));
        if (single && replicas[name] !== 1) {
            r.reject(`serviceReplicas.${name}`, replicas[name], `1: ${name} is the Eureka server and runs one replica, never ` +
                "autoscaled, because more replicas without peer replication are separate registries in which services find only some of each other");
            replicas[name] = 1;
        }
    }

    const readinessTimeout = r.whole("readinessTimeout", r.scalar("readinessTimeout"));
    const rollout = { minReadySeconds: r.whole("rollout.minReadySeconds", r.object("rollout").minReadySeconds) };

    const as = r.object("autoscaling");
    const autoscaling = {
        enabled: r.flag("autoscaling.enabled", as.enabled),
        maxReplicas: r.whole("autoscaling.maxReplicas", as.maxReplicas),
        targetCPUUtilizationPercentage: r.whole("autoscaling.targetCPUUtilizationPercentage", as.targetCPUUtilizationPercentage),
    };
    if (autoscaling.enabled) {
        for (const name of scalableNames) {
            if (replicas[name] > autoscaling.maxReplicas) {
                r.problems.push(`${PROJECT}:serviceReplicas.${name}: ${r.shown(`serviceReplicas.${name}`, replicas[name])} is not allowed; expected at most ` +
                    `autoscaling.maxReplicas (${autoscaling.maxReplicas}): the replica count is the autoscaler's minimum`);
            }
        }
    }

    const res = r.object("resources");
    const resources = Object.fromEntries(resourceParts.map((p) =>
        [p, readResources(r, `resources.${p}`, res[p], defaultResources[p])])) as Record<ResourcePart, ResourceQuantities>;

    const np = r.object("networkPolicy");
    const apiSrv = r.sub("networkPolicy.apiServer", np.apiServer, "an object {cidrs, ports}") ?? {};
    const egressIn = np.externalEgress && typeof np.externalEgress === "object" && !Array.isArray(np.externalEgress) ? np.externalEgress : {};
    if (np.externalEgress !== undefined && egressIn !== np.externalEgress) {
        r.reject("networkPolicy.externalEgress", np.externalEgress, "an object: workload name -> list of CIDRs");
    }
    const externalEgress: Record<string, readonly string[]> = {};
    for (const [workload, cidrs] of Object.entries(egressIn)) {
        if (!DNS_LABEL.test(workload)) r.reject(`networkPolicy.externalEgress.${workload}`, cidrs, "a workload name (its app label) as the key");
        else externalEgress[workload] = r.items<string>(`networkPolicy.externalEgress.${workload}`, cidrs, []) ?? [];
    }
    const networkPolicy: { -readonly [K in keyof NetworkPolicyConfig]: NetworkPolicyConfig[K] } = {
        enabled: r.flag("networkPolicy.enabled", np.enabled),
        ingressNamespace: r.text("networkPolicy.ingressNamespace", np.ingressNamespace),
        publicFrom: { namespace: "", podLabels: {} },
        apiServer: {
            cidrs: r.items<string>("networkPolicy.apiServer.cidrs", apiSrv.cidrs) ?? [],
            ports: r.items<number>("networkPolicy.apiServer.ports", apiSrv.ports) ?? [],
        },
        externalEgress,
    };
    networkPolicy.publicFrom = publicPeer(r, ingress, networkPolicy.ingressNamespace, np.gatewayDataPlane);

    const timezone = r.text("timezone", r.scalar("timezone"));

    const st = r.object("storage");
    // One line (`backend`) for single-backend clusters; per role otherwise. prod: NFS shares, Cinder holds data.
    const oneLine = st.backend === undefined || st.backend === null || st.backend === ""
        ? undefined : r.choice<StorageBackend>("storage.backend", st.backend, "nfs");
    const role = (name: VolumeRole) => {
        const o = r.sub(`storage.${name}`, st[name]) ?? {};
        if (o.backend !== undefined && o.backend !== null && o.backend !== "") {
            return { backend: r.choice<StorageBackend>(`storage.${name}.backend`, o.backend), setBy: `storage.${name}.backend` };
        }
        return oneLine ? { backend: oneLine, setBy: "storage.backend" } : { backend: r.choice<StorageBackend>(`storage.${name}.backend`, undefined), setBy: `storage.${name}.backend` };
    };
    const sizes = r.sub("storage.sizes", st.sizes) ?? {};
    const nfs = r.sub("storage.nfs", st.nfs) ?? {};
    const cinder = r.sub("storage.cinder", st.cinder) ?? {};
    const storage = {
        shared: role("shared"),
        data: role("data"),
        protect: r.flag("storage.protect", st.protect),
        sizes: Object.fromEntries(volumeSizes.map((k) => [k, r.text(`storage.sizes.${k}`, sizes[k])])) as Record<VolumeSize, string>,
        nfs: {
            server: r.text("storage.nfs.server", nfs.server),
            path: r.text("storage.nfs.path", nfs.path),
            staticVolumes: r.flag("storage.nfs.staticVolumes", nfs.staticVolumes),
        },
        cinder: {
            type: r.optionalText("storage.cinder.type", cinder.type),
            availabilityZone: r.optionalText("storage.cinder.availabilityZone", cinder.availabilityZone),
        },
    };
    const nfsRoles = volumeRoles.filter((v) => storage[v].backend === "nfs");
    if (nfsRoles.length > 0 && storage.nfs.server === "") {
        r.problems.push(`${PROJECT}:storage.nfs.server: not set; expected the NFS server address when ` +
            `${nfsRoles.map((v) => storage[v].setBy).filter((k, i, a) => a.indexOf(k) === i).join(" and ")} is nfs`);
    }
    if (isProd && !storage.protect) {
        r.problems.push(`${PROJECT}:storage.protect: false is not allowed when environment is prod; data volumes stay protected`);
    }

    const db = r.object("database");
    const databaseName = r.text("database.name", db.name);
    // Every database a service in force reads (the catalog's, else database.name) must be created for the user.
    const usedBy = new Map<string, string[]>();
    for (const s of services.filter((x) => x.needsDatabase)) {
        const name = s.database?.name ?? databaseName;
        usedBy.set(name, [...(usedBy.get(name) ?? []), s.name]);
    }
    const required = [databaseName, ...[...usedBy.keys()].filter((d) => d !== databaseName)];
    let databases: string[] = required;
    const listed = r.items<string>("database.databases", db.databases);
    if (listed !== undefined) {
        databases = [databaseName, ...listed.filter((d) => d !== databaseName)];
        const missing = required.filter((d) => !databases.includes(d));
        if (missing.length > 0) {
            r.reject("database.databases", db.databases, `a list with every database the services use (${JSON.stringify(required)}); ` +
                `missing ${missing.map((d) => `${d} (read by ${(usedBy.get(d) ?? []).join(", ")})`).join(", ")}; ` +
                "remove the key for exactly those, or add what is missing");
        }
    }
    const database = {
        name: databaseName,
        username: r.text("database.username", db.username),
        databases,
        migrations: [] as Migration[],
    };
    const initScripts = readInitScripts(r, "database.initScriptsPath", db.initScriptsPath);
    if (database.username === "root") {
        r.reject("database.username", "root", "an application user other than root");
    }

    const messaging = { username: r.text("messaging.username", r.object("messaging").username) };
    const discovery = { username: r.text("discovery.username", r.object("discovery").username) };
    const bk = r.object("backup");
    const backup = {
        enabled: r.flag("backup.enabled", bk.enabled),
        schedule: r.text("backup.schedule", bk.schedule),
        retention: r.whole("backup.retention", bk.retention),
        offsite: readOffsite(r, bk.offsite, readSecretFields(r, "offsiteCredentials")),
    };
    // Frontend images built for this stack (npm run frontends); prod refuses one built for other values, and the
    // published ones unless the stack says so. Without the record (the build command, the policy pack) nothing is refused.
    const frontendsCfg = {
        allowPublishedImages: r.flag("frontends.allowPublishedImages", r.object("frontends").allowPublishedImages),
    };
    const lock = opts.frontendRecord === false ? { stacks: {}, problems: [] } : readFrontendsLock();
    const fe = frontendImages({ services, namespace, domain, ingress, timezone, environment }, frontends, stackName, lock.stacks[stackName],
        frontendsCfg.allowPublishedImages || opts.frontendRecord === false);
    r.problems.push(...lock.problems, ...fe.problems);
    const enabled = (key: "logging" | "ci") => ({ enabled: r.flag(`${key}.enabled`, r.object(key).enabled) });
    const tk = r.object("token");
    const expirationSeconds = r.whole("token.expirationSeconds", tk.expirationSeconds);
    const token = { expirationSeconds, refreshSeconds: r.whole("token.refreshSeconds", tk.refreshSeconds) };
    if (token.refreshSeconds < expirationSeconds) {
        r.reject("token.refreshSeconds", token.refreshSeconds, `at least token.expirationSeconds (${expirationSeconds}): a refresh token outlives the access token`);
    }
    // logging read once: a second read would report its unknown fields twice.
    const lg = r.object("logging");
    const cfgParts = {
        logging: { enabled: r.flag("logging.enabled", lg.enabled), tlsSecretName: r.text("logging.tlsSecretName", lg.tlsSecretName) },
        ci: enabled("ci"),
    };
    const backupWithDrill = { ...backup, drill: readDrill(r, bk.drill, isProd && backup.offsite !== undefined) };
    if (backup.offsite && networkPolicy.enabled) {
        if (backup.offsite.cidrs.length === 0) {
            r.problems.push(`${PROJECT}:backup.offsite.cidrs: not set; expected the object store's address range (CIDRs): with ` +
                "networkPolicy.enabled the backup pods may reach only what is listed there");
        }
        // One home for the store's addresses: every workload that copies to it gets them as external egress.
        for (const w of offsiteWorkloads({ ...cfgParts, backup: backupWithDrill })) {
            networkPolicy.externalEgress = { ...networkPolicy.externalEgress, [w]: [...(networkPolicy.externalEgress[w] ?? []), ...backup.offsite.cidrs] };
        }
    }
    if (backupWithDrill.drill.enabled && !backup.offsite) {
        r.reject("backup.drill.enabled", true, "false unless backup.offsite is set: the drill restores the newest off-site copy");
    }
    const rot = r.object("rotation");
    const rotation = Object.fromEntries(rotatedCredentials.map((c) => [c, r.whole(`rotation.${c}`, rot[c])])) as
        Record<RotatedCredential, number>;

    const application = readApplicationCheckout(r, r.scalar("applicationCheckout"));
    // The schema the services read: the application's SQL and the user's, cut into versioned migrations.
    const migrated = stackMigrations(application.sqlFiles, initScripts,
        Object.fromEntries(services.filter((s) => s.needsDatabase).map((s) => [s.name, s.database?.name ?? databaseName])), databases, databaseName);
    r.problems.push(...migrated.problems);
    database.migrations = migrated.migrations;
    const cfg: PlatformConfig = {
        environment,
        cluster: { kubeconfig, context, local },
        namespace,
        createNamespace,
        clusterScoped,
        domain,
        ingress,
        image,
        images,
        imageMirror,
        imageDigests,
        supportWaivers,
        frontendImages: fe.images,
        frontends: frontendsCfg,
        serviceType,
        services,
        replicas,
        readinessTimeout,
        rollout,
        autoscaling,
        resources,
        networkPolicy,
        timezone,
        storage,
        database,
        messaging,
        discovery,
        backup: backupWithDrill,
        rotation,
        logging: cfgParts.logging,
        tracing: readTracing(r),
        application,
        mail: {
            credentialsSecretName: r.optionalText("mail.credentialsSecretName", r.object("mail").credentialsSecretName),
        },
        configServer: readConfigServer(r),
        ci: cfgParts.ci,
        token,
    };
    if (image.requireDigests) {
        const unpinned = new Set<string>(); // an image several containers run is named once
        for (const id of imagesInUse(cfg)) {
            let src;
            try {
                src = sourceImage(cfg, id);
            } catch {
                continue; // a malformed reference, already reported above
            }
            if (!src.digest && !unpinned.has(lockKey(src))) {
                unpinned.add(lockKey(src));
                r.problems.push(`${PROJECT}:image.requireDigests: image ${formatImageRef(src)} has no digest; expected it pinned in ` +
                    `images.lock.json or imageDigests (e.g. "${lockKey(src)}": "sha256:...")`);
            }
        }
    }
    for (const [part, name] of Object.entries(sideNamespaces(cfg))) {
        if (name.length > 63) {
            r.reject("namespace", namespace, `a name of at most ${63 - part.length - 1} characters: ${part}'s namespace ${name} must be a DNS label too`);
        }
    }
    r.problems.push(...singleWriterProblems(cfg, PROJECT, cfg.services, (key, value) => r.shown(key, value)));
    if (Object.keys(externalEgress).length > 0) {
        // A key that names no workload of this stack would silently open nothing (e.g. jenkns for jenkins).
        let workloads: string[] = [];
        try {
            workloads = [...serviceGraph(cfg).nodes.keys()];
        } catch {
            // the graph's own error is reported where the program builds it
        }
        for (const [workload, cidrs] of Object.entries(externalEgress)) {
            if (workloads.length > 0 && !workloads.includes(workload)) {
                r.reject(`networkPolicy.externalEgress.${workload}`, cidrs, `a workload this stack deploys as the key (closest: ` +
                    `${closest(workload, workloads)}; all: ${[...workloads].sort().join(", ")})`);
            }
        }
    }
    if (r.problems.length > 0) throw new ConfigError(r.problems);
    return cfg;
}

/** Reads the current stack's config through the Pulumi SDK. */
export function loadStackConfig(): PlatformConfig {
    const cfg = new pulumi.Config(PROJECT);
    const prefix = `${PROJECT}:`;
    const setKeys = Object.keys(pulumi.runtime.allConfig()).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
    // The SDK keeps which keys are secret but does not declare the function in its types.
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
    const isSecret = (key: string) => runtime.isConfigSecret?.(`${prefix}${key}`) ?? false;
    return loadConfig((key) => cfg.get(key), pulumi.getStack(), setKeys, isSecret);
}
