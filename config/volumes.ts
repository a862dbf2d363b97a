// The platform's volumes as data: each one's role (how many pods may share it) and which workloads mount it.
// Config validation counts pods from this list; the Storage component creates one claim per entry.
import type { PlatformConfig, StorageBackend } from "./types";
import { BackendServiceSpec, backendServices } from "./catalog";
import { offsiteParts, partsOn } from "./parts";

/** shared: many pods at once (ReadWriteMany where the backend can); data: one pod (ReadWriteOnce). */
export const volumeRoles = ["shared", "data"] as const;
export type VolumeRole = (typeof volumeRoles)[number];
export type AccessMode = "ReadWriteMany" | "ReadWriteOnce";

/** Workload name of the MySQL backup CronJob (its pods mount the backup volume). */
export const BACKUP_JOB = "mysql-backup";

export interface VolumeUse {
    /** Claim name prefix: `<name>-pvc-<class>`. */
    readonly name: string;
    readonly role: VolumeRole;
    readonly size: string;
    /** Workloads (app labels) whose pods mount it. */
    readonly mountedBy: readonly string[];
}

/** Block volumes (cinder) attach to one node; NFS and host-path directories can be mounted by many pods. */
export function accessModeFor(backend: StorageBackend, role: VolumeRole): AccessMode {
    return role === "shared" && backend !== "cinder" ? "ReadWriteMany" : "ReadWriteOnce";
}

/** The Eureka server runs one replica: more without peer replication would be separate registries. */
export function singleInstance(name: string, services: readonly BackendServiceSpec[] = backendServices): boolean {
    return services.some((s) => s.name === name && s.isDiscoveryServer);
}

/** Whether a workload gets an autoscaler. */
export function isAutoscaled(cfg: Pick<PlatformConfig, "autoscaling" | "replicas">, name: string): boolean {
    // cfg.replicas has an entry for every scalable workload, built-in or added by stack config.
    return cfg.autoscaling.enabled && name in cfg.replicas && !singleInstance(name);
}

/** The most pods a workload can run at once: the autoscaler's maximum, else its replica count; infra runs one. */
export function maxPodsOf(cfg: Pick<PlatformConfig, "autoscaling" | "replicas">, name: string): number {
    if (!(name in cfg.replicas)) return 1;
    return isAutoscaled(cfg, name) ? Math.max(cfg.autoscaling.maxReplicas, cfg.replicas[name]) : cfg.replicas[name];
}

/** The OpenSearch snapshot CronJob's workload name (app label). */
export const OS_SNAPSHOT_JOB = "opensearch-snapshot";
/** Where OpenSearch's snapshot repository (path.repo) is, in OpenSearch and in the snapshot job. */
export const OS_SNAPSHOT_PATH = "/usr/share/opensearch/snapshots";

/** The workloads that copy to the object store of backup.offsite: dumps, OpenSearch snapshots, Jenkins' home. */
export function offsiteWorkloads(cfg: Parameters<typeof offsiteParts>[0]): string[] {
    const on = offsiteParts(cfg);
    if (!on.offsite) return [];
    return [BACKUP_JOB, ...(on.opensearchSnapshots ? [OS_SNAPSHOT_JOB] : []), ...(on.jenkinsArchive ? ["jenkins"] : [])];
}

/** Every volume the stack config asks for, with the workloads that mount it. */
export function platformVolumes(
    cfg: Parameters<typeof partsOn>[0] & Pick<PlatformConfig, "services">,
    services: readonly BackendServiceSpec[] = cfg.services,
): VolumeUse[] {
    const s = cfg.storage.sizes;
    const on = partsOn(cfg);
    const volumes: VolumeUse[] = [
        { name: "backend", role: "shared", size: s.shared, mountedBy: services.filter((x) => x.needsSharedVolume).map((x) => x.name) },
        { name: "mysql", role: "data", size: s.mysql, mountedBy: ["mysql"] },
        { name: "rabbitmq", role: "data", size: s.rabbitmq, mountedBy: ["rabbitmq"] },
    ];
    if (on.ci) volumes.push({ name: "jenkins", role: "data", size: s.jenkins, mountedBy: ["jenkins"] });
    if (on.logging) volumes.push({ name: "opensearch", role: "data", size: s.opensearch, mountedBy: ["opensearch"] });
    if (on.backup) volumes.push({ name: "backup", role: "data", size: s.backup, mountedBy: [BACKUP_JOB] });
    // OpenSearch writes its snapshot repository there, the snapshot job mirrors it to the store: both mount it.
    if (on.opensearchSnapshots) {
        volumes.push({ name: "opensearch-snapshots", role: "shared", size: s.opensearch, mountedBy: ["opensearch", OS_SNAPSHOT_JOB] });
    }
    return volumes;
}

/**
 * Problems with volumes a ReadWriteOnce claim would give to more than one pod: on a multi-node cluster the
 * second node's pods hang in ContainerCreating (Multi-Attach error). Pods are counted at their maximum.
 */
export function singleWriterProblems(cfg: PlatformConfig, project: string, services: readonly BackendServiceSpec[] = cfg.services,
    shown: (key: string, value: unknown) => string = (_, v) => JSON.stringify(v)): string[] {
    const problems: string[] = [];
    for (const v of platformVolumes(cfg, services)) {
        const backend = cfg.storage[v.role].backend;
        if (accessModeFor(backend, v.role) !== "ReadWriteOnce") continue;
        const pods = v.mountedBy.map((w) => ({ w, n: maxPodsOf(cfg, w) }));
        const total = pods.reduce((a, p) => a + p.n, 0);
        if (total <= 1) continue;
        const key = cfg.storage[v.role].setBy;
        const who = pods.map((p) => `${p.w} (up to ${p.n} pod${p.n === 1 ? "" : "s"})`).join(", ");
        const onePod = v.mountedBy.length === 1
            ? ` or run ${v.mountedBy[0]} as one pod (autoscaling.enabled false, serviceReplicas.${v.mountedBy[0]} 1)` : "";
        const fix = `set storage.${v.role}.backend to nfs (ReadWriteMany)${onePod ? `,${onePod}` : ""}`;
        // shown: an encrypted storage key's backend is not echoed (config/reader.ts Reader.shown).
        const value = shown(key, backend);
        problems.push(`${project}:${key}: ${value} is not allowed for volume ${v.name}-pvc: its claim there is ` +
            `ReadWriteOnce (one node), but ${total} pods can mount it: ${who}; expected a backend where they can share it: ${fix}`);
    }
    return problems;
}
