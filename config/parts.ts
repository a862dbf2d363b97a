// Which parts of the platform a stack turns on, and where it exposes them: decided here once, read by the
// service graph, the volumes, the plan and the frontends' build values.
import type { PlatformConfig, ResourcePart } from "./types";

export interface PartsOn {
    readonly tracing: boolean;
    readonly logging: boolean;
    readonly ci: boolean;
    readonly backup: boolean;
    /** Backups copied to S3-compatible storage (backup.offsite, with backup on). */
    readonly offsite: boolean;
    /** The scheduled restore drill (needs the off-site copies). */
    readonly drill: boolean;
    /** OpenSearch snapshots mirrored off-site (logging and offsite). */
    readonly opensearchSnapshots: boolean;
    /** Jenkins' home archived off-site (ci and offsite). */
    readonly jenkinsArchive: boolean;
    readonly networkPolicy: boolean;
    /** The NFS driver (csi-driver-nfs) runs (a volume role is on nfs). */
    readonly nfs: boolean;
}

type PartsConfig = Pick<PlatformConfig, "tracing" | "logging" | "ci" | "backup" | "networkPolicy" | "storage">;

/** What goes off-site (backup.offsite): the dumps, and with them OpenSearch's snapshots and Jenkins' home when those are on. */
export function offsiteParts(cfg: Pick<PlatformConfig, "logging" | "ci" | "backup">): Pick<PartsOn, "offsite" | "drill" | "opensearchSnapshots" | "jenkinsArchive"> {
    const offsite = cfg.backup.enabled && cfg.backup.offsite !== undefined;
    return {
        offsite,
        drill: offsite && cfg.backup.drill.enabled,
        opensearchSnapshots: offsite && cfg.logging.enabled,
        jenkinsArchive: offsite && cfg.ci.enabled,
    };
}

export function partsOn(cfg: PartsConfig): PartsOn {
    return {
        tracing: cfg.tracing.enabled,
        logging: cfg.logging.enabled,
        ci: cfg.ci.enabled,
        backup: cfg.backup.enabled,
        ...offsiteParts(cfg),
        networkPolicy: cfg.networkPolicy.enabled,
        nfs: cfg.storage.shared.backend === "nfs" || cfg.storage.data.backend === "nfs",
    };
}

/**
 * Namespaces of their own for the parts that could act beyond the application's namespace: the NFS driver
 * (its account holds cluster-wide rights on PersistentVolumes, its pods are privileged) and Jenkins' agents (CI runs arbitrary code, and a pod
 * creator can use every account and Secret of its namespace). The application's namespace then holds no account
 * with rights beyond it.
 */
export type SideNamespace = "storage" | "ci";
export const sideNamespaceParts: readonly SideNamespace[] = ["storage", "ci"];

export function sideNamespaces(cfg: PartsConfig & Pick<PlatformConfig, "namespace">): Partial<Record<SideNamespace, string>> {
    const on = partsOn(cfg);
    return { ...(on.nfs ? { storage: `${cfg.namespace}-storage` } : {}), ...(on.ci ? { ci: `${cfg.namespace}-ci` } : {}) };
}

/** The parts whose pods run in a side namespace (the rest run in the application's). */
export const partHomes: Readonly<Partial<Record<ResourcePart, SideNamespace>>> = { nfsProvisioner: "storage" };

/** The parts (by their resources/security key) this config deploys. */
export function deployedParts(cfg: PartsConfig): ResourcePart[] {
    const on = partsOn(cfg);
    const parts: ResourcePart[] = ["backend", "frontend", "mysql", "rabbitmq"];
    if (on.tracing) parts.push("zipkin");
    if (on.logging) parts.push("opensearch", "fluentBit", "dashboards");
    if (on.ci) parts.push("jenkins");
    if (on.nfs) parts.push("nfsProvisioner");
    return parts;
}

/** The public URL an Ingress host `<prefix>.<domain>` is served at. */
export function publicUrl(cfg: Pick<PlatformConfig, "ingress" | "domain">, hostPrefix: string): string {
    return `${cfg.ingress.tlsSecretName ? "https" : "http"}://${hostPrefix}.${cfg.domain}`;
}
