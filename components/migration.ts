import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MigrationPlan } from "../config/plan";
import { Credentials, secretEnv } from "./credentials";
import { PartArgs, scriptJobPod } from "./workload";

/** The runner, shipped verbatim beside the migrations: the Job runs what tests/migrate.test.ts runs. */
export const MIGRATE_SCRIPTS_DIR = path.join(__dirname, "..", "jobs", "migrate");
export const migrateScriptFiles = ["migrate.sh"] as const;

export interface MigrationJobArgs extends PartArgs {
    readonly plan: MigrationPlan;
    readonly credentials: Credentials;
}

/**
 * The Job that applies the pending schema migrations as MySQL's root (the generated root password), once MySQL is
 * ready; the platform makes the database's clients wait for it. Named after the migration set, so an upgrade that
 * adds a migration is a new Job (the old one is deleted with its record); kept after it completes, so a run that
 * changes nothing re-runs nothing. `up` waits for it to complete: a failure stops the deploy before any service rolls.
 */
export class MigrationJob extends pulumi.ComponentResource {
    public readonly job: k8s.batch.v1.Job;

    constructor(name: string, args: MigrationJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:MigrationJob", name, {}, opts);
        const plan = args.plan;
        const labels = { ...args.commonLabels, tier: "database", app: plan.app };
        const data = {
            ...Object.fromEntries(migrateScriptFiles.map((f) => [f, fs.readFileSync(path.join(MIGRATE_SCRIPTS_DIR, f), "utf8")])),
            ...plan.files,
        };
        // Named by its contents, not auto-named: a Job's pod template is immutable, so the name the Job mounts must be
        // the same wherever the objects are rendered (npm run render's output applies onto the deployed Job as is).
        const files = new k8s.core.v1.ConfigMap(plan.app, {
            metadata: { name: `${plan.app}-${createHash("sha256").update(JSON.stringify(data)).digest("hex").slice(0, 10)}`, namespace: args.namespace, labels },
            data,
        }, { parent: this });
        this.job = new k8s.batch.v1.Job(plan.app, {
            metadata: { name: plan.jobName, namespace: args.namespace, labels },
            spec: {
                backoffLimit: 2,
                activeDeadlineSeconds: 600, // within the provider's 10-minute wait for a Job: Kubernetes' verdict is what `up` reports
                template: {
                    metadata: { labels },
                    spec: scriptJobPod({
                        name: "migrate",
                        imagePullPolicy: plan.imagePullPolicy,
                        image: plan.image,
                        command: ["bash", "/migrations/migrate.sh"],
                        env: [
                            { name: "MYSQL_HOST", value: plan.host }, { name: "MYSQL_PORT", value: String(plan.port) },
                            { name: "MYSQL_USER", value: "root" }, secretEnv("MYSQL_PASSWORD", args.credentials.mysql, "root-password"),
                            { name: "MIGRATIONS_DIR", value: "/migrations" }, { name: "HISTORY_TABLE", value: plan.historyTable },
                        ],
                        scripts: { volume: "migrations", mountPath: "/migrations", configMap: files.metadata.name, mode: 0o444 },
                    }, { podEnv: args.podEnv, security: plan.security }),
                },
            },
        }, { parent: this });
        this.registerOutputs({ job: this.job.metadata.name });
    }
}
