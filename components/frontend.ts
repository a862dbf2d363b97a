import * as pulumi from "@pulumi/pulumi";
import { FrontendSpec } from "../config/catalog";
import { ingressFor, PartArgs, restrictedContainer, Workload } from "./workload";

export interface FrontendArgs extends PartArgs {
    readonly spec: FrontendSpec;
}

/** A Next.js frontend (admin or portal): Deployment, Service, autoscaler and Ingress. */
export class Frontend extends pulumi.ComponentResource {
    public readonly workload: Workload;

    constructor(name: string, args: FrontendArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Frontend", name, {}, opts);
        const { spec, config: cfg } = args;
        const workloadName = `frontend-${spec.name}`;
        const httpGet = { path: "/", port: spec.port };
        this.workload = new Workload(workloadName, {
            namespace: args.namespace,
            name: workloadName,
            tier: "frontend",
            commonLabels: args.commonLabels,
            image: `${cfg.image.registry}/egovframe-msa-edu-frontend-${spec.name}:${cfg.image.tag}`,
            imagePullPolicy: cfg.image.pullPolicy,
            ports: [{ name: "http", port: spec.port, nodePort: spec.nodePort }],
            serviceType: cfg.serviceType,
            env: [args.timezoneEnv],
            replicas: cfg.replicas[workloadName],
            autoscaling: cfg.autoscaling.enabled ? cfg.autoscaling : undefined,
            resources: cfg.resources.frontend,
            startupProbe: { httpGet, initialDelaySeconds: 10, periodSeconds: 5, successThreshold: 1, failureThreshold: 36 },
            readinessProbe: { httpGet, initialDelaySeconds: 10, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
            securityContext: restrictedContainer,
            ingress: ingressFor(cfg, spec.ingressHost, spec.port),
        }, { parent: this });
        this.registerOutputs({ host: this.workload.host });
    }
}
