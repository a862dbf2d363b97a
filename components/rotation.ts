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
    /**
     * rotate: set up the generation's user (before the Secret changes); retire: lock the previous generation's user
     * (after every consumer rolled). jobs/rotate/ describes both.
     */
    readonly action: "rotate" | "retire";
    /** The Secret holding the generation's user and password (rotate only). */
    readonly next?: SecretRef<"username" | "password">;
    /** ConfigMap of jobs/rotate/. */
    readonly scripts: pulumi.Input<string>;
}

/** Workload (app label) of a credential's rotation and retire Jobs: the service graph gives it its one egress. */
export const rotationJobName = (credential: ServerCredential): string => `${credential}-rotate`;
/** Name of a generation's Job of each action. */
export const rotationJobNameOf = (credential: ServerCredential, action: "rotate" | "retire", generation: number): string =>
    `${credential}-${action}-g${generation}`;

/**
 * A Job of a generation's rotation, running jobs/rotate/<server> <action>: one per generation and action, named
 * after them, kept after it completes as the record of the rotation; the scripts are idempotent, so a re-run changes
 * nothing. Both read what the pods use from the credential's fixed-name Secret: before it changes (rotate, whose
 * reads are optional: a first deploy has no Secret yet) or after (retire).
 */
export class RotationJob extends pulumi.ComponentResource {
    public readonly job: k8s.batch.v1.Job;

    constructor(name: string, args: RotationJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:RotationJob", name, {}, opts);
        const plan = args.plan;
        const app = rotationJobName(args.credential);
        const labels = { ...args.commonLabels, tier: "secret", app };
        const optional = args.action === "rotate";
        const fromSecret = (env: string, key: string) =>
            ({ name: env, valueFrom: { secretKeyRef: { name: secretName(args.credential), key, ...(optional ? { optional: true } : {}) } } });
        const users = args.credential === "mysql" ? plan.mysql.users : plan.rabbitmq.users;
        const target = args.action === "rotate"
            ? [args.next, args.next].map((ref, i) => {
                if (!ref) throw new Error(`the ${args.credential} rotate Job needs the Secret of the new generation`);
                const key = i === 0 ? "username" : "password";
                return { name: i === 0 ? "NEW_USER" : "NEW_PASSWORD", valueFrom: { secretKeyRef: { name: ref.name, key } } };
            })
            : [{ name: "RETIRE_USER", value: users[(args.generation + 1) % 2] }];
        const perServer = args.credential === "mysql"
            ? {
                image: plan.mysql.image,
                security: plan.mysql.security,
                command: ["bash", "/scripts/mysql.sh", args.action],
                // As root (not rotated), as the migration Job: only root may create and lock users.
                env: [{ name: "MYSQL_HOST", value: plan.mysql.host }, { name: "MYSQL_PORT", value: String(plan.mysql.port) },
                    fromSecret("ROOT_PASSWORD", "root-password"), fromSecret("CURRENT_USER", "username"),
                    ...(args.action === "rotate" ? [{ name: "DATABASES", value: plan.mysql.databases.join(" ") }] : [])],
            }
            : {
                image: plan.rabbitmq.image,
                security: plan.rabbitmq.security,
                command: ["python3", "/scripts/rabbitmq.py", args.action],
                // As the pods' user, an administrator (the broker's default user).
                env: [{ name: "RABBITMQ_URL", value: plan.rabbitmq.url },
                    fromSecret("CURRENT_USER", "username"), fromSecret("CURRENT_PASSWORD", "password")],
            };
        this.job = new k8s.batch.v1.Job(name, {
            metadata: { name: rotationJobNameOf(args.credential, args.action, args.generation), namespace: args.namespace, labels },
            spec: {
                backoffLimit: 2,
                activeDeadlineSeconds: 600,
                template: {
                    metadata: { labels },
                    // Hardened like every workload's pods (components/workload.ts hardenPod), as the server image's own user.
                    spec: scriptJobPod({
                        name: args.action,
                        imagePullPolicy: plan.imagePullPolicy,
                        image: perServer.image,
                        command: perServer.command,
                        env: [...perServer.env, ...target],
                        scripts: { volume: "scripts", mountPath: "/scripts", configMap: args.scripts, mode: 0o555 },
                    }, { podEnv: args.podEnv, security: perServer.security }),
                },
            },
        }, { parent: this });
        this.registerOutputs({ job: this.job.metadata.name });
    }
}
