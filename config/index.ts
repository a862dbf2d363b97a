// Stack config: read and validated here, once, before any resource is created. The shapes are in ./types, the
// reading primitives in ./reader; this module holds the defaults and the checks across keys.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { backendServices, defaultImages, frontends, ImageKey } from "./catalog";
import { readServices } from "./services";
import { frontendImages, readFrontendsLock } from "./frontends";
import { DIGEST, formatImageRef, imagesInUse, lockKey, parseImageRef, readLockFile, sourceImage } from "./images";
import { offsiteWorkloads, singleInstance, singleWriterProblems, VolumeRole, volumeRoles } from "./volumes";
import { PROJECT } from "./project";
import { CRON, ConfigError, DNS_LABEL, DNS_SUBDOMAIN, IMAGE_TAG, IPV4, MIRROR, MYSQL_IDENT, QUANTITY, REGISTRY, Reader, STORAGE_SIZE, USERNAME, closest, cronProblems, isTimeZone, timeZoneSuggestion } from "./reader";
import { CONFIG_KEYS, ConfigServerSource, ConfigSource, Json, NetworkPolicyConfig, OffsiteConfig, PlatformConfig, Quantities, ResourcePart, ResourceQuantities, RotatedCredential, StorageBackend, VolumeSize, environments, pullPolicies, resourceParts, rotatedCredentials, serviceTypes, storageBackends, volumeSizes } from "./types";
import { serviceGraph } from "./graph";
import { minReadySecondsDefault } from "./rollout";

export { PROJECT };
export * from "./types";
export * from "./reader";

const q = (cpu: string, memory: string, eph: string): Quantities => ({ cpu, memory, "ephemeral-storage": eph });
/** Requests / limits per part: cpu, memory, ephemeral-storage (emptyDir scratch space counts against it). */
const defaultResources: Record<ResourcePart, ResourceQuantities> = {
    backend: { requests: q("250m", "512Mi", "256Mi"), limits: q("1000m", "1Gi", "1Gi") },
    frontend: { requests: q("100m", "128Mi", "256Mi"), limits: q("500m", "512Mi", "1Gi") },
    mysql: { requests: q("250m", "512Mi", "512Mi"), limits: q("1", "1Gi", "2Gi") },
    rabbitmq: { requests: q("100m", "256Mi", "512Mi"), limits: q("1", "1Gi", "2Gi") },
    elasticsearch: { requests: q("250m", "1Gi", "1Gi"), limits: q("1", "2Gi", "4Gi") },
    logstash: { requests: q("250m", "768Mi", "512Mi"), limits: q("1", "1536Mi", "2Gi") },
    kibana: { requests: q("100m", "512Mi", "256Mi"), limits: q("1", "1Gi", "1Gi") },
    zipkin: { requests: q("100m", "256Mi", "128Mi"), limits: q("1", "1Gi", "512Mi") },
    jenkins: { requests: q("250m", "1Gi", "512Mi"), limits: q("2", "2Gi", "4Gi") },
    nfsProvisioner: { requests: q("10m", "32Mi", "16Mi"), limits: q("100m", "128Mi", "64Mi") },
};

