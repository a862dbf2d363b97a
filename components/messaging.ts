import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformPlan } from "../config/plan";
import { Credentials, secretEnv } from "./credentials";
import { PartArgs, probes, Workload } from "./workload";
import { ServedServer, ServerComponent, servedWorkload } from "./server";

/** The platform's rabbitmq.conf fragment, after the image's 10-defaults.conf. */
export const BROKER_CONF_FILE = "90-egov-platform.conf";

export interface MessagingArgs extends PartArgs {
    /** RabbitMQ's server record and workload record (ports amqp and management). */
    readonly plan: PlatformPlan["messaging"];
    readonly credentials: Credentials;
    /** Claim on the data class for /var/lib/rabbitmq (queues, node identity, Erlang cookie). */
    readonly claimName: pulumi.Input<string>;
}

/**
 * RabbitMQ with a generated user (never guest/guest) and its management UI behind an Ingress: a StatefulSet
 * whose data survives restarts and reschedules. Its data directory is named after the node, so the node name
 * is the pod's stable DNS name under the headless Service, not a host name that changes with the pod.
 */
export class Messaging extends pulumi.ComponentResource implements ServerComponent {
    public readonly served: Readonly<Record<string, ServedServer>>;
    public readonly workload: Workload;
    public readonly host: pulumi.Output<string>;
    public readonly port: number;
    public readonly managementPort: number;

    constructor(name: string, args: MessagingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Messaging", name, {}, opts);
        const plan = args.plan.workload;
        const portOf = (n: string) => plan.ports.find((p) => p.name === n)!.port;
        this.port = portOf("amqp");
        this.managementPort = portOf("management");
        const base = probes({ tcpSocket: { port: this.port } },
            { exec: { command: ["rabbitmq-diagnostics", "-q", "ping"] } }, { tcpSocket: { port: this.port } });
        // The CLI boots an Erlang node per call: give it time, and do not run it often.
        const rabbitProbes = { ...base, livenessProbe: { ...base.livenessProbe, periodSeconds: 60, timeoutSeconds: 15 } };
        // Beside the image's conf.d/10-defaults.conf: RabbitMQ reads every file of /etc/rabbitmq/conf.d in order.
        const conf = new k8s.core.v1.ConfigMap("rabbitmq-configmap", {
            metadata: { namespace: args.namespace, labels: { ...args.commonLabels, app: plan.name } },
            data: { [BROKER_CONF_FILE]: args.plan.conf },
        }, { parent: this });
        this.workload = new Workload(plan.name, {
            namespace: args.namespace,
            commonLabels: args.commonLabels,
            plan,
            podEnv: args.podEnv,
            env: [
                { name: "MY_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "MY_POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                { name: "K8S_SERVICE_NAME", value: "rabbitmq-headless" },
                { name: "RABBITMQ_USE_LONGNAME", value: "true" },
                { name: "RABBITMQ_NODENAME", value: "rabbit@$(MY_POD_NAME).$(K8S_SERVICE_NAME).$(MY_POD_NAMESPACE)" },
                secretEnv("RABBITMQ_DEFAULT_USER", args.credentials.rabbitmq, "username"),
                secretEnv("RABBITMQ_DEFAULT_PASS", args.credentials.rabbitmq, "password"),
            ],
            // Readiness: clients can open AMQP connections; liveness: the node answers the CLI's ping (RabbitMQ's advice).
            ...rabbitProbes,
            volumeMounts: [{ name: "rabbitmq-data", mountPath: "/var/lib/rabbitmq" },
                { name: "rabbitmq-conf", mountPath: `/etc/rabbitmq/conf.d/${BROKER_CONF_FILE}`, subPath: BROKER_CONF_FILE, readOnly: true }],
            volumes: [{ name: "rabbitmq-data", persistentVolumeClaim: { claimName: args.claimName } },
                { name: "rabbitmq-conf", configMap: { name: conf.metadata.name } }],
        }, { parent: this });
        this.host = this.workload.host;
        this.served = { [args.plan.record.name]: servedWorkload(args.plan.record, this.workload, args.credentials.rabbitmq) };
        this.registerOutputs({ host: this.host });
    }
}
