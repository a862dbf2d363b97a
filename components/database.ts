import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformPlan } from "../config/plan";
import { Credentials, secretEnv } from "./credentials";
import { PartArgs, probes, Workload } from "./workload";
import { ServedServer, ServerComponent, servedWorkload } from "./server";

export interface DatabaseArgs extends PartArgs {
    /** MySQL's workload record, the database it creates and the init scripts. */
    readonly plan: PlatformPlan["database"];
    readonly credentials: Credentials;
    readonly claimName: pulumi.Input<string>;
}

// Picks server-id and the primary/replica cnf from the pod ordinal, as the reference does.
const initScript = `set -ex
[[ $HOSTNAME =~ -([0-9]+)$ ]] || exit 1
ordinal=\${BASH_REMATCH[1]}
echo [mysqld] > /mnt/conf.d/server-id.cnf
echo server-id=$((100 + ordinal)) >> /mnt/conf.d/server-id.cnf
if [[ $ordinal -eq 0 ]]; then
  cp /mnt/mysql-configmap/primary.cnf /mnt/conf.d/
else
  cp /mnt/mysql-configmap/replica.cnf /mnt/conf.d/
fi
`;

/** MySQL as a StatefulSet on the platform's data claim, with generated root and application passwords. */
export class Database extends pulumi.ComponentResource implements ServerComponent {
    public readonly served: Readonly<Record<string, ServedServer>>;
    public readonly workload: Workload;
    public readonly configMap: k8s.core.v1.ConfigMap;
    public readonly initScripts: k8s.core.v1.ConfigMap;
    public readonly host: pulumi.Output<string>;
    public readonly port: number;

    constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Database", name, {}, opts);
        const parent = { parent: this };
        const plan = args.plan;
        this.port = plan.workload.ports[0].port;
        const labels = { ...args.commonLabels, tier: "database" };
        const mysqlSecret = args.credentials.mysql;

        this.configMap = new k8s.core.v1.ConfigMap("mysql-configmap", {
            metadata: { namespace: args.namespace, labels: { ...labels, app: "mysql" } },
            data: {
                "mysql-database": plan.databaseName,
                "mysql-root-host": "%",
                "primary.cnf": plan.server.primaryCnf,
                "replica.cnf": plan.server.replicaCnf,
            },
        }, parent);
        // Ours first (00-), then the user's scripts in name order.
        this.initScripts = new k8s.core.v1.ConfigMap("mysql-initdb", {
            metadata: { namespace: args.namespace, labels: { ...labels, app: "mysql" } },
            data: { ...plan.initScripts },
        }, parent);

        const cm = this.configMap.metadata.name;
        const cmEnv = (name: string, key: string) => ({ name, valueFrom: { configMapKeyRef: { name: cm, key } } });
        // The probe authenticates with the generated root password; the reference's password-less probe cannot.
        const sqlProbe = ["bash", "-c", 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql -uroot -h 127.0.0.1 -e "SELECT 1"'];

        this.workload = new Workload(plan.workload.name, {
            namespace: args.namespace,
            commonLabels: args.commonLabels,
            plan: plan.workload,
            podEnv: args.podEnv,
            env: [
                cmEnv("MYSQL_DATABASE", "mysql-database"),
                cmEnv("MYSQL_ROOT_HOST", "mysql-root-host"),
                secretEnv("MYSQL_ROOT_PASSWORD", mysqlSecret, "root-password"),
                secretEnv("MYSQL_USER", mysqlSecret, "username"),
                secretEnv("MYSQL_PASSWORD", mysqlSecret, "password"),
            ],
            // Readiness: an authenticated query; liveness: the server process answers on its socket.
            ...probes({ exec: { command: sqlProbe } }, { exec: { command: ["mysqladmin", "ping"] } }, undefined, 60),
            initContainers: [{
                name: "init-mysql",
                image: plan.workload.image,
                command: ["bash", "-c", initScript],
                volumeMounts: [
                    { name: "mysql-conf", mountPath: "/mnt/conf.d" },
                    { name: "mysql-configmap", mountPath: "/mnt/mysql-configmap" },
                ],
            }],
            volumeMounts: [
                // A directory per server series: 8.4 cannot start on 5.7 data (config/mysql.ts).
                { name: "mysql-data", mountPath: "/var/lib/mysql", subPath: plan.server.dataDirectory },
                { name: "mysql-conf", mountPath: "/etc/mysql/conf.d" },
                { name: "mysql-initdb", mountPath: "/docker-entrypoint-initdb.d", readOnly: true },
            ],
            volumes: [
                { name: "mysql-conf", emptyDir: {} },
                { name: "mysql-configmap", configMap: { name: cm } },
                { name: "mysql-initdb", configMap: { name: this.initScripts.metadata.name } },
                { name: "mysql-data", persistentVolumeClaim: { claimName: args.claimName } },
            ],
        }, parent);
        this.host = this.workload.host;
        this.served = { [plan.record.name]: servedWorkload(plan.record, this.workload, mysqlSecret) };
        this.registerOutputs({ host: this.host });
    }
}
