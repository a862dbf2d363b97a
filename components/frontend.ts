import * as pulumi from "@pulumi/pulumi";
import { FrontendSpec } from "../config/catalog";
import { applicationWorkload, httpProbes, ingressFor, PartArgs, Workload } from "./workload";

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
        this.workload = new Workload(workloadName, {
            ...applicationWorkload(args, workloadName, "frontend", `egovframe-msa-edu-frontend-${spec.name}`, spec.port, spec.nodePort),
            env: [args.timezoneEnv],
            // Readiness renders the home page; liveness is the TCP accept (Next.js has no health endpoint).
            ...httpProbes("/", spec.port),
            ingress: ingressFor(cfg, spec.ingressHost, spec.port),
        }, { parent: this });
        this.registerOutputs({ host: this.workload.host });
    }
}
