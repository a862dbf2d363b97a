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
import { CRON, ConfigError, looksLikeKubeconfigContents, readSecretFields, secretKeySet, DNS_LABEL, DNS_SUBDOMAIN, IMAGE_TAG, IPV4, MIRROR, MYSQL_IDENT, REGISTRY, Reader, STORAGE_SIZE, USERNAME, closest, readCidrs, cronProblems, isTimeZone, timeZoneSuggestion } from "./reader";
import { CONFIG_KEYS, ConfigSource, Json, Migration, TLS_SECRET_NAME, NetworkPolicyConfig, PlatformConfig, ResourcePart, ResourceQuantities, RotatedCredential, StorageBackend, VolumeSize, environments, pullPolicies, resourceParts, rotatedCredentials, serviceTypes, storageBackends, volumeSizes } from "./types";
import { serviceGraph } from "./graph";
import { minReadySecondsDefault } from "./rollout";
import { defaultResources, readResources } from "./resources";
import { expandHome, readConfigServer, readInitScripts } from "./files";
import { readDrill, readOffsite } from "./backup";
import { readApplicationCheckout } from "./application";
import { stackMigrations } from "./migrations";

export { PROJECT };
export * from "./types";
export * from "./reader";
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
    const t = r.object("tracing", ["enabled", "samplingProbability"]);
    const key = "tracing.samplingProbability";
    let samplingProbability = 0.1;
    const v = t.samplingProbability;
    if (v !== undefined && v !== null && v !== "") {
        const n = typeof v === "string" && /^[0-9.]+$/.test(v) ? Number(v) : v;
        if (typeof n !== "number" || !Number.isFinite(n) || n < 0 || n > 1) r.reject(key, v, "a number from 0 to 1 (share of requests traced)");
        else samplingProbability = n;
    }
    return { enabled: r.bool("tracing.enabled", t.enabled, true), samplingProbability };
}


