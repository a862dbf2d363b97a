import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformPlan, WorkloadPlan } from "../config/plan";
import { httpProbes, workloadsWaitFor, PartArgs, probes, Workload } from "./workload";
import { ServedServer, ServerComponent, servedWorkload } from "./server";

export interface LoggingArgs extends PartArgs {
    /** The three workloads' records and the snapshot repository's path when snapshots go off-site. */
    readonly plan: NonNullable<PlatformPlan["logging"]>;
    /** Claim on the data class for Elasticsearch's indices. */
    readonly elasticsearchClaimName: pulumi.Input<string>;
    /** Claim (shared class) for the snapshot repository, when snapshots go off-site (components/backup.ts). */
    readonly snapshotClaimName?: pulumi.Input<string>;
}

/** Elasticsearch (a StatefulSet on a data volume), Logstash (TCP json_lines -> Elasticsearch) and Kibana behind an Ingress. */
export class Logging extends pulumi.ComponentResource implements ServerComponent {
    public readonly served: Readonly<Record<string, ServedServer>>;
    public readonly elasticsearch: Workload;
    public readonly logstash: Workload;
    public readonly kibana: Workload;
    public readonly elasticsearchUrl: pulumi.Output<string>;
    /**
     * Logstash listens here for the services' LogstashTcpSocketAppender (newline-delimited JSON, hence json_lines);
     * the services get this port in logstash_hostname (config/wiring.ts).
     */
    public readonly logstashPort: number;

    constructor(name: string, args: LoggingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Logging", name, {}, opts);
        const parent = { parent: this };
        const plan = args.plan;
        const base = { namespace: args.namespace, commonLabels: args.commonLabels, podEnv: args.podEnv };
        const labels = { ...args.commonLabels, tier: "logging" };
        const portOf = (w: WorkloadPlan, name: string) => w.ports.find((p) => p.name === name)!.port;
        const esPort = portOf(plan.elasticsearch, "http");
        const kibanaPort = portOf(plan.kibana, "http");
        const LOGSTASH_PORT = this.logstashPort = portOf(plan.logstash, "tcp-json");
        const snapshots = plan.snapshotPath;
        // What the graph says must be ready first (Elasticsearch, for Logstash and Kibana).
        const after = (w: WorkloadPlan) => ({ ...parent, transformations: w.waitsFor.includes(plan.elasticsearch.name) ? [workloadsWaitFor(this.elasticsearch.ready)] : [] });

        this.elasticsearch = new Workload(plan.elasticsearch.name, {
            ...base,
            plan: plan.elasticsearch,
            env: [
                { name: "discovery.type", value: "single-node" },
                { name: "ES_JAVA_OPTS", value: "-Xms512m -Xmx512m" },
                ...(snapshots ? [{ name: "path.repo", value: snapshots }] : []),
            ],
            ...httpProbes("/_cluster/health?local=true", esPort),
            volumeMounts: [{ name: "elasticsearch-data", mountPath: "/usr/share/elasticsearch/data" },
                ...(snapshots ? [{ name: "snapshots", mountPath: snapshots }] : [])],
            volumes: [{ name: "elasticsearch-data", persistentVolumeClaim: { claimName: args.elasticsearchClaimName } },
                ...(snapshots && args.snapshotClaimName ? [{ name: "snapshots", persistentVolumeClaim: { claimName: args.snapshotClaimName } }] : [])],
        }, parent);
        this.elasticsearchUrl = pulumi.interpolate`http://${this.elasticsearch.host}:${esPort}`;

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
        this.logstash = new Workload(plan.logstash.name, {
            ...base,
            plan: plan.logstash,
            // Readiness: the pipeline's input accepts; liveness: the monitoring API answers.
            ...probes({ tcpSocket: { port: LOGSTASH_PORT } }, { httpGet: { path: "/", port: plan.logstashMonitoringPort } }),
            volumeMounts: [
                { name: "config", mountPath: "/usr/share/logstash/config/logstash.yml", subPath: "logstash.yml" },
                { name: "pipeline", mountPath: "/usr/share/logstash/pipeline" },
            ],
            volumes: [
                { name: "config", configMap: { name: logstashConfig.metadata.name, items: [{ key: "logstash.yml", path: "logstash.yml" }] } },
                { name: "pipeline", configMap: { name: logstashConfig.metadata.name, items: [{ key: "logstash.conf", path: "logstash.conf" }] } },
            ],
        }, after(plan.logstash));

        const kibanaConfig = new k8s.core.v1.ConfigMap("kibana-configmap", {
            metadata: { namespace: args.namespace, labels: { ...labels, app: "kibana" } },
            data: {
                "kibana.yml": pulumi.interpolate`server.name: kibana
server.host: "0.0.0.0"
elasticsearch.hosts: ["${this.elasticsearchUrl}"]
`,
            },
        }, parent);
        this.kibana = new Workload(plan.kibana.name, {
            ...base,
            plan: plan.kibana,
            ...httpProbes("/api/status", kibanaPort),
            // Only kibana.yml is replaced; the image's other config files stay.
            volumeMounts: [{ name: "config", mountPath: "/usr/share/kibana/config/kibana.yml", subPath: "kibana.yml" }],
            volumes: [{ name: "config", configMap: { name: kibanaConfig.metadata.name } }],
        }, after(plan.kibana));

        const { logStore, logShipper, logUi } = plan.records;
        this.served = {
            [logStore.name]: servedWorkload(logStore, this.elasticsearch),
            [logShipper.name]: servedWorkload(logShipper, this.logstash),
            [logUi.name]: servedWorkload(logUi, this.kibana),
        };
        this.registerOutputs({ elasticsearchUrl: this.elasticsearchUrl });
    }
}
