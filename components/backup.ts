import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { OffsiteConfig } from "../config/types";
import type { BackupPlan } from "../config/plan";
import { Credentials, secretEnv } from "./credentials";
import { DELETE_IN_BACKGROUND, hardenPod, PartArgs, PodContainer } from "./workload";

/** The dump, restore, off-site copy and drill scripts, shipped verbatim in a ConfigMap: the CronJobs run what the tests run. */
export const BACKUP_SCRIPTS_DIR = path.join(__dirname, "..", "jobs", "backup");
export const backupScriptFiles = ["common.sh", "backup.sh", "restore.sh", "offsite.sh", "drill.sh", "opensearch-snapshot.sh"] as const;

export interface BackupArgs extends PartArgs {
    /** Schedules, retention, images and the off-site store, drill and Elasticsearch snapshots when on. */
    readonly plan: BackupPlan;
    readonly credentials: Credentials;
    /** Claim on the data class the dumps are written to. */
    readonly claimName: pulumi.Input<string>;
    /** In-cluster host name of MySQL. */
    readonly mysqlHost: pulumi.Input<string>;
    /** The claim holding OpenSearch's snapshot repository, when its snapshots go off-site. */
    readonly osSnapshotClaimName?: pulumi.Input<string>;
}

/** Where the backup volume is mounted in the job's pod (and in a restore pod). */
export const BACKUP_MOUNT = "/backup";
const SCRIPTS_MOUNT = "/scripts";
export const OFFSITE_CA_MOUNT = "/etc/offsite-ca";
const CA_MOUNT = OFFSITE_CA_MOUNT;
/** Annotation naming the Secrets and ConfigMaps an object reads that the agency creates outside git (JSON). */
export const OUTSIDE_GIT_ANNOTATION = "egov-platform/created-outside-git";
/** Name of the restore drill's CronJob. */
export const DRILL_JOB = "mysql-restore-drill";
/** Where the drill fetches the newest off-site copy to: scratch space of its own pod, never the backup volume. */
export const DRILL_FETCH_DIR = "/drill";

/** A container of the jobs' pods: hardenPod puts the every-pod env in front of its own. */
type Container = PodContainer;
type EnvVar = k8s.types.input.core.v1.EnvVar;

/** The object store's settings and credentials (from the Secret the agency created outside git), for rclone. */
export function offsiteEnv(o: OffsiteConfig): EnvVar[] {
    const fromSecret = (name: string, key: string): EnvVar => ({ name, valueFrom: { secretKeyRef: { name: o.credentialsSecretName, key } } });
    return [
        { name: "OFFSITE_ENDPOINT", value: o.endpoint },
        { name: "OFFSITE_BUCKET", value: o.bucket },
        { name: "OFFSITE_PREFIX", value: o.prefix },
        { name: "OFFSITE_REGION", value: o.region },
        { name: "OFFSITE_RETENTION", value: String(o.retention) },
        fromSecret("AWS_ACCESS_KEY_ID", "access-key-id"),
        fromSecret("AWS_SECRET_ACCESS_KEY", "secret-access-key"),
        ...(o.caConfigMap ? [{ name: "OFFSITE_CA", value: `${CA_MOUNT}/ca.crt` }] : []),
        // rclone keeps nothing between runs; its cache dir goes to the pod's scratch space.
        { name: "HOME", value: "/tmp" },
    ];
}

/**
 * A CronJob dumping the application databases with the application user's generated credentials (Secret
 * references only) to a volume on the data class, keeping the newest `backup.retention` backups, and with
 * `backup.offsite` copying each to S3-compatible storage off the cluster (the dump is then the init container,
 * the upload runs only after it succeeded). One run at a time (concurrencyPolicy Forbid), so the ReadWriteOnce
 * volume never has two pods. With `backup.drill`, a second CronJob restores the newest backup (the newest
 * off-site copy when there is a store) into scratch databases and checks it against the backup's manifest.
 */
export class Backup extends pulumi.ComponentResource {
    public readonly cronJob: k8s.batch.v1.CronJob;
    public readonly drill?: k8s.batch.v1.CronJob;
    public readonly osSnapshot?: k8s.batch.v1.CronJob;
    public readonly scripts: k8s.core.v1.ConfigMap;

