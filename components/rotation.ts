import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { infraPorts } from "../config/catalog";
import { resolveImage } from "../config/images";
import { PartArgs } from "./workload";
import { SecretRef, secretName, ServerCredential } from "./credentials";

export interface RotationJobArgs extends PartArgs {
    readonly credential: ServerCredential;
    readonly generation: number;
    /** The Secret holding the new password (key password). */
    readonly next: SecretRef<"password">;
    /** ConfigMap of scripts/rotate/. */
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
        const cfg = args.config;
        const app = rotationJobName(args.credential);
        const labels = { ...args.commonLabels, tier: "secret", app };
        const current = { name: "CURRENT_PASSWORD", valueFrom: { secretKeyRef: { name: secretName(args.credential), key: "password", optional: true } } };
        const next = { name: "NEW_PASSWORD", valueFrom: { secretKeyRef: { name: args.next.name, key: "password" } } };
        const perServer = args.credential === "mysql"
            ? {
                image: resolveImage(cfg, "mysql"),
                command: ["bash", "/scripts/mysql.sh"],
                env: [{ name: "MYSQL_HOST", value: "mysql" }, { name: "MYSQL_PORT", value: String(infraPorts.mysql) },
                    { name: "MYSQL_USER", value: cfg.database.username }],
            }
            : {
                image: resolveImage(cfg, "rabbitmq"),
                command: ["python3", "/scripts/rabbitmq.py"],
                env: [{ name: "RABBITMQ_URL", value: `http://rabbitmq:${infraPorts.rabbitmqManagement}` },
                    { name: "RABBITMQ_USER", value: cfg.messaging.username }],
            };
        this.job = new k8s.batch.v1.Job(app, {
            metadata: { name: `${app}-g${args.generation}`, namespace: args.namespace, labels },
            spec: {
                backoffLimit: 2,
                activeDeadlineSeconds: 600,
                template: {
                    metadata: { labels },
                    spec: {
                        restartPolicy: "Never",
                        automountServiceAccountToken: false,
                        // Both images' own non-root user (999).
                        securityContext: { runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, seccompProfile: { type: "RuntimeDefault" } },
                        containers: [{
                            name: "rotate",
                            imagePullPolicy: cfg.image.pullPolicy,
                            ...perServer,
                            env: [args.timezoneEnv, ...perServer.env, current, next, { name: "TMPDIR", value: "/tmp" }],
                            resources: {
                                requests: { cpu: "50m", memory: "64Mi", "ephemeral-storage": "16Mi" },
                                limits: { cpu: "500m", memory: "256Mi", "ephemeral-storage": "64Mi" },
                            },
                            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                            volumeMounts: [{ name: "scripts", mountPath: "/scripts", readOnly: true }, { name: "tmp", mountPath: "/tmp" }],
                        }],
                        volumes: [
                            { name: "scripts", configMap: { name: args.scripts, defaultMode: 0o555 } },
                            { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "4Mi" } },
                        ],
                    },
                },
            },
        }, { parent: this });
        this.registerOutputs({ job: this.job.metadata.name });
    }
}
