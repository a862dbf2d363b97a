import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { RotationPlan } from "../config/plan";
import { PartArgs, scriptJobPod } from "./workload";
import { SecretRef, secretName, ServerCredential } from "./credentials";

export interface RotationJobArgs extends PartArgs {
    /** The servers' images, addresses and users. */
    readonly plan: RotationPlan;
    readonly credential: ServerCredential;
    readonly generation: number;
    /** The Secret holding the new password (key password). */
    readonly next: SecretRef<"password">;
    /** ConfigMap of jobs/rotate/. */
    readonly scripts: pulumi.Input<string>;
}

/** Workload (app label) of a credential's rotation Job: the service graph gives it its one egress. */
export const rotationJobName = (credential: ServerCredential): string => `${credential}-rotate`;

/**
 * The Job that sets a server's new password, logging in with the current one (read from the credential's
 * Secret, which still holds it: the Secret depends on this Job). One per generation, named after it, kept
 * after it completes as the record of the rotation; the script is idempotent, so a re-run changes nothing.
 */
export class RotationJob extends pulumi.ComponentResource {
    public readonly job: k8s.batch.v1.Job;

    constructor(name: string, args: RotationJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:RotationJob", name, {}, opts);
        const plan = args.plan;
        const app = rotationJobName(args.credential);
        const labels = { ...args.commonLabels, tier: "secret", app };
        const current = { name: "CURRENT_PASSWORD", valueFrom: { secretKeyRef: { name: secretName(args.credential), key: "password", optional: true } } };
        const next = { name: "NEW_PASSWORD", valueFrom: { secretKeyRef: { name: args.next.name, key: "password" } } };
        const perServer = args.credential === "mysql"
            ? {
                image: plan.mysql.image,
                security: plan.mysql.security,
                command: ["bash", "/scripts/mysql.sh"],
                env: [{ name: "MYSQL_HOST", value: plan.mysql.host }, { name: "MYSQL_PORT", value: String(plan.mysql.port) },
                    { name: "MYSQL_USER", value: plan.mysql.username }],
            }
            : {
                image: plan.rabbitmq.image,
                security: plan.rabbitmq.security,
                command: ["python3", "/scripts/rabbitmq.py"],
                env: [{ name: "RABBITMQ_URL", value: plan.rabbitmq.url },
                    { name: "RABBITMQ_USER", value: plan.rabbitmq.username }],
            };
        this.job = new k8s.batch.v1.Job(app, {
            metadata: { name: `${app}-g${args.generation}`, namespace: args.namespace, labels },
            spec: {
                backoffLimit: 2,
                activeDeadlineSeconds: 600,
                template: {
                    metadata: { labels },
                    // Hardened like every workload's pods (components/workload.ts hardenPod), as the server image's own user.
                    spec: scriptJobPod({
                        name: "rotate",
                        imagePullPolicy: plan.imagePullPolicy,
                        image: perServer.image,
                        command: perServer.command,
                        env: [...perServer.env, current, next],
                        scripts: { volume: "scripts", mountPath: "/scripts", configMap: args.scripts, mode: 0o555 },
                    }, { podEnv: args.podEnv, security: perServer.security }),
                },
            },
        }, { parent: this });
        this.registerOutputs({ job: this.job.metadata.name });
    }
}
