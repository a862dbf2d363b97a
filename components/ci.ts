import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformPlan } from "../config/plan";
import { PartArgs, PodContainer, probes, Workload } from "./workload";
import { ServedServer, ServerComponent, servedWorkload } from "./server";
import { OFFSITE_CA_MOUNT, offsiteEnv, OUTSIDE_GIT_ANNOTATION } from "./backup";

export interface CiArgs extends PartArgs {
    /** Jenkins' workload record and, when its home goes off-site, the archiver's. */
    readonly plan: NonNullable<PlatformPlan["ci"]>;
    readonly claimName: pulumi.Input<string>;
    /** The backup scripts' ConfigMap, when Jenkins' home is archived to the object store (backup.offsite). */
    readonly archiveScripts?: pulumi.Input<string>;
    /** The agents' namespace as created by the platform (else the plan's name). */
    readonly agentNamespace?: pulumi.Input<string>;
    /** Creates the agents' Role there; false when the stack is namespace-scoped (the cluster admin's, npm run render's _admin/). */
    readonly createAgentRbac: boolean;
}

const JENKINS_HOME = "/var/jenkins_home";

/**
 * The archiver beside Jenkins: once a day at backup.offsite.jenkins.time (pod time zone) it streams the home
 * directory (without workspaces and caches) to the object store as <prefix>/jenkins/<time>.tar.gz and keeps
 * the newest retention. A sleeping loop, not a CronJob: the home is on a ReadWriteOnce volume Jenkins holds.
 */
function archiver(args: CiArgs): PodContainer[] {
    const archive = args.plan.archive;
    if (!args.archiveScripts || !archive) return [];
    const offsite = archive.offsite;
    const loop = `while :; do if [ "$(date +%H:%M)" = "$ARCHIVE_AT" ]; then sh /scripts/offsite.sh archive ${JENKINS_HOME} jenkins || ` +
        `echo "error: the archive of Jenkins' home failed (above); next try tomorrow" >&2; sleep 61; fi; sleep 20; done`;
    return [{
        name: "home-archiver",
        image: archive.image,
        imagePullPolicy: archive.imagePullPolicy,
        command: ["sh", "-c", loop],
        // The archives' own retention replaces the dumps'.
        env: [...offsiteEnv(offsite).filter((e) => e.name !== "OFFSITE_RETENTION"),
            { name: "OFFSITE_RETENTION", value: String(offsite.jenkins.retention) },
            { name: "ARCHIVE_AT", value: offsite.jenkins.time }, { name: "TMPDIR", value: "/tmp" }],
        resources: { requests: { cpu: "10m", memory: "32Mi", "ephemeral-storage": "16Mi" }, limits: { cpu: "500m", memory: "256Mi", "ephemeral-storage": "64Mi" } },
        volumeMounts: [
            { name: "jenkins-home", mountPath: JENKINS_HOME, readOnly: true },
            { name: "archive-scripts", mountPath: "/scripts", readOnly: true },
            { name: "archive-tmp", mountPath: "/tmp" },
            ...(offsite.caConfigMap ? [{ name: "offsite-ca", mountPath: OFFSITE_CA_MOUNT, readOnly: true }] : []),
        ],
    }];
}

/**
 * Jenkins with its ServiceAccount: it starts agent pods in a namespace of their own (plan.ci.agentNamespace), where a
 * pipeline's arbitrary code can read no Secret and use no account of the platform's, and deploys the platform's
 * Deployments, Services and Ingresses (or HTTPRoutes) in the platform's namespace, and nowhere else.
 */
export class Ci extends pulumi.ComponentResource implements ServerComponent {
    public readonly served: Readonly<Record<string, ServedServer>>;
    public readonly workload: Workload;
    public readonly serviceAccount: k8s.core.v1.ServiceAccount;

