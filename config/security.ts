// Pod hardening per part, as data: the uid/gid each image runs as, the paths it writes (each gets an
// emptyDir unless the part mounts a volume there), and every exception to Pod Security `restricted`.
// components/workload.ts applies it; a new image is a new entry here, not new hardening code.
import type { ResourcePart } from "./types";

/** Controls a part may be excused from, each with its reason. */
export type HardeningControl =
    /** The whole pod cannot meet Pod Security `restricted`: the namespace then enforces `baseline` only. */
    | "restricted"
    /** The image writes where no emptyDir can go (not part of Pod Security; only this container is affected). */
    | "readOnlyRootFilesystem"
    /**
     * The pod needs the host (privileged containers, its network, kubelet paths): allowed only for a part in a side
     * namespace of its own (config/parts.ts partHomes), which then enforces `privileged`; never in the application's.
     */
    | "privileged";

export interface PodSecurityProfile {
    /** The uid and gid the image's process runs as (fsGroup is the gid, so volumes are writable). */
    readonly uid: number;
    readonly gid: number;
    /** Paths the image writes at run time; empty at start. */
    readonly writablePaths: readonly string[];
    /** Paths the image ships files in and also writes: an init container copies them into the emptyDir. */
    readonly seededPaths?: readonly string[];
    /** Where the image documents those paths. */
    readonly source: string;
    readonly exceptions?: Readonly<Partial<Record<HardeningControl, string>>>;
}

export const podSecurity: Readonly<Record<ResourcePart, PodSecurityProfile>> = {
    backend: {
        // openjdk:8-jre-alpine running app.jar; the reference already ran it as 1000.
        uid: 1000, gid: 1000, writablePaths: ["/tmp"],
        source: "Spring Boot: embedded Tomcat's base and multipart directories are under java.io.tmpdir (/tmp)",
    },
    frontend: {
        // npm run frontends images (node:16 Debian base, app in /usr/app); uid 1000 is the base image's `node` user.
        uid: 1000, gid: 1000, writablePaths: ["/tmp", "/usr/app/.next/cache", "/home/node"],
        source: "Next.js: `next start` writes its image-optimisation cache to .next/cache; npm writes logs under $HOME",
    },
    mysql: {
        uid: 999, gid: 999, writablePaths: ["/var/lib/mysql", "/var/run/mysqld", "/tmp", "/etc/mysql/conf.d"],
        source: "mysql image: runs as its mysql user (999) when started non-root; socket and pid in /var/run/mysqld, temp tables in /tmp",
    },
    rabbitmq: {
        uid: 999, gid: 999, writablePaths: ["/var/lib/rabbitmq", "/tmp"],
        source: "rabbitmq image: user rabbitmq (999); node data and the Erlang cookie in /var/lib/rabbitmq ($HOME); logs to stdout",
    },
    opensearch: {
        uid: 1000, gid: 1000,
        writablePaths: ["/usr/share/opensearch/data", "/usr/share/opensearch/logs", "/tmp"],
        seededPaths: ["/usr/share/opensearch/config"],
        source: "OpenSearch Docker image: user opensearch (1000); data, logs, the JVM's temp dir under /tmp; the keystore and the " +
            "security plugin's files are in config/",
    },
    fluentBit: {
        // Distroless image whose entrypoint runs as root; nothing of it needs root: config read-only, buffer in memory.
        uid: 65534, gid: 65534, writablePaths: ["/tmp"],
        source: "fluent/fluent-bit image: static binary, no user of its own; config from the ConfigMap, memory buffering (no storage.path)",
    },
    dashboards: {
        uid: 1000, gid: 1000, writablePaths: ["/usr/share/opensearch-dashboards/data", "/tmp"],
        seededPaths: ["/usr/share/opensearch-dashboards/config"],
        source: "OpenSearch Dashboards image: user 1000; path.data (uuid); config/ holds the keystore it may create",
    },
    zipkin: {
        uid: 1000, gid: 1000, writablePaths: ["/tmp"],
        source: "openzipkin image: USER zipkin (uid 1000 from adduser); the JVM's temp dir /tmp",
    },
    jenkins: {
        uid: 1000, gid: 1000, writablePaths: ["/var/jenkins_home", "/tmp"],
        source: "jenkins/jenkins image: uid 1000; everything under JENKINS_HOME; /tmp for the JVM",
    },
    nfsProvisioner: {
        // csi-driver-nfs mounts NFS shares: root with CAP_SYS_ADMIN, as its upstream manifests run it.
        uid: 0, gid: 0, writablePaths: ["/tmp"],
        source: "csi-driver-nfs deploy/v4.13.4: the controller mounts the share under its working directory (/tmp) to make and remove " +
            "volume directories; the node plugin mounts volumes into the kubelet's pod directories",
        exceptions: {
            privileged: "csi-driver-nfs: the node plugin mounts NFS on the node for the kubelet (privileged, host network so a mount " +
                "outlives the plugin's pod, kubelet directories as hostPath); the controller mounts the share to make volume directories",
        },
    },
};

/**
 * Pods of the platform's Jobs (backup, restore drill, OpenSearch snapshot, credential rotation): the server
 * images' own users, writing only to the volumes and the /tmp emptyDir the jobs mount themselves.
 */
export const jobSecurity: Readonly<Record<"mysqlClient" | "rabbitmqClient" | "opensearchClient", PodSecurityProfile>> = {
    mysqlClient: {
        uid: 999, gid: 999, writablePaths: [],
        source: "mysql image: its mysql user (999); dumps go to the backup volume (fsGroup makes it writable), temp files to /tmp",
    },
    rabbitmqClient: {
        uid: 999, gid: 999, writablePaths: [],
        source: "rabbitmq image: its rabbitmq user (999); the rotation script only calls the management API",
    },
    opensearchClient: {
        uid: 1000, gid: 1000, writablePaths: [],
        source: "OpenSearch image: uid 1000, so the snapshot job reads the repository files OpenSearch wrote",
    },
};

export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

/** The level a namespace enforces for the parts it holds: `restricted` unless a part there is excused from it. */
export function enforcedLevel(parts: readonly ResourcePart[], table: Readonly<Record<string, PodSecurityProfile>> = podSecurity): PodSecurityLevel {
    if (parts.some((p) => table[p]?.exceptions?.privileged !== undefined)) return "privileged";
    return parts.some((p) => table[p]?.exceptions?.restricted !== undefined) ? "baseline" : "restricted";
}
