import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { infraNodePorts, infraPorts } from "../config/catalog";
import { resolveImage } from "../config/images";
import { httpProbes, ingressFor, PartArgs, probes, Workload } from "./workload";
import { podSecurity } from "../config/security";
import { ES_SNAPSHOT_PATH } from "../config/volumes";

/**
 * Logstash listens here for the services' LogstashTcpSocketAppender (newline-delimited JSON, hence json_lines);
 * the services get this port in logstash_hostname (config/wiring.ts).
 */
export const LOGSTASH_PORT = infraPorts.logstash;

export interface LoggingArgs extends PartArgs {
    /** Claim on the data class for Elasticsearch's indices. */
    readonly elasticsearchClaimName: pulumi.Input<string>;
    /** Claim (shared class) for the snapshot repository, when snapshots go off-site (components/backup.ts). */
    readonly snapshotClaimName?: pulumi.Input<string>;
}

/** Elasticsearch (a StatefulSet on a data volume), Logstash (TCP json_lines -> Elasticsearch) and Kibana behind an Ingress. */
export class Logging extends pulumi.ComponentResource {
    public readonly elasticsearch: Workload;
    public readonly logstash: Workload;
    public readonly kibana: Workload;
    public readonly elasticsearchUrl: pulumi.Output<string>;

    constructor(name: string, args: LoggingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Logging", name, {}, opts);
        const parent = { parent: this };
        const cfg = args.config;
        const base = { namespace: args.namespace, tier: "logging", commonLabels: args.commonLabels, replicas: 1 };
        const labels = { ...args.commonLabels, tier: "logging" };

        this.elasticsearch = new Workload("elasticsearch", {
            ...base,
            name: "elasticsearch",
            kind: "StatefulSet",
            image: resolveImage(cfg, "elasticsearch"),
            ports: [{ name: "http", port: 9200 }, { name: "transport", port: 9300 }],
            serviceType: "ClusterIP",
            env: [
                { name: "discovery.type", value: "single-node" },
                { name: "ES_JAVA_OPTS", value: "-Xms512m -Xmx512m" },
                args.timezoneEnv,
                ...(args.snapshotClaimName ? [{ name: "path.repo", value: ES_SNAPSHOT_PATH }] : []),
            ],
            resources: cfg.resources.elasticsearch,
            security: podSecurity.elasticsearch,
            ...httpProbes("/_cluster/health?local=true", 9200),
            volumeMounts: [{ name: "elasticsearch-data", mountPath: "/usr/share/elasticsearch/data" },
                ...(args.snapshotClaimName ? [{ name: "snapshots", mountPath: ES_SNAPSHOT_PATH }] : [])],
            volumes: [{ name: "elasticsearch-data", persistentVolumeClaim: { claimName: args.elasticsearchClaimName } },
                ...(args.snapshotClaimName ? [{ name: "snapshots", persistentVolumeClaim: { claimName: args.snapshotClaimName } }] : [])],
        }, parent);
        this.elasticsearchUrl = pulumi.interpolate`http://${this.elasticsearch.host}:9200`;

        const logstashConfig = new k8s.core.v1.ConfigMap("logstash-configmap", {
            metadata: { namespace: args.namespace, labels: { ...labels, app: "logstash" } },
            data: {
                "logstash.conf": pulumi.interpolate`input {
  tcp {
    port => ${LOGSTASH_PORT}
    codec => json_lines
  }
}

output {
  elasticsearch {
    hosts => "${this.elasticsearchUrl}"
  }
}
`,
                // Monitoring API on all interfaces so probes can reach it.
                "logstash.yml": "http.host: \"0.0.0.0\"\npath.config: /usr/share/logstash/pipeline\n",
            },
        }, parent);
        this.logstash = new Workload("logstash", {
            ...base,
            name: "logstash",
            image: resolveImage(cfg, "logstash"),
            ports: [{ name: "tcp-json", port: LOGSTASH_PORT }],
            serviceType: "ClusterIP",
            env: [args.timezoneEnv],
            resources: cfg.resources.logstash,
            security: podSecurity.logstash,
            // Readiness: the pipeline's input accepts; liveness: the monitoring API (port 9600) answers.
            ...probes({ tcpSocket: { port: LOGSTASH_PORT } }, { httpGet: { path: "/", port: 9600 } }),
            volumeMounts: [
                { name: "config", mountPath: "/usr/share/logstash/config/logstash.yml", subPath: "logstash.yml" },
                { name: "pipeline", mountPath: "/usr/share/logstash/pipeline" },
            ],
            volumes: [
                { name: "config", configMap: { name: logstashConfig.metadata.name, items: [{ key: "logstash.yml", path: "logstash.yml" }] } },
                { name: "pipeline", configMap: { name: logstashConfig.metadata.name, items: [{ key: "logstash.conf", path: "logstash.conf" }] } },
            ],
        }, parent);

        const kibanaConfig = new k8s.core.v1.ConfigMap("kibana-configmap", {
            metadata: { namespace: args.namespace, labels: { ...labels, app: "kibana" } },
            data: {
                "kibana.yml": pulumi.interpolate`server.name: kibana
server.host: "0.0.0.0"
elasticsearch.hosts: ["${this.elasticsearchUrl}"]
`,
            },
        }, parent);
        this.kibana = new Workload("kibana", {
            ...base,
            name: "kibana",
            image: resolveImage(cfg, "kibana"),
            ports: [{ name: "http", port: 5601, nodePort: infraNodePorts.kibana }],
            serviceType: cfg.serviceType,
            env: [args.timezoneEnv],
            resources: cfg.resources.kibana,
            security: podSecurity.kibana,
            ...httpProbes("/api/status", 5601),
            // Only kibana.yml is replaced; the image's other config files stay.
            volumeMounts: [{ name: "config", mountPath: "/usr/share/kibana/config/kibana.yml", subPath: "kibana.yml" }],
            volumes: [{ name: "config", configMap: { name: kibanaConfig.metadata.name } }],
            ingress: ingressFor(cfg, "kibana", 5601),
        }, parent);

        this.registerOutputs({ elasticsearchUrl: this.elasticsearchUrl });
    }
}