    constructor(name: string, args: CiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Ci", name, {}, opts);
        const parent = { parent: this };
        const plan = args.plan.workload;
        const offsite = args.plan.archive?.offsite;
        const httpPort = plan.ports[0].port;
        const meta = (n: string) => ({ name: n, namespace: args.namespace, labels: { ...args.commonLabels, tier: "cicd", app: "jenkins" } });

        this.serviceAccount = new k8s.core.v1.ServiceAccount("jenkins", { metadata: meta("jenkins") }, parent);
        const agentNamespace = args.agentNamespace ?? args.plan.agentNamespace;
        const roles: Record<string, { namespace: pulumi.Input<string>; rules: k8s.types.input.rbac.v1.PolicyRule[] }> = {};
        if (args.createAgentRbac) {
            // Kubernetes plugin: agent pods and their logs, in the agents' namespace only.
            roles["jenkins-agents"] = { namespace: agentNamespace, rules: [
                { apiGroups: [""], resources: ["pods"], verbs: ["create", "delete", "get", "list", "patch", "update", "watch"] },
                { apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "get"] },
                { apiGroups: [""], resources: ["pods/log"], verbs: ["get", "list", "watch"] },
                { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] },
                { apiGroups: [""], resources: ["secrets"], verbs: ["get"] },
            ] };
        }
        // Pipelines: roll out the platform's workloads.
        roles["jenkins-deployer"] = { namespace: args.namespace, rules: [
            { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] },
            { apiGroups: [""], resources: ["services"], verbs: ["get", "list", "create", "update", "patch", "delete"] },
            // The public routes the stack renders: Ingresses, or Gateway API HTTPRoutes (ingress.kind).
            plan.ingress?.kind === "HTTPRoute"
                ? { apiGroups: ["gateway.networking.k8s.io"], resources: ["httproutes"], verbs: ["get", "list", "create", "update", "patch", "delete"] }
                : { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["get", "list", "create", "update", "patch", "delete"] },
        ] };
        for (const [roleName, { namespace, rules }] of Object.entries(roles)) {
            const role = new k8s.rbac.v1.Role(roleName, { metadata: { ...meta(roleName), namespace }, rules }, parent);
            new k8s.rbac.v1.RoleBinding(roleName, {
                metadata: { ...meta(roleName), namespace },
                subjects: [{ kind: "ServiceAccount", name: this.serviceAccount.metadata.name, namespace: args.namespace }],
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
            }, parent);
        }

        this.workload = new Workload(plan.name, {
            namespace: args.namespace,
            commonLabels: args.commonLabels,
            plan,
            serviceAccountName: this.serviceAccount.metadata.name,
            // The Kubernetes plugin starts agent pods through the API.
            automountServiceAccountToken: true,
            podEnv: args.podEnv,
            // A first start unpacks plugins into JENKINS_HOME: up to 10 minutes before liveness applies.
            ...probes({ httpGet: { path: "/login", port: httpPort } }, { tcpSocket: { port: httpPort } }, undefined, 120),
            volumeMounts: [{ name: "jenkins-home", mountPath: JENKINS_HOME }],
            sidecars: archiver(args),
            podAnnotations: archiver(args).length === 0 ? undefined : { [OUTSIDE_GIT_ANNOTATION]: JSON.stringify({
                secrets: offsite?.credentials ? [] : [offsite?.credentialsSecretName], configMaps: offsite?.caConfigMap ? [offsite.caConfigMap] : [],
            }) },
            volumes: [
                { name: "jenkins-home", persistentVolumeClaim: { claimName: args.claimName } },
                ...(archiver(args).length === 0 ? [] : [
                    { name: "archive-scripts", configMap: { name: args.archiveScripts, defaultMode: 0o555 } },
                    { name: "archive-tmp", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
                    ...(offsite?.caConfigMap ? [{ name: "offsite-ca", configMap: { name: offsite.caConfigMap } }] : []),
                ]),
            ],
        }, parent);
        this.served = { [args.plan.record.name]: servedWorkload(args.plan.record, this.workload) };
        this.registerOutputs({});
    }
}
