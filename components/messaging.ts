import * as pulumi from "@pulumi/pulumi";
import { infraNodePorts } from "../config/catalog";
import { resolveImage } from "../config/images";
import { Credentials, secretEnv } from "./credentials";
import { ingressFor, PartArgs, probes, Workload } from "./workload";
import { podSecurity } from "../config/security";

export interface MessagingArgs extends PartArgs {
    readonly credentials: Credentials;
    /** Claim on the data class for /var/lib/rabbitmq (queues, node identity, Erlang cookie). */
    readonly claimName: pulumi.Input<string>;
}

/**
 * RabbitMQ with a generated user (never guest/guest) and its management UI behind an Ingress: a StatefulSet
 * whose data survives restarts and reschedules. Its data directory is named after the node, so the node name
 * is the pod's stable DNS name under the headless Service, not a host name that changes with the pod.
 */
export class Messaging extends pulumi.ComponentResource {
    public readonly workload: Workload;
    public readonly host: pulumi.Output<string>;
    public readonly port = 5672;
    public readonly managementPort = 15672;

    constructor(name: string, args: MessagingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Messaging", name, {}, opts);
        const cfg = args.config;
        const base = probes({ tcpSocket: { port: this.port } },
            { exec: { command: ["rabbitmq-diagnostics", "-q", "ping"] } }, { tcpSocket: { port: this.port } });
        // The CLI boots an Erlang node per call: give it time, and do not run it often.
        const rabbitProbes = { ...base, livenessProbe: { ...base.livenessProbe, periodSeconds: 60, timeoutSeconds: 15 } };
        this.workload = new Workload("rabbitmq", {
            namespace: args.namespace,
            name: "rabbitmq",
            tier: "backend",
            commonLabels: args.commonLabels,
            kind: "StatefulSet",
            image: resolveImage(cfg, "rabbitmq"),
            ports: [
                { name: "amqp", port: this.port, nodePort: infraNodePorts.rabbitmqAmqp },
                { name: "management", port: this.managementPort, nodePort: infraNodePorts.rabbitmqManagement },
            ],
            serviceType: cfg.serviceType,
            replicas: 1,
            env: [
                args.timezoneEnv,
                { name: "MY_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "MY_POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                { name: "K8S_SERVICE_NAME", value: "rabbitmq-headless" },
                { name: "RABBITMQ_USE_LONGNAME", value: "true" },
                { name: "RABBITMQ_NODENAME", value: "rabbit@$(MY_POD_NAME).$(K8S_SERVICE_NAME).$(MY_POD_NAMESPACE)" },
                secretEnv("RABBITMQ_DEFAULT_USER", args.credentials.rabbitmq, "username"),
                secretEnv("RABBITMQ_DEFAULT_PASS", args.credentials.rabbitmq, "password"),
            ],
            resources: cfg.resources.rabbitmq,
            security: podSecurity.rabbitmq,
            // Readiness: clients can open AMQP connections; liveness: the node answers the CLI's ping (RabbitMQ's advice).
            ...rabbitProbes,
            volumeMounts: [{ name: "rabbitmq-data", mountPath: "/var/lib/rabbitmq" }],
            volumes: [{ name: "rabbitmq-data", persistentVolumeClaim: { claimName: args.claimName } }],
            ingress: ingressFor(cfg, "rabbitmq", this.managementPort),
        }, { parent: this });
        this.host = this.workload.host;
        this.registerOutputs({ host: this.host });
    }
}