const QUANTITY_SUFFIX: Record<string, number> = {
    "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
/** A Kubernetes quantity (already matched by QUANTITY) as a number, to compare requests with limits. */
export function quantityValue(v: string): number {
    const m = /^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$/.exec(v);
    return m ? Number(m[1]) * (QUANTITY_SUFFIX[m[2]] ?? NaN) : NaN;
}

const resourceFields = [
    ["cpu", "cpu", "a CPU quantity such as 250m or 1"],
    ["memory", "memory", "a memory quantity such as 512Mi or 1Gi"],
    ["ephemeralStorage", "ephemeral-storage", "a storage quantity such as 256Mi or 1Gi"],
] as const;

function readResources(r: Reader, key: string, value: Json | undefined, def: ResourceQuantities): ResourceQuantities {
    if (value === undefined || value === null) return def;
    if (typeof value !== "object" || Array.isArray(value)) {
        r.reject(key, value, "an object with requests and limits");
        return def;
    }
    for (const f of Object.keys(value)) if (f !== "requests" && f !== "limits") r.reject(`${key}.${f}`, value[f], "requests or limits");
    const pick = (kind: "requests" | "limits"): Quantities => {
        const section = value[kind];
        const obj = section && typeof section === "object" && !Array.isArray(section) ? section : {};
        if (section !== undefined && obj !== section) r.reject(`${key}.${kind}`, section, "an object with cpu, memory, ephemeralStorage");
        for (const f of Object.keys(obj)) {
            if (!resourceFields.some(([name]) => name === f)) r.reject(`${key}.${kind}.${f}`, obj[f], "cpu, memory or ephemeralStorage");
        }
        const out: Record<string, string> = {};
        for (const [field, k8sName, allowed] of resourceFields) {
            // `pulumi config set --path ... 2` stores a number: a plain count of cores or bytes is a quantity too.
            const v = typeof obj[field] === "number" ? String(obj[field]) : obj[field];
            out[k8sName] = r.string(`${key}.${kind}.${field}`, v, def[kind][k8sName], QUANTITY, allowed);
        }
        return out as unknown as Quantities;
    };
    const res = { requests: pick("requests"), limits: pick("limits") };
    for (const [field, k8sName] of resourceFields) {
        if (quantityValue(res.requests[k8sName]) > quantityValue(res.limits[k8sName])) {
            r.reject(`${key}.requests.${field}`, res.requests[k8sName], `at most ${key}.limits.${field} (${res.limits[k8sName]})`);
        }
    }
    return res;
}

const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/([0-9]|[12][0-9]|3[0-2])$/;

function readCidrs(r: Reader, key: string, value: Json | undefined, def: readonly string[]): readonly string[] {
    if (value === undefined || value === null) return def;
    if (!Array.isArray(value) || value.some((c) => typeof c !== "string" || !CIDR.test(c))) {
        r.reject(key, value, "a list of IPv4 CIDRs such as 10.0.0.0/8");
        return def;
    }
    return value as string[];
}

function expandHome(p: string): string {
    return p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p;
}

function readInitScripts(r: Reader, key: string, value: Json | undefined): Record<string, string> {
    if (value === undefined || value === null || value === "") return {};
    if (typeof value !== "string") {
        r.reject(key, value, "a path to a .sql file or a directory of .sql files");
        return {};
    }
    const p = path.resolve(expandHome(value));
    let files: string[];
    try {
        files = fs.statSync(p).isDirectory()
            ? fs.readdirSync(p).filter((f) => f.endsWith(".sql")).sort().map((f) => path.join(p, f))
            : [p];
    } catch {
        r.reject(key, value, "an existing .sql file or directory (the path was not found)");
        return {};
    }
    const scripts: Record<string, string> = {};
    for (const f of files) {
        if (!f.endsWith(".sql")) {
            r.reject(key, value, "a .sql file or a directory of .sql files");
            continue;
        }
        scripts[path.basename(f)] = fs.readFileSync(f, "utf8");
    }
    const total = Object.values(scripts).reduce((n, s) => n + Buffer.byteLength(s), 0);
    if (total > 900 * 1024) {
        r.reject(key, value, `init scripts of at most 900 KiB in all (a ConfigMap's limit); found ${total} bytes`);
    }
    return scripts;
}

const CONFIG_FILE = /^[A-Za-z0-9][-._A-Za-z0-9]*\.(ya?ml|properties)$/;

function readConfigFiles(r: Reader, key: string, value: Json | undefined): Record<string, string> {
    if (value === undefined || value === null || value === "") return {};
    const allowed = "a directory of Spring config files (*.yml, *.yaml, *.properties), e.g. the application's config/ directory";
    if (typeof value !== "string") return r.reject(key, value, allowed) ?? {};
    const dir = path.resolve(expandHome(value));
    let names: string[];
    try {
        names = fs.readdirSync(dir).filter((f) => fs.statSync(path.join(dir, f)).isFile() && /\.(ya?ml|properties)$/.test(f)).sort();
    } catch {
        return r.reject(key, value, `${allowed} (the directory was not found)`) ?? {};
    }
    if (names.length === 0) return r.reject(key, value, `${allowed} (it holds none)`) ?? {};
    const files: Record<string, string> = {};
    for (const f of names) {
        if (!CONFIG_FILE.test(f)) r.reject(key, value, `file names usable as ConfigMap keys (${f} is not)`);
        else files[f] = fs.readFileSync(path.join(dir, f), "utf8");
    }
    const total = Object.values(files).reduce((n, s) => n + Buffer.byteLength(s), 0);
    if (total > 900 * 1024) r.reject(key, value, `config files of at most 900 KiB in all (a ConfigMap's limit); found ${total} bytes`);
    return files;
}

function readConfigServer(r: Reader): ConfigServerSource {
    const cs = r.object("configServer", ["path", "git"]);
    const files = readConfigFiles(r, "configServer.path", cs.path);
    if (cs.git === undefined || cs.git === null) return { source: "directory", files };
    if (typeof cs.git !== "object" || Array.isArray(cs.git)) {
        r.reject("configServer.git", cs.git, "an object {uri, label, searchPaths}");
        return { source: "directory", files };
    }
    const git = cs.git;
    for (const f of Object.keys(git)) {
        if (!["uri", "label", "searchPaths"].includes(f)) r.reject(`configServer.git.${f}`, git[f], "a known field of configServer.git: uri, label, searchPaths");
    }
    if (cs.path !== undefined && cs.path !== null && cs.path !== "") {
        r.problems.push(`${PROJECT}:configServer.path / ${PROJECT}:configServer.git: both are set; expected one source for the config server`);
    }
    const uri = r.string("configServer.git.uri", git.uri, "", /^(https?|ssh|git|file):\/\/\S+$|^[\w.-]+@[\w.-]+:\S+$/,
        "a git repository URL such as https://git.example.go.kr/egov/config.git");
    if (uri === "") r.problems.push(`${PROJECT}:configServer.git.uri: not set; expected the repository URL when configServer.git is set`);
    return {
        source: "git",
        uri,
        label: r.string("configServer.git.label", git.label, "main", /^[\w./-]+$/, "a branch, tag or commit"),
        searchPaths: r.string("configServer.git.searchPaths", git.searchPaths, undefined, /^[\w.{}/,*-]+$/,
            "comma-separated folders of the repository, e.g. config"),
    };
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
    isSecret: (key: string) => boolean = () => false, opts: { readonly frontendRecord?: boolean } = {}): PlatformConfig {
    const r = new Reader(source);
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
    const context = r.string("kubeContext", r.scalar("kubeContext"), undefined, /^\S+$/, "a kubeconfig context name");
    let kubeconfig: string | undefined;
    if (kubeconfigRaw !== undefined) {
        const looksLikeContents = /\n/.test(kubeconfigRaw) || /^\s*(apiVersion|\{)/.test(kubeconfigRaw);
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
        r.problems.push(`${PROJECT}:kubeconfig / ${PROJECT}:kubeContext: neither is set; set one so the target cluster is explicit ` +
            "(this program never deploys to the current kubeconfig context by accident)");
    }

    const namespace = r.string("namespace", r.scalar("namespace"), "egov", DNS_LABEL,
        "a DNS label: lower-case letters, digits and '-', at most 63 characters");
    if (namespace.startsWith("kube-")) r.reject("namespace", namespace, "a namespace not starting with kube-");
    const createNamespace = r.bool("createNamespace", r.scalar("createNamespace"), true);
    const domain = r.string("domain", r.scalar("domain"), "egov.localtest.me", DNS_SUBDOMAIN,
        "a DNS domain such as egov.example.go.kr");

    const ing = r.object("ingress", ["className", "waitForAddress", "tlsSecretName"]);
    const ingress = {
        className: r.string("ingress.className", ing.className, "nginx", DNS_SUBDOMAIN, "an IngressClass name"),
        waitForAddress: r.bool("ingress.waitForAddress", ing.waitForAddress, false),
        tlsSecretName: r.string("ingress.tlsSecretName", ing.tlsSecretName, undefined, DNS_SUBDOMAIN, "a Secret name"),
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
        if (typeof parsed === "string") r.reject(`images.${k}`, v, `an image reference such as mysql:5.7 (${parsed})`);
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
            r.problems.push(`${key}: ${JSON.stringify(value)} is not allowed; expected ${allowed}`);
        if (table === null || typeof table !== "object" || Array.isArray(table)) {
            bad(where, table, "an object of image reference -> sha256 digest");
            return;
        }
        for (const [ref, digest] of Object.entries(table)) {
            const parsed = parseImageRef(ref);
            if (typeof parsed === "string" || parsed.digest) {
                bad(`${where}[${JSON.stringify(ref)}]`, ref, "an image reference with a tag and no digest, e.g. mysql:5.7");
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
            r.problems.push(`${PROJECT}:serviceReplicas.${name}: ${JSON.stringify(perService[name])} is not allowed; ` +
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
                r.problems.push(`${PROJECT}:serviceReplicas.${name}: ${replicas[name]} is not allowed; expected at most ` +
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
        initScripts: readInitScripts(r, "database.initScriptsPath", db.initScriptsPath),
    };
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
        offsite: readOffsite(r, bk.offsite, cronAllowed),
    };
    const badCron = cronProblems(backup.schedule);
    if (badCron.length > 0) {
        r.reject("backup.schedule", backup.schedule, `a cron schedule whose fields are in range (${badCron.join("; ")}), e.g. "30 2 * * *"`);
    }
    // Frontend images built for this stack (npm run frontends); prod refuses one built for other values.
    const lock = opts.frontendRecord === false ? { stacks: {}, problems: [] } : readFrontendsLock();
    const fe = frontendImages({ services, namespace, domain, ingress, timezone, environment }, frontends, stackName, lock.stacks[stackName]);
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

    const cfg: PlatformConfig = {
        environment,
        cluster: { kubeconfig, context },
        namespace,
        createNamespace,
        domain,
        ingress,
        image,
        images,
        imageMirror,
        imageDigests,
        frontendImages: fe.images,
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
    r.problems.push(...singleWriterProblems(cfg, PROJECT));
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

const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const S3_PREFIX = /^([A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*)?$/;

function subObject(r: Reader, key: string, v: Json | undefined, fields: readonly string[]): Record<string, Json> | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "object" || Array.isArray(v)) return r.reject(key, v, "an object");
    for (const f of Object.keys(v)) if (!fields.includes(f)) r.reject(`${key}.${f}`, v[f], `a known field of ${key}: ${fields.join(", ")}`);
    return v;
}

function readOffsite(r: Reader, v: Json | undefined, cronAllowed: string): OffsiteConfig | undefined {
    const o = subObject(r, "backup.offsite", v, ["endpoint", "bucket", "prefix", "region", "credentialsSecretName", "caConfigMap", "retention",
        "cidrs", "elasticsearch", "jenkins"]);
    if (!o) return undefined;
    const required = (k: string, pattern: RegExp, allowed: string): string => {
        if (o[k] === undefined || o[k] === null || o[k] === "") {
            r.problems.push(`${PROJECT}:backup.offsite.${k}: not set; expected ${allowed}`);
            return "";
        }
        return r.string(`backup.offsite.${k}`, o[k], "", pattern, allowed);
    };
    const endpoint = required("endpoint", /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?\/?$/, "the object store's URL, https://host[:port]");
    if (endpoint.startsWith("http://") && !/^http:\/\/(localhost|127\.0\.0\.1|[a-z0-9-]+(\.[a-z0-9-]+)*\.svc(\.cluster\.local)?)(:|\/|$)/.test(endpoint)) {
        r.reject("backup.offsite.endpoint", endpoint, "an https:// URL (plain http only to loopback or an in-cluster Service): the dumps hold every row");
    }
    return {
        endpoint: endpoint.replace(/\/$/, ""),
        bucket: required("bucket", S3_BUCKET, "an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)"),
        prefix: r.string("backup.offsite.prefix", o.prefix, "", S3_PREFIX, "a key prefix such as egov/prod (no leading or trailing slash)"),
        region: r.string("backup.offsite.region", o.region, "us-east-1", /^[a-z0-9-]{1,32}$/, "a region name the store accepts, e.g. us-east-1"),
        credentialsSecretName: required("credentialsSecretName", DNS_SUBDOMAIN,
            "the name of a Secret (created outside git) with keys access-key-id and secret-access-key"),
        caConfigMap: r.string("backup.offsite.caConfigMap", o.caConfigMap, undefined, DNS_SUBDOMAIN, "the name of a ConfigMap with key ca.crt"),
        retention: r.int("backup.offsite.retention", o.retention, 30, 1, 3650),
        cidrs: readCidrs(r, "backup.offsite.cidrs", o.cidrs, []),
        elasticsearch: (() => {
            const es = subObject(r, "backup.offsite.elasticsearch", o.elasticsearch, ["schedule", "retention"]) ?? {};
            return {
                schedule: r.string("backup.offsite.elasticsearch.schedule", es.schedule, "0 3 * * *", CRON, cronAllowed),
                retention: r.int("backup.offsite.elasticsearch.retention", es.retention, 14, 1, 3650),
            };
        })(),
        jenkins: (() => {
            const j = subObject(r, "backup.offsite.jenkins", o.jenkins, ["time", "retention"]) ?? {};
            return {
                time: r.string("backup.offsite.jenkins.time", j.time, "03:30", /^([01][0-9]|2[0-3]):[0-5][0-9]$/, "a time of day HH:MM, e.g. \"03:30\""),
                retention: r.int("backup.offsite.jenkins.retention", j.retention, 7, 1, 3650),
            };
        })(),
    };
}

function readDrill(r: Reader, v: Json | undefined, def: boolean, cronAllowed: string): { enabled: boolean; schedule: string } {
    const o = subObject(r, "backup.drill", v, ["enabled", "schedule"]) ?? {};
    return {
        enabled: r.bool("backup.drill.enabled", o.enabled, def),
        schedule: r.string("backup.drill.schedule", o.schedule, "30 4 * * 0", CRON, cronAllowed),
    };
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