/**
 * Reads and validates the whole stack config; throws ConfigError listing every bad key.
 * setKeys: the `egov-platform:` keys the stack sets (without the prefix); any not in CONFIG_KEYS is refused.
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
                `${PROJECT}:${closest(key, CONFIG_KEYS)} (all keys are declared in Pulumi.yaml)`);
        }
    }

    // Never defaulted (not even from the stack name): a misnamed prod stack must not get dev's leniency.
    const envRaw = r.scalar("environment");
    if (envRaw === undefined || envRaw === null || envRaw === "") {
        r.problems.push(`${PROJECT}:environment: not set; every stack states its environment, one of ${environments.join(", ")} ` +
            `(\`pulumi config set environment <env> --stack ${stackName}\`); it is never guessed`);
    }
    const environment = r.oneOf("environment", envRaw, "dev", environments); // "dev" only while a problem is reported
    const isProd = environment === "prod";

    const kubeconfigRaw = r.string("kubeconfig", r.scalar("kubeconfig"), undefined, /^.+$/s, "a kubeconfig path or contents");
    const stackContext = r.string("kubeContext", r.scalar("kubeContext"), undefined, /^\S+$/, "a kubeconfig context name");
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
    const local = r.bool("localCluster", r.scalar("localCluster"), false);
    if (local && environment === "prod") {
        r.reject("localCluster", true, "false in a prod stack: the local test cluster holds no production");
    }

    const namespace = r.string("namespace", r.scalar("namespace"), "egov", DNS_LABEL,
        "a DNS label: lower-case letters, digits and '-', at most 63 characters");
    if (namespace.startsWith("kube-")) r.reject("namespace", namespace, "a namespace not starting with kube-");
    // Pulumi passes Pulumi.yaml's default (true) for an unset createNamespace, so the two cannot be told apart: a
    // namespace-scoped stack never creates its namespace (cluster-scoped: the admin's), whatever createNamespace says.
    const clusterScoped = r.bool("clusterScoped", r.scalar("clusterScoped"), true);
    const createNamespace = r.bool("createNamespace", r.scalar("createNamespace"), true) && clusterScoped;
    const domain = r.string("domain", r.scalar("domain"), "egov.localtest.me", DNS_SUBDOMAIN,
        "a DNS domain such as egov.example.go.kr");

    const ing = r.object("ingress", ["className", "waitForAddress", "tlsSecretName"]);
    // The TLS Secret: one made outside git (ingress.tlsSecretName; in a namespace that exists before the up), or one the
    // program makes from encrypted stack config (tls), which works on a first up that creates the namespace.
    const tls = readSecretFields(r, "tls", {
        certificate: { shape: /-----BEGIN CERTIFICATE-----/, allowed: "the PEM certificate chain of the public hosts (*.<domain>)" },
        key: { shape: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, allowed: "its PEM private key" },
    });
    const tlsSecretName = r.string("ingress.tlsSecretName", ing.tlsSecretName, undefined, DNS_SUBDOMAIN, "a Secret name");
    if (tlsSecretName !== undefined && secretKeySet(r, "tls")) {
        r.problems.push(`${PROJECT}:ingress.tlsSecretName / ${PROJECT}:tls: both set; expected one: the name of a Secret made outside git, ` +
            `or the certificate and key, from which the program makes Secret ${TLS_SECRET_NAME}`);
    }
    const ingress = {
        className: r.string("ingress.className", ing.className, "nginx", DNS_SUBDOMAIN, "an IngressClass name"),
        waitForAddress: r.bool("ingress.waitForAddress", ing.waitForAddress, false),
        tlsSecretName: tls ? TLS_SECRET_NAME : tlsSecretName,
        tls,
    };

    const img = r.object("image", ["registry", "tag", "pullPolicy", "requireDigests"]);
    const tagProblems = r.problems.length;
    const image = {
        registry: r.string("image.registry", img.registry, "egovframe", REGISTRY, "a registry/repository prefix such as egovframe or registry.example.go.kr/egov"),
        tag: r.string("image.tag", img.tag, "latest", IMAGE_TAG, "an image tag"),
        pullPolicy: r.oneOf("image.pullPolicy", img.pullPolicy, "IfNotPresent", pullPolicies),
        requireDigests: r.bool("image.requireDigests", img.requireDigests, false),
    };
    // A refused tag falls back to the default, which is no reason for a second message about `latest`.
    const tagRefused = r.problems.slice(tagProblems).some((p) => p.startsWith(`${PROJECT}:image.tag:`));
    if (isProd && image.tag === "latest" && !tagRefused) {
        r.problems.push(`${PROJECT}:image.tag: "latest" is not allowed when environment is prod; expected a fixed release tag`);
    }
    const imgOverrides = r.object("images", Object.keys(defaultImages));
    const images = { ...defaultImages } as Record<ImageKey, string>;
    for (const k of Object.keys(defaultImages) as ImageKey[]) {
        const v = imgOverrides[k];
        if (v === undefined || v === null || v === "") continue;
        const parsed = typeof v === "string" ? parseImageRef(v) : "not a string";
        if (typeof parsed === "string") r.reject(`images.${k}`, v, `an image reference such as mysql:8.4.11 (${parsed})`);
        else images[k] = v as string;
    }
    const platformRef = parseImageRef(`${image.registry}/x:${image.tag}`);
    if (typeof platformRef === "string") r.reject("image.registry", image.registry, `a registry/repository prefix (${platformRef})`);
    const imageMirror = r.string("imageMirror", r.scalar("imageMirror"), undefined, MIRROR,
        "a registry host with an optional path, e.g. harbor.agency.go.kr/egov (the host needs a dot, a port or to be localhost)");
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

    const serviceType = r.oneOf("serviceType", r.scalar("serviceType"), "ClusterIP", serviceTypes);

    const added = readServices(r, r.list("services"), /^[a-z0-9]+([._/:@-][A-Za-z0-9_.-]+)*$/);
    const services = [...backendServices, ...added.specs];
    const scalableNames = [...services.map((s) => s.name), ...frontends.map((f) => `frontend-${f.name}`)];
    const replicasDefault = r.int("replicas", r.scalar("replicas"), 1, 1, 50);
    const perService = r.object("serviceReplicas", scalableNames);
    const replicas: Record<string, number> = {};
    for (const name of scalableNames) {
        if (perService[name] !== undefined && added.replicas[name] !== undefined) {
            r.problems.push(`${PROJECT}:serviceReplicas.${name}: ${r.shown(`serviceReplicas.${name}`, perService[name])} is not allowed; ` +
                "expected the replica count in one place: the service's entry in services already sets replicas");
        }
        // The Eureka server is one registry: `replicas` does not apply to it, and more than one is refused.
        const single = singleInstance(name);
        replicas[name] = r.int(`serviceReplicas.${name}`, perService[name], single ? 1 : (added.replicas[name] ?? replicasDefault), 1, 50);
        if (single && replicas[name] !== 1) {
            r.reject(`serviceReplicas.${name}`, replicas[name], `1: ${name} is the Eureka server and runs one replica, never ` +
                "autoscaled, because more replicas without peer replication are separate registries in which services find only some of each other");
            replicas[name] = 1;
        }
    }

    const readinessTimeout = r.int("readinessTimeout", r.scalar("readinessTimeout"), 600, 10, 7200);
    const ro = r.object("rollout", ["minReadySeconds"]);
    const rollout = { minReadySeconds: r.int("rollout.minReadySeconds", ro.minReadySeconds, minReadySecondsDefault[environment], 0, 300) };

    const as = r.object("autoscaling", ["enabled", "maxReplicas", "targetCPUUtilizationPercentage"]);
    const autoscaling = {
        enabled: r.bool("autoscaling.enabled", as.enabled, true),
        maxReplicas: r.int("autoscaling.maxReplicas", as.maxReplicas, isProd ? 6 : 3, 1, 100),
        targetCPUUtilizationPercentage: r.int("autoscaling.targetCPUUtilizationPercentage",
            as.targetCPUUtilizationPercentage, 70, 1, 100),
    };
    if (autoscaling.enabled) {
        for (const name of scalableNames) {
            if (replicas[name] > autoscaling.maxReplicas) {
                r.problems.push(`${PROJECT}:serviceReplicas.${name}: ${r.shown(`serviceReplicas.${name}`, replicas[name])} is not allowed; expected at most ` +
                    `autoscaling.maxReplicas (${autoscaling.maxReplicas}): the replica count is the autoscaler's minimum`);
            }
        }
    }

    const res = r.object("resources", resourceParts);
    const resources = Object.fromEntries(resourceParts.map((p) =>
        [p, readResources(r, `resources.${p}`, res[p], defaultResources[p])])) as Record<ResourcePart, ResourceQuantities>;

    const np = r.object("networkPolicy", ["enabled", "ingressNamespace", "apiServer", "externalEgress"]);
    const apiSrv = np.apiServer && typeof np.apiServer === "object" && !Array.isArray(np.apiServer) ? np.apiServer : {};
    if (np.apiServer !== undefined && apiSrv !== np.apiServer) r.reject("networkPolicy.apiServer", np.apiServer, "an object {cidrs, ports}");
    let apiPorts: number[] = [443, 6443];
    if (apiSrv.ports !== undefined) {
        if (!Array.isArray(apiSrv.ports) || apiSrv.ports.some((p) => typeof p !== "number" || !Number.isInteger(p) || p < 1 || p > 65535)) {
            r.reject("networkPolicy.apiServer.ports", apiSrv.ports, "a list of TCP ports (1-65535)");
        } else apiPorts = apiSrv.ports as number[];
    }
    const egressIn = np.externalEgress && typeof np.externalEgress === "object" && !Array.isArray(np.externalEgress) ? np.externalEgress : {};
    if (np.externalEgress !== undefined && egressIn !== np.externalEgress) {
        r.reject("networkPolicy.externalEgress", np.externalEgress, "an object: workload name -> list of CIDRs");
    }
    const externalEgress: Record<string, readonly string[]> = {};
    for (const [workload, cidrs] of Object.entries(egressIn)) {
        if (!DNS_LABEL.test(workload)) r.reject(`networkPolicy.externalEgress.${workload}`, cidrs, "a workload name (its app label) as the key");
        else externalEgress[workload] = readCidrs(r, `networkPolicy.externalEgress.${workload}`, cidrs, []);
    }
    const networkPolicy: { -readonly [K in keyof NetworkPolicyConfig]: NetworkPolicyConfig[K] } = {
        enabled: r.bool("networkPolicy.enabled", np.enabled, true),
        ingressNamespace: r.string("networkPolicy.ingressNamespace", np.ingressNamespace, "ingress-nginx", DNS_LABEL,
            "the namespace name of the ingress controller"),
        apiServer: { cidrs: readCidrs(r, "networkPolicy.apiServer.cidrs", apiSrv.cidrs, ["0.0.0.0/0"]), ports: apiPorts },
        externalEgress,
    };

    const timezone = r.string("timezone", r.scalar("timezone"), "Asia/Seoul", /^.+$/, "an IANA time zone such as Asia/Seoul");
    if (!isTimeZone(timezone)) {
        r.reject("timezone", timezone, `an IANA time zone such as Asia/Seoul or UTC (${timeZoneSuggestion(timezone)})`);
    }

    const st = r.object("storage", ["backend", "shared", "data", "protect", "sizes", "nfs", "cinder"]);
    // One line (`backend`) for single-backend clusters; per role otherwise. prod: NFS shares, Cinder holds data.
    const oneLine = st.backend === undefined || st.backend === null || st.backend === ""
        ? undefined : r.oneOf("storage.backend", st.backend, "nfs", storageBackends);
    const sub = (key: string, v: Json | undefined, fields: readonly string[]): Record<string, Json> => {
        if (v === undefined || v === null) return {};
        if (typeof v !== "object" || Array.isArray(v)) {
            r.reject(key, v, "an object");
            return {};
        }
        for (const f of Object.keys(v)) {
            if (!fields.includes(f)) r.reject(`${key}.${f}`, v[f], `a known field of ${key}: ${fields.join(", ")}`);
        }
        return v;
    };
    const role = (name: VolumeRole, def: StorageBackend) => {
        const o = sub(`storage.${name}`, st[name], ["backend"]);
        if (o.backend !== undefined && o.backend !== null && o.backend !== "") {
            return { backend: r.oneOf(`storage.${name}.backend`, o.backend, def, storageBackends), setBy: `storage.${name}.backend` };
        }
        return oneLine ? { backend: oneLine, setBy: "storage.backend" } : { backend: def, setBy: `storage.${name}.backend` };
    };
    const sizes = sub("storage.sizes", st.sizes, volumeSizes);
    const nfs = sub("storage.nfs", st.nfs, ["server", "path", "staticVolumes"]);
    const cinder = sub("storage.cinder", st.cinder, ["type", "availabilityZone"]);
    const size = (k: string) => r.string(`storage.sizes.${k}`, sizes[k], "5Gi", STORAGE_SIZE, "a size such as 5Gi");
    const storage = {
        shared: role("shared", "nfs"),
        data: role("data", isProd ? "cinder" : "nfs"),
        protect: r.bool("storage.protect", st.protect, isProd),
        sizes: Object.fromEntries(volumeSizes.map((k) => [k, size(k)])) as Record<VolumeSize, string>,
        nfs: {
            server: r.string("storage.nfs.server", nfs.server, "", new RegExp(`${IPV4.source}|${DNS_SUBDOMAIN.source}`),
                "an NFS server address (IPv4 or DNS name)"),
            path: r.string("storage.nfs.path", nfs.path, "/srv/nfs", /^\/[^\s]*$/, "an absolute export path"),
            staticVolumes: r.bool("storage.nfs.staticVolumes", nfs.staticVolumes, true),
        },
        cinder: {
            type: r.string("storage.cinder.type", cinder.type, undefined, /^[\w.-]+$/, "a Cinder volume type"),
            availabilityZone: r.string("storage.cinder.availabilityZone", cinder.availabilityZone, undefined, /^[\w.-]+$/,
                "an availability zone"),
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

    const db = r.object("database", ["name", "username", "databases", "initScriptsPath"]);
    const databaseName = r.string("database.name", db.name, "msaportal", MYSQL_IDENT, "a MySQL identifier");
    // Every database a service in force reads (the catalog's, else database.name) must be created for the user.
    const usedBy = new Map<string, string[]>();
    for (const s of services.filter((x) => x.needsDatabase)) {
        const name = s.database?.name ?? databaseName;
        usedBy.set(name, [...(usedBy.get(name) ?? []), s.name]);
    }
    const required = [databaseName, ...[...usedBy.keys()].filter((d) => d !== databaseName)];
    let databases: string[] = required;
    if (db.databases !== undefined) {
        if (!Array.isArray(db.databases) || db.databases.some((d) => typeof d !== "string" || !MYSQL_IDENT.test(d))) {
            r.reject("database.databases", db.databases, "a list of MySQL identifiers");
        } else {
            databases = [databaseName, ...(db.databases as string[]).filter((d) => d !== databaseName)];
            const missing = required.filter((d) => !databases.includes(d));
            if (missing.length > 0) {
                r.reject("database.databases", db.databases, `a list with every database the services use (${JSON.stringify(required)}); ` +
                    `missing ${missing.map((d) => `${d} (read by ${(usedBy.get(d) ?? []).join(", ")})`).join(", ")}; ` +
                    "remove the key for exactly those, or add what is missing");
            }
        }
    }
    const database = {
        name: databaseName,
        username: r.string("database.username", db.username, "msaportal", MYSQL_IDENT, "a MySQL user name"),
        databases,
        migrations: [] as Migration[],
    };
    const initScripts = readInitScripts(r, "database.initScriptsPath", db.initScriptsPath);
    if (database.username === "root") {
        r.reject("database.username", "root", "an application user other than root");
    }

    const messaging = {
        username: r.string("messaging.username", r.object("messaging", ["username"]).username, "egov", USERNAME, "a user name"),
    };
    const discovery = {
        username: r.string("discovery.username", r.object("discovery", ["username"]).username, "eureka", USERNAME, "a user name"),
    };
    const bk = r.object("backup", ["enabled", "schedule", "retention", "offsite", "drill"]);
    const cronAllowed = "a cron schedule of five fields (minute hour day month weekday), e.g. \"30 2 * * *\", or @daily";
    const backup = {
        enabled: r.bool("backup.enabled", bk.enabled, isProd),
        schedule: r.string("backup.schedule", bk.schedule, "30 2 * * *", CRON, cronAllowed),
        retention: r.int("backup.retention", bk.retention, 7, 1, 365),
        offsite: readOffsite(r, bk.offsite, cronAllowed, readSecretFields(r, "offsiteCredentials", {
            accessKeyId: { shape: /^\S+$/, allowed: "the store's access key id" },
            secretAccessKey: { shape: /^\S+$/, allowed: "its secret access key" },
        })),
    };
    const badCron = cronProblems(backup.schedule);
    if (badCron.length > 0) {
        r.reject("backup.schedule", backup.schedule, `a cron schedule whose fields are in range (${badCron.join("; ")}), e.g. "30 2 * * *"`);
    }
    // Frontend images built for this stack (npm run frontends); prod refuses one built for other values, and the
    // published ones unless the stack says so. Without the record (the build command, the policy pack) nothing is refused.
    const frontendsCfg = {
        allowPublishedImages: r.bool("frontends.allowPublishedImages", r.object("frontends", ["allowPublishedImages"]).allowPublishedImages, false),
    };
    const lock = opts.frontendRecord === false ? { stacks: {}, problems: [] } : readFrontendsLock();
    const fe = frontendImages({ services, namespace, domain, ingress, timezone, environment }, frontends, stackName, lock.stacks[stackName],
        frontendsCfg.allowPublishedImages || opts.frontendRecord === false);
    r.problems.push(...lock.problems, ...fe.problems);
    const enabled = (key: string, def: boolean) => ({ enabled: r.bool(`${key}.enabled`, r.object(key, ["enabled"]).enabled, def) });
    const tk = r.object("token", ["expirationSeconds", "refreshSeconds"]);
    const expirationSeconds = r.int("token.expirationSeconds", tk.expirationSeconds, 7200, 60, 30 * 86400);
    const token = { expirationSeconds, refreshSeconds: r.int("token.refreshSeconds", tk.refreshSeconds, 86400, 60, 365 * 86400) };
    if (token.refreshSeconds < expirationSeconds) {
        r.reject("token.refreshSeconds", token.refreshSeconds, `at least token.expirationSeconds (${expirationSeconds}): a refresh token outlives the access token`);
    }
    const cfgParts = { logging: enabled("logging", true), ci: enabled("ci", true) };
    const backupWithDrill = { ...backup, drill: readDrill(r, bk.drill, isProd && backup.offsite !== undefined, cronAllowed) };
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
    const rot = r.object("rotation", rotatedCredentials);
    const rotation = Object.fromEntries(rotatedCredentials.map((c) => [c, r.int(`rotation.${c}`, rot[c], 0, 0, 1_000_000)])) as
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
            credentialsSecretName: r.string("mail.credentialsSecretName", r.object("mail", ["credentialsSecretName"]).credentialsSecretName, undefined,
                DNS_SUBDOMAIN, "the name of a Secret in the namespace with keys username and password (your SMTP account)"),
        },
        configServer: readConfigServer(r),
        ci: cfgParts.ci,
        token,
    };
    if (image.requireDigests) {
        for (const id of imagesInUse(cfg)) {
            let src;
            try {
                src = sourceImage(cfg, id);
            } catch {
                continue; // a malformed reference, already reported above
            }
            if (!src.digest) {
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
