import * as pulumi from "@pulumi/pulumi";
import type { FrontendPlan } from "../config/plan";
import { wiredEnv } from "./backend-service";
import { Credentials } from "./credentials";
import { httpProbes, PartArgs, Workload } from "./workload";

export interface FrontendArgs extends PartArgs {
    /** The frontend's record: its workload, the wiring contract's env, the image's build annotation. */
    readonly plan: FrontendPlan;
    readonly credentials: Credentials;
    readonly backendConfigMap: pulumi.Input<string>;
    readonly commonConfigMap: pulumi.Input<string>;
}

/**
 * A Next.js frontend (admin or portal): Deployment, Service, autoscaler and Ingress. It runs the image built for the
 * stack (frontends.lock.json, config/frontends.ts) and says on its pods what that image was built for.
 */
export class Frontend extends pulumi.ComponentResource {
    public readonly workload: Workload;

    constructor(name: string, args: FrontendArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Frontend", name, {}, opts);
        const { plan } = args;
        if (plan.warning) void pulumi.log.warn(plan.warning, this);
        this.workload = new Workload(plan.workload.name, {
            namespace: args.namespace,
            commonLabels: args.commonLabels,
            plan: plan.workload,
            podEnv: args.podEnv,
            podAnnotations: { ...plan.podAnnotations, ...args.credentials.hashAnnotation(plan.credentials) },
            env: wiredEnv(plan.env, args),
            // Readiness: the patched build's health route, which calls nothing (a page would call the gateway); liveness
            // the TCP accept, so a slow gateway takes the pod out of the endpoints without restarting it.
            ...httpProbes(plan.readinessPath, plan.spec.port),
        }, { parent: this });
        this.registerOutputs({ host: this.workload.host });
    }
}