    constructor(name: string, args: BackupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Backup", name, {}, opts);
        const parent = { parent: this };
        const plan = args.plan;
        const offsite = plan.offsite;
        const labels = { ...args.commonLabels, tier: "database", app: plan.jobName };

        this.scripts = new k8s.core.v1.ConfigMap("mysql-backup-scripts", {
            metadata: { namespace: args.namespace, labels },
            data: Object.fromEntries(backupScriptFiles.map((f) => [f, fs.readFileSync(path.join(BACKUP_SCRIPTS_DIR, f), "utf8")])),
        }, parent);

        const mysqlEnv = (user: "app" | "root"): EnvVar[] => [
            { name: "MYSQL_HOST", value: args.mysqlHost },
            { name: "MYSQL_PORT", value: String(plan.mysqlPort) },
            ...(user === "app"
                ? [secretEnv("MYSQL_USER", args.credentials.mysql, "username"), secretEnv("MYSQL_PASSWORD", args.credentials.mysql, "password")]
                // The drill creates and drops scratch databases, which the application user may not.
                : [{ name: "MYSQL_USER", value: "root" }, secretEnv("MYSQL_PASSWORD", args.credentials.mysql, "root-password")]),
            { name: "TMPDIR", value: "/tmp" },
        ];
        const mounts = [
            { name: "backup", mountPath: BACKUP_MOUNT },
            { name: "scripts", mountPath: SCRIPTS_MOUNT, readOnly: true },
            { name: "tmp", mountPath: "/tmp" },
            ...(offsite?.caConfigMap ? [{ name: "offsite-ca", mountPath: CA_MOUNT, readOnly: true }] : []),
        ];
        // The dump streams through gzip to the backup volume; /tmp (an emptyDir) holds only small files.
        const jobResources = {
            requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "64Mi" },
            limits: { cpu: "1", memory: "512Mi", "ephemeral-storage": "1Gi" },
        };
        const mysqlContainer = (name: string, command: string[], env: EnvVar[]): Container => ({
            name,
            image: plan.images.mysql,
            imagePullPolicy: plan.imagePullPolicy,
            command,
            env,
            resources: jobResources,
            volumeMounts: mounts,
        });
        const rcloneContainer = (name: string, command: string[]): Container => ({
            name,
            image: plan.images.rclone,
            imagePullPolicy: plan.imagePullPolicy,
            command,
            env: [...offsiteEnv(offsite!), { name: "BACKUP_DIR", value: BACKUP_MOUNT }],
            resources: {
                requests: { cpu: "50m", memory: "64Mi", "ephemeral-storage": "64Mi" },
                limits: { cpu: "1", memory: "256Mi", "ephemeral-storage": "256Mi" },
            },
            volumeMounts: mounts,
        });
        // The drill's pod has no backup volume (a ReadWriteOnce claim has one pod at a time): the copy goes to an emptyDir
        // as large as the backup volume.
        // Hardened like every workload's pods (components/workload.ts hardenPod), as the image's own user.
        const podSpec = (containers: Container[], initContainers?: Container[], fetchDir = false, security = plan.security.mysql) => hardenPod({
            restartPolicy: "Never",
            initContainers,
            containers,
            volumes: [
                fetchDir
                    ? { name: "backup", emptyDir: { sizeLimit: plan.drill?.scratchSize } }
                    : { name: "backup", persistentVolumeClaim: { claimName: args.claimName } },
                { name: "scripts", configMap: { name: this.scripts.metadata.name, defaultMode: 0o555 } },
                { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
                ...(offsite?.caConfigMap ? [{ name: "offsite-ca", configMap: { name: offsite.caConfigMap } }] : []),
            ],
        }, { security, resources: jobResources, image: plan.images.mysql, podEnv: args.podEnv });
        const cronJob = (jobName: string, schedule: string, componentLabel: string, spec: k8s.types.input.core.v1.PodSpec) => {
            const l = { ...labels, "app.kubernetes.io/component": componentLabel };
            const outside = offsite
                ? { [OUTSIDE_GIT_ANNOTATION]: JSON.stringify({ secrets: offsite.credentials ? [] : [offsite.credentialsSecretName], configMaps: offsite.caConfigMap ? [offsite.caConfigMap] : [] }) }
                : undefined;
            return new k8s.batch.v1.CronJob(jobName, {
                metadata: { name: jobName, namespace: args.namespace, labels: l, annotations: { ...DELETE_IN_BACKGROUND, ...outside } },
                spec: {
                    schedule,
                    timeZone: plan.timezone,
                    // Never two at once: the volume is ReadWriteOnce and a second run would race the first.
                    concurrencyPolicy: "Forbid",
                    startingDeadlineSeconds: 3600,
                    successfulJobsHistoryLimit: 3,
                    failedJobsHistoryLimit: 3,
                    jobTemplate: {
                        metadata: { labels: l },
                        spec: { backoffLimit: 2, activeDeadlineSeconds: 6 * 3600, template: { metadata: { labels: l }, spec } },
                    },
                },
            }, parent);
        };

        const dumpEnv = [
            ...mysqlEnv("app"),
            { name: "DATABASES", value: plan.databases.join(" ") },
            { name: "RETENTION", value: String(plan.retention) },
            { name: "BACKUP_DIR", value: BACKUP_MOUNT },
        ];
        const dump = mysqlContainer("backup", ["bash", `${SCRIPTS_MOUNT}/backup.sh`], dumpEnv);
        this.cronJob = cronJob(plan.jobName, plan.schedule, "backup", offsite
            ? podSpec([rcloneContainer("offsite", ["sh", `${SCRIPTS_MOUNT}/offsite.sh`, "upload"])], [dump])
            : podSpec([dump]));

        if (plan.drill && offsite) {
            const drill = plan.drill;
            // The drill's pods are backup tooling (app mysql-backup): the same egress to MySQL and to the store. It drills the
            // copy a restore after losing the cluster would use: the newest one in the store.
            const onScratch = (c: Container): Container => ({
                ...c,
                resources: {
                    requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "64Mi" },
                    limits: { cpu: "1", memory: "512Mi", "ephemeral-storage": drill.scratchSize },
                },
                volumeMounts: [{ name: "backup", mountPath: DRILL_FETCH_DIR }, ...mounts.filter((m) => m.name !== "backup")],
            });
            const check = onScratch(mysqlContainer("drill", ["bash", `${SCRIPTS_MOUNT}/drill.sh`], [...mysqlEnv("root"), { name: "BACKUP_DIR", value: DRILL_FETCH_DIR }]));
            const fetch = onScratch(rcloneContainer("fetch", ["sh", `${SCRIPTS_MOUNT}/offsite.sh`, "fetch", "latest", DRILL_FETCH_DIR]));
            this.drill = cronJob(DRILL_JOB, drill.schedule, "drill", podSpec([check], [fetch], true));
        }

