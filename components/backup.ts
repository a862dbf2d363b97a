import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { resolveImage } from "../config/images";
import { BACKUP_JOB } from "../config/volumes";
import { Credentials, secretEnv } from "./credentials";
import { DELETE_IN_BACKGROUND, PartArgs } from "./workload";

/** The dump and restore scripts, shipped verbatim in a ConfigMap: the CronJob runs what the tests run. */
export const BACKUP_SCRIPTS_DIR = path.join(__dirname, "..", "scripts", "mysql");
export const backupScriptFiles = ["common.sh", "backup.sh", "restore.sh"] as const;

export interface BackupArgs extends PartArgs {
    readonly credentials: Credentials;
    /** Claim on the data class the dumps are written to. */
    readonly claimName: pulumi.Input<string>;
    /** In-cluster host name of MySQL. */
    readonly mysqlHost: pulumi.Input<string>;
    readonly mysqlPort: number;
}

/** Where the backup volume is mounted in the job's pod (and in a restore pod). */
export const BACKUP_MOUNT = "/backup";
const SCRIPTS_MOUNT = "/scripts";

/**
 * A CronJob dumping the application databases with the application user's generated credentials (Secret
 * references only) to a volume on the data class, keeping the newest `backup.retention` backups. One run at
 * a time (concurrencyPolicy Forbid), so the ReadWriteOnce volume never has two pods.
 */
export class Backup extends pulumi.ComponentResource {
    public readonly cronJob: k8s.batch.v1.CronJob;
    public readonly scripts: k8s.core.v1.ConfigMap;

    constructor(name: string, args: BackupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Backup", name, {}, opts);
        const parent = { parent: this };
        const cfg = args.config;
        const labels = { ...args.commonLabels, tier: "database", app: BACKUP_JOB };

        this.scripts = new k8s.core.v1.ConfigMap("mysql-backup-scripts", {
            metadata: { namespace: args.namespace, labels },
            data: Object.fromEntries(backupScriptFiles.map((f) => [f, fs.readFileSync(path.join(BACKUP_SCRIPTS_DIR, f), "utf8")])),
        }, parent);

        const podSpec: k8s.types.input.core.v1.PodSpec = {
            restartPolicy: "Never",
            // The image's mysql user (uid/gid 999); fsGroup makes the volume writable for it.
            securityContext: { runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, seccompProfile: { type: "RuntimeDefault" } },
            automountServiceAccountToken: false,
            containers: [{
                name: "backup",
                image: resolveImage(cfg, "mysql"),
                imagePullPolicy: cfg.image.pullPolicy,
                command: ["bash", `${SCRIPTS_MOUNT}/backup.sh`],
                env: [
                    args.timezoneEnv,
                    { name: "MYSQL_HOST", value: args.mysqlHost },
                    { name: "MYSQL_PORT", value: String(args.mysqlPort) },
                    secretEnv("MYSQL_USER", args.credentials.mysql, "username"),
                    secretEnv("MYSQL_PASSWORD", args.credentials.mysql, "password"),
                    { name: "DATABASES", value: cfg.database.databases.join(" ") },
                    { name: "RETENTION", value: String(cfg.backup.retention) },
                    { name: "BACKUP_DIR", value: BACKUP_MOUNT },
                    { name: "TMPDIR", value: "/tmp" },
                ],
                // The dump streams through gzip to the backup volume; /tmp (an emptyDir) holds only small files.
                resources: {
                    requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "64Mi" },
                    limits: { cpu: "1", memory: "512Mi", "ephemeral-storage": "1Gi" },
                },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                volumeMounts: [
                    { name: "backup", mountPath: BACKUP_MOUNT },
                    { name: "scripts", mountPath: SCRIPTS_MOUNT, readOnly: true },
                    { name: "tmp", mountPath: "/tmp" },
                ],
            }],
            volumes: [
                { name: "backup", persistentVolumeClaim: { claimName: args.claimName } },
                { name: "scripts", configMap: { name: this.scripts.metadata.name, defaultMode: 0o555 } },
                { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
            ],
        };

        this.cronJob = new k8s.batch.v1.CronJob(BACKUP_JOB, {
            metadata: { name: BACKUP_JOB, namespace: args.namespace, labels, annotations: DELETE_IN_BACKGROUND },
            spec: {
                schedule: cfg.backup.schedule,
                timeZone: cfg.timezone,
                // Never two dumps at once: the volume is ReadWriteOnce and a second dump would race the first.
                concurrencyPolicy: "Forbid",
                startingDeadlineSeconds: 3600,
                successfulJobsHistoryLimit: 3,
                failedJobsHistoryLimit: 3,
                jobTemplate: {
                    metadata: { labels },
                    spec: { backoffLimit: 2, activeDeadlineSeconds: 6 * 3600, template: { metadata: { labels }, spec: podSpec } },
                },
            },
        }, parent);

        this.registerOutputs({ cronJob: this.cronJob.metadata.name });
    }
}