        const snapshot = plan.opensearchSnapshot;
        if (offsite && snapshot && args.osSnapshotClaimName) {
            // OpenSearch writes the snapshot (API call from its own image, which has curl), then rclone mirrors the
            // repository. The pod runs as OpenSearch's uid/gid, so it reads the files OpenSearch wrote.
            const repo = "/snapshots";
            const ca = "/opensearch-ca";
            const take: Container = {
                name: "snapshot",
                image: plan.images.opensearch,
                imagePullPolicy: plan.imagePullPolicy,
                command: ["bash", `${SCRIPTS_MOUNT}/opensearch-snapshot.sh`],
                env: [{ name: "OS_URL", value: snapshot.url }, { name: "OS_USER", value: snapshot.user },
                    { name: "OS_PASSWORD", valueFrom: { secretKeyRef: { name: snapshot.credentialsSecret, key: snapshot.passwordKey } } },
                    { name: "OS_CACERT", value: `${ca}/ca.crt` },
                    { name: "REPO_PATH", value: snapshot.repoPath }, { name: "RETENTION", value: String(snapshot.retention) }],
                resources: { requests: { cpu: "10m", memory: "32Mi", "ephemeral-storage": "16Mi" }, limits: { cpu: "200m", memory: "128Mi", "ephemeral-storage": "64Mi" } },
                volumeMounts: [{ name: "scripts", mountPath: SCRIPTS_MOUNT, readOnly: true }, { name: "tmp", mountPath: "/tmp" },
                    { name: "opensearch-ca", mountPath: ca, readOnly: true }],
            };
            const mirror = { ...rcloneContainer("mirror", ["sh", `${SCRIPTS_MOUNT}/offsite.sh`, "mirror", repo, "opensearch"]),
                volumeMounts: [{ name: "snapshots", mountPath: repo, readOnly: true }, ...mounts.filter((m) => m.name !== "backup")] };
            const base = podSpec([mirror], [take], false, plan.security.opensearch);
            const spec: k8s.types.input.core.v1.PodSpec = {
                ...base,
                volumes: [{ name: "snapshots", persistentVolumeClaim: { claimName: args.osSnapshotClaimName, readOnly: true } },
                    // The CA only (not the node's key).
                    { name: "opensearch-ca", secret: { secretName: snapshot.tlsSecretName, items: [{ key: "ca.crt", path: "ca.crt" }] } },
                    ...(base.volumes as k8s.types.input.core.v1.Volume[]).filter((v) => v.name !== "backup")],
            };
            const l = { ...args.commonLabels, tier: "logging", app: snapshot.jobName };
            this.osSnapshot = new k8s.batch.v1.CronJob(snapshot.jobName, {
                metadata: { name: snapshot.jobName, namespace: args.namespace, labels: l,
                    annotations: { ...DELETE_IN_BACKGROUND,
                        [OUTSIDE_GIT_ANNOTATION]: JSON.stringify({ secrets: [...offsite.credentials ? [] : [offsite.credentialsSecretName], snapshot.tlsSecretName],
                            configMaps: offsite.caConfigMap ? [offsite.caConfigMap] : [] }) } },
                spec: {
                    schedule: snapshot.schedule,
                    timeZone: plan.timezone,
                    concurrencyPolicy: "Forbid",
                    startingDeadlineSeconds: 3600,
                    successfulJobsHistoryLimit: 3,
                    failedJobsHistoryLimit: 3,
                    jobTemplate: { metadata: { labels: l }, spec: { backoffLimit: 2, activeDeadlineSeconds: 6 * 3600, template: { metadata: { labels: l }, spec } } },
                },
            }, parent);
        }

        this.registerOutputs({ cronJob: this.cronJob.metadata.name, drill: this.drill?.metadata.name, osSnapshot: this.osSnapshot?.metadata.name });
    }
}
