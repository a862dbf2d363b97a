// The policy pack's rules (policy/rules.ts), called the way the engine calls them: validateResource with one
// object's properties, validateStack with every resource of the stack. Each rule refuses a bad object and
// accepts a good one.
import * as assert from "assert";
import {
    allPolicies,
    containerResources,
    imageTag,
    listedExceptions,
    noGeneratedSecretInPlainConfig,
    noLatestImageInProd,
    noNodeExposureInProd,
    noSecretInPlainConfig,
    noSharedReadWriteOnceVolume,
    opensearchSecured,
    parseExceptions,
    podsSelectedByNetworkPolicy,
    PolicyResource,
    publicRoutes,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    restrictedPodSecurity,
    secretLikeName,
    StackSettings,
    StackValidationArgs,
    StackValidationPolicy,
    supportedComponents,
    componentSupportUnknown,
    supportedMysql,
} from "../policy/rules";
import { opensearchYml } from "../components/logging";

/* eslint-disable @typescript-eslint/no-explicit-any -- fabricated Kubernetes objects. */
type Obj = Record<string, any>;

const T = {
    deployment: "kubernetes:apps/v1:Deployment",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    cronJob: "kubernetes:batch/v1:CronJob",
    pod: "kubernetes:core/v1:Pod",
    service: "kubernetes:core/v1:Service",
    configMap: "kubernetes:core/v1:ConfigMap",
    secret: "kubernetes:core/v1:Secret",
    pvc: "kubernetes:core/v1:PersistentVolumeClaim",
    hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    netpol: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    ingress: "kubernetes:networking.k8s.io/v1:Ingress",
    httpRoute: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    password: "random:index/randomPassword:RandomPassword",
};

const prod: StackSettings = { environment: "prod", serviceType: "ClusterIP", networkPolicy: true };
const dev: StackSettings = { environment: "dev", serviceType: "ClusterIP", networkPolicy: true };

const urnOf = (type: string, name: string) => `urn:pulumi:prod::egov-platform::${type}::${name}`;

/** Runs a resource policy on one object; returns the violations it reported. */
function check(policy: ResourceValidationPolicy, type: string, props: Obj): string[] {
    const out: string[] = [];
    const validations = policy.validateResource === undefined ? [] : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
    const name = props.metadata?.name ?? "x";
    const args = { type, props, urn: urnOf(type, name), name, opts: {}, stackTags: new Map() } as unknown as ResourceValidationArgs;
    for (const v of validations) void v(args, (message: string) => out.push(message));
    return out;
}

/** Runs a stack policy over resources; returns the violations as "message @ urn". */
function checkStack(policy: StackValidationPolicy, resources: Array<{ type: string; props: Obj }>): string[] {
    const out: string[] = [];
    const rs = resources.map((r) => {
        const name = r.props.metadata?.name ?? "x";
        return { type: r.type, props: r.props, urn: urnOf(r.type, name), name, opts: {}, dependencies: [], propertyDependencies: {} };
    }) as unknown as PolicyResource[];
    void policy.validateStack({ resources: rs } as unknown as StackValidationArgs, (message: string, urn?: string) => out.push(`${message} @ ${urn ?? ""}`));
    return out;
}

const quantities = { cpu: "100m", memory: "128Mi", "ephemeral-storage": "256Mi" };

function container(name = "app", image = "egovframe/egovframe-msa-edu-backend-board-service:4.3.0"): Obj {
    return {
        name,
        image,
        securityContext: {
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        },
        resources: { requests: { ...quantities }, limits: { ...quantities } },
    };
}

/** A Deployment that meets every rule. */
function deployment(app = "board-service", env = "prod"): Obj {
    const labels = { app, tier: "backend" };
    return {
        metadata: { name: `${app}-deployment`, namespace: "egov", labels: { env, ...labels } },
        spec: {
            replicas: 1,
            selector: { matchLabels: labels },
            template: { metadata: { labels: { env, ...labels } }, spec: { containers: [container(app)], volumes: [] } },
        },
    };
}

function networkPolicy(name: string, podSelector: Obj, policyTypes?: string[]): { type: string; props: Obj } {
    return { type: T.netpol, props: { metadata: { name, namespace: "egov" }, spec: { podSelector, policyTypes } } };
}

describe("policy pack", () => {
    describe("restricted-pod-security", () => {
        const policy = restrictedPodSecurity({});

        it("accepts a restricted pod, with the controls at pod or container level", () => {
            assert.deepStrictEqual(check(policy, T.deployment, deployment()), []);
            const d = deployment();
            const c = d.spec.template.spec.containers[0];
            d.spec.template.spec.securityContext = { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } };
            delete c.securityContext.runAsNonRoot;
            delete c.securityContext.seccompProfile;
            assert.deepStrictEqual(check(policy, T.deployment, d), []);
        });

        const breaks: Array<[string, (spec: Obj) => void, RegExp]> = [
            ["runAsNonRoot missing", (s) => delete s.containers[0].securityContext.runAsNonRoot, /runAsNonRoot is not true/],
            ["runAsUser 0", (s) => { s.containers[0].securityContext.runAsUser = 0; }, /runAsNonRoot/],
            ["no seccomp profile", (s) => delete s.containers[0].securityContext.seccompProfile, /seccompProfile is not RuntimeDefault/],
            ["seccomp Unconfined", (s) => { s.containers[0].securityContext.seccompProfile = { type: "Unconfined" }; }, /seccompProfile/],
            ["capabilities not dropped", (s) => { s.containers[0].securityContext.capabilities = { drop: ["NET_RAW"] }; }, /drop ALL/],
            ["a capability added", (s) => { s.containers[0].securityContext.capabilities.add = ["SYS_ADMIN"]; }, /drop ALL/],
            ["privilege escalation allowed", (s) => delete s.containers[0].securityContext.allowPrivilegeEscalation, /allowPrivilegeEscalation is not false/],
            ["writable root filesystem", (s) => { s.containers[0].securityContext.readOnlyRootFilesystem = false; }, /readOnlyRootFilesystem is not true/],
            ["privileged", (s) => { s.containers[0].securityContext.privileged = true; }, /privileged/],
            ["hostNetwork", (s) => { s.hostNetwork = true; }, /host's network/],
            ["hostPID", (s) => { s.hostPID = true; }, /PID/],
            ["a hostPath volume", (s) => { s.volumes = [{ name: "docker", hostPath: { path: "/var/run/docker.sock" } }]; }, /volume docker is a hostPath/],
            ["a hostPort", (s) => { s.containers[0].ports = [{ containerPort: 8080, hostPort: 8080 }]; }, /hostPort 8080/],
            ["an init container without a security context", (s) => { s.initContainers = [{ name: "init-mysql", image: "mysql:5.7" }]; }, /init container init-mysql: runAsNonRoot/],
        ];
        for (const [what, edit, message] of breaks) {
            it(`refuses ${what}, naming the workload`, () => {
                const d = deployment();
                edit(d.spec.template.spec);
                const v = check(policy, T.deployment, d);
                assert.strictEqual(v.length, 1, v.join("\n"));
                assert.match(v[0], message);
                assert.match(v[0], /^Deployment egov\/board-service-deployment \(app board-service\) is not restricted/);
            });
        }

        it("checks every pod-bearing kind: StatefulSet, CronJob, bare Pod", () => {
            const sts = deployment("mysql");
            sts.spec.template.spec.containers[0].securityContext = {};
            assert.strictEqual(check(policy, T.statefulSet, sts).length, 1);
            const cron = { metadata: { name: "backup", namespace: "egov" }, spec: { jobTemplate: { spec: { template: { metadata: { labels: { app: "backup" } }, spec: { containers: [{ name: "dump" }] } } } } } };
            assert.strictEqual(check(policy, T.cronJob, cron).length, 1);
            assert.strictEqual(check(policy, T.pod, { metadata: { name: "p", labels: {} }, spec: { containers: [{ name: "c" }] } }).length, 1);
            assert.deepStrictEqual(check(policy, T.service, { metadata: { name: "s" }, spec: {} }), []);
        });

        it("waives only the controls an exception lists for that app", () => {
            const withException = restrictedPodSecurity(parseExceptions({ mysql: { reason: "the image writes to /etc", controls: ["readOnlyRootFilesystem"] } }));
            const d = deployment("mysql");
            d.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false;
            assert.deepStrictEqual(check(withException, T.deployment, d), []);
            delete d.spec.template.spec.containers[0].securityContext.runAsNonRoot;
            assert.match(check(withException, T.deployment, d).join(), /runAsNonRoot/);
            const other = deployment("board-service");
            other.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false;
            assert.strictEqual(check(withException, T.deployment, other).length, 1);
        });

        it("refuses an exception without a reason or with an unknown control", () => {
            assert.throws(() => parseExceptions({ mysql: { controls: ["readOnlyRootFilesystem"] } }), /mysql: a reason is required/);
            assert.throws(() => parseExceptions({ mysql: { reason: "x", controls: ["everything"] } }), /unknown: everything/);
            assert.throws(() => parseExceptions({ mysql: { reason: "x", controls: [] } }), /non-empty list/);
            assert.ok(Object.values(listedExceptions).every((e) => e.reason.length > 0));
        });
    });

    describe("container-resources", () => {
        it("accepts cpu, memory and ephemeral-storage requests and limits on every container", () => {
            const d = deployment();
            d.spec.template.spec.initContainers = [container("init")];
            assert.deepStrictEqual(check(containerResources, T.deployment, d), []);
        });

        it("refuses a container without an ephemeral-storage limit", () => {
            const d = deployment();
            delete d.spec.template.spec.containers[0].resources.limits["ephemeral-storage"];
            assert.deepStrictEqual(check(containerResources, T.deployment, d),
                ["Deployment egov/board-service-deployment: container board-service has no limits.ephemeral-storage"]);
        });

        it("refuses an init container without requests and limits", () => {
            const d = deployment();
            d.spec.template.spec.initContainers = [{ ...container("init-mysql"), resources: { limits: { cpu: "1", memory: "1Gi" } } }];
            const v = check(containerResources, T.deployment, d);
            assert.strictEqual(v.length, 1);
            assert.match(v[0], /init container init-mysql has no requests.cpu, requests.memory, requests.ephemeral-storage, limits.ephemeral-storage/);
        });
    });

    describe("no-latest-image-in-prod", () => {
        it("reads tags, digests and registry ports correctly", () => {
            assert.strictEqual(imageTag("mysql:5.7"), "5.7");
            assert.strictEqual(imageTag("registry.example.go.kr:5000/egov/mysql"), undefined);
            assert.strictEqual(imageTag("registry.example.go.kr:5000/egov/mysql:latest"), "latest");
            assert.strictEqual(imageTag("mysql@sha256:0123"), "@digest");
        });

        it("refuses latest and untagged images in prod, init containers included", () => {
            const d = deployment();
            d.spec.template.spec.containers[0].image = "egovframe/egovframe-msa-edu-backend-board-service:latest";
            d.spec.template.spec.initContainers = [{ ...container("init"), image: "busybox" }];
            const v = check(noLatestImageInProd(prod), T.deployment, d);
            assert.strictEqual(v.length, 2);
            assert.match(v[0], /container init runs busybox, untagged/);
            assert.match(v[1], /container board-service runs .*:latest, tag latest, in prod/);
        });

        it("accepts a fixed tag in prod and latest in dev", () => {
            assert.deepStrictEqual(check(noLatestImageInProd(prod), T.deployment, deployment()), []);
            const d = deployment("board-service", "dev");
            d.spec.template.spec.containers[0].image = "egovframe/x:latest";
            assert.deepStrictEqual(check(noLatestImageInProd(dev), T.deployment, d), []);
        });

        it("without the stack's config, goes by the env label and treats an unlabelled object as prod", () => {
            const d = deployment("board-service", "dev");
            d.spec.template.spec.containers[0].image = "egovframe/x:latest";
            assert.deepStrictEqual(check(noLatestImageInProd(undefined), T.deployment, d), []);
            delete d.metadata.labels.env;
            delete d.spec.template.metadata.labels.env;
            assert.strictEqual(check(noLatestImageInProd(undefined), T.deployment, d).length, 1);
        });
    });

    describe("no-node-exposure-in-prod", () => {
        const service = (type: string) => ({ metadata: { name: "apigateway", namespace: "egov", labels: { env: "prod" } }, spec: { type, ports: [{ port: 8000 }] } });

        it("refuses NodePort and LoadBalancer Services in prod when serviceType is ClusterIP", () => {
            assert.deepStrictEqual(check(noNodeExposureInProd(prod), T.service, service("NodePort")),
                ["Service egov/apigateway is a NodePort Service in prod, but the stack's serviceType config is ClusterIP"]);
            assert.strictEqual(check(noNodeExposureInProd(prod), T.service, service("LoadBalancer")).length, 1);
        });

        it("accepts ClusterIP, NodePort when serviceType config chose it, and anything in dev", () => {
            assert.deepStrictEqual(check(noNodeExposureInProd(prod), T.service, service("ClusterIP")), []);
            assert.deepStrictEqual(check(noNodeExposureInProd({ ...prod, serviceType: "NodePort" }), T.service, service("NodePort")), []);
            assert.strictEqual(check(noNodeExposureInProd({ ...prod, serviceType: "NodePort" }), T.service, service("LoadBalancer")).length, 1);
            assert.deepStrictEqual(check(noNodeExposureInProd(dev), T.service, service("NodePort")), []);
        });
    });

    describe("no-secret-in-plain-config", () => {
        it("tells secret-like names from references to secrets", () => {
            for (const n of ["MYSQL_PASSWORD", "TOKEN_SECRET", "tokenSecret", "api-key", "RABBITMQ_DEFAULT_PASS", "db.password"]) assert.ok(secretLikeName(n), n);
            for (const n of ["MYSQL_HOSTNAME", "SPRING_CLOUD_CONFIG_URI", "MYSQL_PASSWORD_FILE", "KEYCLOAK", "TZ", "SECRET_NAME"]) assert.ok(!secretLikeName(n), n);
        });

        it("refuses a literal password in a container's env and accepts one from a Secret", () => {
            const d = deployment();
            d.spec.template.spec.containers[0].env = [{ name: "DB_PASSWORD", value: "hunter2-hunter2" }];
            assert.deepStrictEqual(check(noSecretInPlainConfig, T.deployment, d),
                ["Deployment egov/board-service-deployment: container board-service sets DB_PASSWORD to a literal value; use valueFrom.secretKeyRef"]);
            d.spec.template.spec.containers[0].env = [
                { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "mysql-secret", key: "password" } } },
                { name: "MYSQL_ALLOW_EMPTY_PASSWORD", value: "no" },
            ];
            assert.deepStrictEqual(check(noSecretInPlainConfig, T.deployment, d), []);
        });

        it("refuses a ConfigMap key named like a secret and accepts plain settings", () => {
            const cm = { metadata: { name: "backend-configmap", namespace: "egov" }, data: { MYSQL_HOSTNAME: "mysql.egov.svc", TOKEN_SECRET: "abc123abc123" } };
            assert.deepStrictEqual(check(noSecretInPlainConfig, T.configMap, cm), ["ConfigMap egov/backend-configmap: key TOKEN_SECRET looks like a secret; put it in a Secret"]);
            delete (cm.data as Obj).TOKEN_SECRET;
            assert.deepStrictEqual(check(noSecretInPlainConfig, T.configMap, cm), []);
        });
    });

    describe("no-generated-secret-in-plain-config", () => {
        const generated = "Zk3v9QmW2pX7rT4yL8sN";
        const stack = (configValue: string, envValue: string) => [
            { type: T.password, props: { metadata: undefined, result: generated, length: 20 } },
            { type: T.secret, props: { metadata: { name: "mysql-secret", namespace: "egov" }, data: { password: Buffer.from("S3cretFromSecretData").toString("base64"), username: Buffer.from("msaportal").toString("base64") } } },
            { type: T.configMap, props: { metadata: { name: "app-config", namespace: "egov" }, data: { JDBC_URL: configValue, DB_USER: "msaportal" } } },
            (() => { const d = deployment(); d.spec.template.spec.containers[0].env = [{ name: "OPTS", value: envValue }]; return { type: T.deployment, props: d }; })(),
        ];

        it("refuses a generated password or a Secret's value copied into a ConfigMap or a literal env value, whatever the name", () => {
            const v = checkStack(noGeneratedSecretInPlainConfig, stack(`jdbc:mysql://mysql:3306/db?password=${generated}`, "-Dpw=S3cretFromSecretData"));
            assert.strictEqual(v.length, 2, v.join("\n"));
            assert.match(v[0], /^ConfigMap egov\/app-config: key JDBC_URL holds the value of RandomPassword x; reference the Secret instead @ urn:.*ConfigMap::app-config$/);
            assert.match(v[1], /container board-service env OPTS holds the value of Secret egov\/mysql-secret key password as a literal/);
            assert.ok(v.every((m) => !m.includes(generated) && !m.includes("S3cretFromSecretData")), "a violation must not print the secret");
        });

        it("accepts plain values, and a username that is also in the Secret", () => {
            assert.deepStrictEqual(checkStack(noGeneratedSecretInPlainConfig, stack("jdbc:mysql://mysql:3306/db", "-Xmx512m")), []);
        });
    });

    describe("pods-selected-by-network-policy", () => {
        const app = { type: T.deployment, props: deployment() };
        const defaultDeny = networkPolicy("default-deny", {}, ["Ingress", "Egress"]);

        it("accepts pods selected for ingress and egress, by an empty selector or by labels", () => {
            assert.deepStrictEqual(checkStack(podsSelectedByNetworkPolicy(prod), [app, defaultDeny]), []);
            assert.deepStrictEqual(checkStack(podsSelectedByNetworkPolicy(prod), [app,
                networkPolicy("in", { matchLabels: { app: "board-service" } }, ["Ingress"]),
                networkPolicy("out", { matchExpressions: [{ key: "tier", operator: "In", values: ["backend"] }] }, ["Egress"])]), []);
        });

        it("refuses a pod no NetworkPolicy selects, naming it", () => {
            const v = checkStack(podsSelectedByNetworkPolicy(prod), [app, networkPolicy("other", { matchLabels: { app: "mysql" } }, ["Ingress", "Egress"])]);
            assert.deepStrictEqual(v, [`Deployment egov/board-service-deployment: its pods are selected by no NetworkPolicy for ingress and egress @ ${urnOf(T.deployment, "board-service-deployment")}`]);
        });

        it("refuses a pod covered for ingress only, or by a policy in another namespace", () => {
            assert.match(checkStack(podsSelectedByNetworkPolicy(prod), [app, networkPolicy("in", {})]).join(), /for egress @/);
            const elsewhere = networkPolicy("default-deny", {}, ["Ingress", "Egress"]);
            elsewhere.props.metadata.namespace = "kube-system";
            assert.strictEqual(checkStack(podsSelectedByNetworkPolicy(prod), [app, elsewhere]).length, 1);
        });

        it("checks nothing when the stack turned NetworkPolicies off", () => {
            assert.deepStrictEqual(checkStack(podsSelectedByNetworkPolicy({ ...prod, networkPolicy: false }), [app]), []);
        });
    });

    describe("no-shared-readwriteonce-volume", () => {
        const claim = (mode: string) => ({ type: T.pvc, props: { metadata: { name: "data", namespace: "egov" }, spec: { accessModes: [mode] } } });
        const mounting = (app: string, replicas = 1) => {
            const d = deployment(app);
            d.spec.replicas = replicas;
            d.spec.template.spec.volumes = [{ name: "data", persistentVolumeClaim: { claimName: "data" } }];
            return { type: T.deployment, props: d };
        };
        const hpa = (target: string, max: number) => ({ type: T.hpa, props: { metadata: { name: `${target}-hpa`, namespace: "egov" }, spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target }, minReplicas: 1, maxReplicas: max } } });

        it("accepts a ReadWriteOnce claim mounted by one single-pod workload, and a ReadWriteMany claim shared", () => {
            assert.deepStrictEqual(checkStack(noSharedReadWriteOnceVolume, [claim("ReadWriteOnce"), mounting("mysql"), hpa("mysql-deployment", 1)]), []);
            assert.deepStrictEqual(checkStack(noSharedReadWriteOnceVolume, [claim("ReadWriteMany"), mounting("a", 3), mounting("b")]), []);
        });

        it("refuses a ReadWriteOnce claim mounted by two workloads", () => {
            const v = checkStack(noSharedReadWriteOnceVolume, [claim("ReadWriteOnce"), mounting("portal-service"), mounting("board-service")]);
            assert.deepStrictEqual(v, [`PersistentVolumeClaim egov/data is ReadWriteOnce but mounted by 2 workloads: Deployment egov/portal-service-deployment, Deployment egov/board-service-deployment @ ${urnOf(T.pvc, "data")}`]);
        });

        it("refuses a ReadWriteOnce claim of a workload with 2 replicas or an autoscaler up to 6", () => {
            assert.match(checkStack(noSharedReadWriteOnceVolume, [claim("ReadWriteOnce"), mounting("board-service", 2)]).join(), /can run 2 pods/);
            assert.match(checkStack(noSharedReadWriteOnceVolume, [claim("ReadWriteOnce"), mounting("board-service"), hpa("board-service-deployment", 6)]).join(), /can run 6 pods/);
        });
    });

    describe("supported-mysql", () => {
        const statefulSet = (image: string, initImage = image): Obj => {
            const d = deployment("mysql");
            d.metadata.name = "mysql-statefulset";
            d.spec.template.spec.containers = [container("mysql", image)];
            d.spec.template.spec.initContainers = [container("init-mysql", initImage)];
            return d;
        };

        it("accepts 8.4 LTS, pinned, mirrored or with a variant suffix, and images that are not MySQL", () => {
            for (const image of ["mysql:8.4", "docker.io/library/mysql:8.4.11", `harbor.agency.go.kr/egov/docker.io/library/mysql:8.4.11@sha256:${"a".repeat(64)}`,
                "mysql:8.4.11-oraclelinux9", "container-registry.oracle.com/mysql/community-server:8.4.11", "mariadb:10.5", "rabbitmq:3.13-management"]) {
                assert.deepStrictEqual(check(supportedMysql(prod), T.statefulSet, statefulSet(image)), [], image);
            }
        });

        it("refuses 5.7, 8.0, an innovation release and a tag naming no version, init containers and Jobs included", () => {
            const v = check(supportedMysql(prod), T.statefulSet, statefulSet("docker.io/library/mysql:5.7", "mysql:8.0.40"));
            assert.strictEqual(v.length, 2, v.join("\n"));
            assert.match(v[0], /init container init-mysql runs mysql:8\.0\.40: MySQL 8\.0 is out of support; expected 8\.4 \(supported until 2029-04\); set images\.mysql/);
            assert.match(v[1], /StatefulSet egov\/mysql-statefulset: container mysql runs docker\.io\/library\/mysql:5\.7: MySQL 5\.7 is out of support/);
            assert.match(check(supportedMysql(prod), T.statefulSet, statefulSet("mysql:9.3", "mysql:8.4")).join(), /MySQL 9\.3 is not a supported series/);
            assert.match(check(supportedMysql(prod), T.statefulSet, statefulSet("mysql:lts", "mysql:8.4")).join(), /its tag names no MySQL version/);
            assert.match(check(supportedMysql(prod), T.statefulSet, statefulSet(`mysql@sha256:${"b".repeat(64)}`, "mysql:8.4")).join(), /names no MySQL version/);
            const job = { metadata: { name: "mysql-backup", namespace: "egov" }, spec: { jobTemplate: { spec: { template: statefulSet("mysql:5.7").spec.template } } } };
            assert.strictEqual(check(supportedMysql(prod), T.cronJob, job).length, 2);
        });

        it("is mandatory in prod and without the stack's settings, advisory elsewhere", () => {
            assert.strictEqual(supportedMysql(prod).enforcementLevel, "mandatory");
            assert.strictEqual(supportedMysql(undefined).enforcementLevel, "mandatory");
            assert.strictEqual(supportedMysql(dev).enforcementLevel, "advisory");
            assert.strictEqual(check(supportedMysql(dev), T.statefulSet, statefulSet("mysql:5.7")).length, 2, "advisory still reports");
        });
    });

    describe("opensearch-secured", () => {
        const server = (env: Obj[], image = "docker.io/opensearchproject/opensearch:2.19.3") => {
            const d = deployment("opensearch");
            d.metadata.name = "opensearch-statefulset";
            d.spec.template.spec.containers = [{ ...container("opensearch", image), env }];
            return d;
        };
        const fromSecret = { name: "OPENSEARCH_INITIAL_ADMIN_PASSWORD", valueFrom: { secretKeyRef: { name: "opensearch-credentials", key: "admin-password" } } };
        const noDemo = { name: "DISABLE_INSTALL_DEMO_CONFIG", value: "true" };
        const cm = (yml: string) => ({ metadata: { name: "opensearch-configmap", namespace: "egov" }, data: { "opensearch.yml": yml } });

        it("accepts the platform's server and opensearch.yml (as components/logging.ts renders them), and other images", () => {
            assert.deepStrictEqual(check(opensearchSecured, T.statefulSet, server([fromSecret, noDemo])), []);
            assert.deepStrictEqual(check(opensearchSecured, T.configMap, cm(opensearchYml(undefined))), []);
            assert.deepStrictEqual(check(opensearchSecured, T.configMap, cm(opensearchYml("/usr/share/opensearch/snapshots"))), []);
            // Dashboards and a client run of the server image (the snapshot job's curl) start no server.
            assert.deepStrictEqual(check(opensearchSecured, T.statefulSet, server([], "opensearchproject/opensearch-dashboards:2.19.3")), []);
            const client = server([]);
            client.spec.template.spec.containers[0].command = ["bash", "/scripts/opensearch-snapshot.sh"];
            assert.deepStrictEqual(check(opensearchSecured, T.cronJob, { metadata: { name: "opensearch-snapshot", namespace: "egov" },
                spec: { jobTemplate: { spec: { template: client.spec.template } } } }), []);
        });

        it("refuses a server without the initial admin password, with it in plain text, with demo certificates or without security", () => {
            assert.match(check(opensearchSecured, T.statefulSet, server([noDemo])).join(), /OPENSEARCH_INITIAL_ADMIN_PASSWORD is not set; the image requires it/);
            assert.match(check(opensearchSecured, T.statefulSet, server([{ name: "OPENSEARCH_INITIAL_ADMIN_PASSWORD", value: "Str0ng-Passw0rd" }, noDemo])).join(),
                /OPENSEARCH_INITIAL_ADMIN_PASSWORD is a plain value/);
            assert.match(check(opensearchSecured, T.statefulSet, server([fromSecret])).join(), /installs its demo certificates and users/);
            assert.match(check(opensearchSecured, T.statefulSet, server([fromSecret, noDemo, { name: "DISABLE_SECURITY_PLUGIN", value: "true" }])).join(),
                /DISABLE_SECURITY_PLUGIN=true turns the security plugin off/);
            // Mirrored and pinned by digest: still OpenSearch.
            assert.strictEqual(check(opensearchSecured, T.statefulSet, server([], `harbor.agency.go.kr/egov/docker.io/opensearchproject/opensearch:2.19.3@sha256:${"a".repeat(64)}`)).length, 2);
        });

        it("refuses an opensearch.yml with the plugin off, HTTP in clear, demo certificates or no certificates of its own", () => {
            const ours = opensearchYml(undefined);
            assert.match(check(opensearchSecured, T.configMap, cm(`${ours}plugins.security.disabled: true\n`)).join(), /turns the security plugin off/);
            assert.match(check(opensearchSecured, T.configMap, cm(ours.replace("plugins.security.ssl.http.enabled: true", "plugins.security.ssl.http.enabled: false"))).join(),
                /ssl\.http\.enabled is not true/);
            assert.match(check(opensearchSecured, T.configMap, cm(`${ours}plugins.security.allow_unsafe_democertificates: true\n`)).join(), /demo certificates/);
            const v = check(opensearchSecured, T.configMap, cm("cluster.name: x\nplugins.security.ssl.http.enabled: true\n"));
            assert.deepStrictEqual(v.map((m) => m.replace(/^.*opensearch\.yml: /, "")), [
                "plugins.security.ssl.transport: no certificates of its own (the image would install its demo ones)",
                "plugins.security.ssl.http: no certificates of its own (the image would install its demo ones)"]);
            assert.strictEqual(opensearchSecured.enforcementLevel, "mandatory");
        });
    });

    describe("supported-components and component-support-unknown (config/support.ts)", () => {
        const pod = (...images: string[]): Obj => {
            const d = deployment("rabbitmq");
            d.metadata.name = "rabbitmq-statefulset";
            d.spec.template.spec.containers = images.map((image, i) => container(`c${i}`, image));
            return d;
        };
        const day = "2026-12-07";
        const mirrored = `harbor.agency.go.kr/egov/docker.io/library/rabbitmq:3.13.7-management@sha256:${"c".repeat(64)}`;

        it("accepts series within their end of support, mirrored and pinned too; refuses, naming image and date, those past it", () => {
            for (const image of ["rabbitmq:4.3.6-management", `harbor.agency.go.kr/egov/docker.io/library/rabbitmq:4.3.6-management@sha256:${"a".repeat(64)}`,
                "mysql:8.4.11", "node:22.23.5-bookworm-slim", "openzipkin/zipkin:3.4"]) {
                assert.deepStrictEqual(check(supportedComponents(prod, day), T.statefulSet, pod(image)), [], image);
            }
            const v = check(supportedComponents(prod, day), T.statefulSet, pod("rabbitmq:3.13-management", mirrored, "jenkins/jenkins:2.426.3-lts-jdk11"));
            assert.strictEqual(v.length, 3, v.join("\n"));
            assert.match(v[0], /StatefulSet egov\/rabbitmq-statefulset runs rabbitmq:3\.13-management: RabbitMQ 3\.13 reached its end of support on 2024-09-17; set images\.rabbitmq/);
            assert.match(v[1], /runs harbor\.agency\.go\.kr\/egov\/docker\.io\/library\/rabbitmq:3\.13\.7-management@sha256:c+: RabbitMQ 3\.13/);
            assert.match(v[2], /Jenkins LTS 2\.426 reached its end of support on 2024-02-28; set images\.jenkins/);
            assert.match(check(supportedComponents(prod, day), T.statefulSet, pod("docker.io/library/mysql:5.7.44")).join(), /MySQL Community Server 5\.7 reached its end of support on 2023-10-31/);
        });

        it("ends on the day after the last day (a YYYY-MM end covers the whole month)", () => {
            assert.deepStrictEqual(check(supportedComponents(prod, "2026-04-30"), T.statefulSet, pod("mysql:8.0.40")), []);
            assert.match(check(supportedComponents(prod, "2026-05-01"), T.statefulSet, pod("mysql:8.0.40")).join(), /MySQL Community Server 8\.0 reached its end of support on 2026-04-30/);
            assert.deepStrictEqual(check(supportedComponents(prod, "2029-04-30"), T.statefulSet, pod("mysql:8.4.11")), []);
            assert.strictEqual(check(supportedComponents(prod, "2029-05-01"), T.statefulSet, pod("mysql:8.4.11")).length, 1);
        });

        it("lets a stack's waiver through until its date, then refuses again", () => {
            const waived: StackSettings = { ...prod, supportWaivers: { rabbitmq: { reason: "moving", until: "2027-01-31" } } };
            assert.deepStrictEqual(check(supportedComponents(waived, day), T.statefulSet, pod("rabbitmq:3.13-management")), []);
            assert.deepStrictEqual(check(supportedComponents(waived, "2027-01-31"), T.statefulSet, pod("rabbitmq:3.13-management")), []);
            assert.match(check(supportedComponents(waived, "2027-02-01"), T.statefulSet, pod("rabbitmq:3.13-management")).join(), /its waiver lapsed on 2027-01-31/);
            assert.strictEqual(check(supportedComponents(waived, day), T.statefulSet, pod("jenkins/jenkins:2.426.3-lts-jdk11")).length, 1, "a waiver is per image key");
        });

        it("leaves an image or series the table does not know to the advisory rule; the platform's own images to neither", () => {
            const unknown = ["quay.io/agency/sidecar:1.0", "rabbitmq:5.0.1-management", `rabbitmq@sha256:${"d".repeat(64)}`];
            for (const image of unknown) assert.deepStrictEqual(check(supportedComponents(prod, day), T.statefulSet, pod(image)), [], image);
            const v = check(componentSupportUnknown(day), T.statefulSet, pod(...unknown, "egovframe/egovframe-msa-edu-backend-user-service:4.3.0", "rabbitmq:4.3.6-management"));
            assert.strictEqual(v.length, 3, v.join("\n"));
            assert.match(v[0], /quay\.io\/agency\/sidecar:1\.0: end of support unknown \(no row of the support table/);
            assert.match(v[1], /tag 5\.0\.1-management is no RabbitMQ series the support table lists \(4\.3, 4\.1/);
            assert.match(v[2], /has no tag, so its RabbitMQ series is unknown/);
            assert.strictEqual(componentSupportUnknown().enforcementLevel, "advisory");
        });

        it("is mandatory in prod and without the stack's settings, advisory elsewhere", () => {
            assert.strictEqual(supportedComponents(prod).enforcementLevel, "mandatory");
            assert.strictEqual(supportedComponents(undefined).enforcementLevel, "mandatory");
            assert.strictEqual(supportedComponents(dev).enforcementLevel, "advisory");
            assert.strictEqual(check(supportedComponents(dev, day), T.statefulSet, pod("rabbitmq:3.13-management")).length, 1, "advisory still reports");
        });
    });

    describe("public-routes", () => {
        const ingress = (tls: boolean, host = "api.egov.go.kr") => ({ metadata: { name: "apigateway-ingress", namespace: "egov" },
            spec: { rules: [{ host, http: { paths: [] } }], tls: tls ? [{ hosts: ["api.egov.go.kr"], secretName: "egov-tls" }] : undefined } });
        const route = (sectionName?: string, hostnames: string[] = ["api.egov.go.kr"]) => ({ metadata: { name: "apigateway-route", namespace: "egov" },
            spec: { hostnames, parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "public", namespace: "gw", sectionName }],
                rules: [{ backendRefs: [{ name: "apigateway", port: 8000 }] }] } });

        it("in prod, refuses an Ingress host without TLS and an HTTPRoute bound to every listener of its Gateway", () => {
            assert.deepStrictEqual(check(publicRoutes(prod), T.ingress, ingress(false)),
                ["Ingress egov/apigateway-ingress: host(s) api.egov.go.kr without TLS in prod; set ingress.tlsSecretName or tls"]);
            const v = check(publicRoutes(prod), T.httpRoute, route());
            assert.strictEqual(v.length, 1, v.join("\n"));
            assert.match(v[0], /^HTTPRoute egov\/apigateway-route: attached to every listener of Gateway public in prod, plain HTTP included; set ingress\.gateway\.sectionName/);
        });

        it("refuses, in every environment, a route that names no host", () => {
            assert.match(check(publicRoutes(dev), T.ingress, ingress(false, "")).join(), /a rule without a host takes every host/);
            assert.match(check(publicRoutes(dev), T.httpRoute, route("https", [])).join(), /no hostnames, so it takes every host/);
        });

        it("accepts TLS Ingresses and HTTPRoutes on a named listener in prod, plain ones elsewhere, and other kinds", () => {
            assert.deepStrictEqual(check(publicRoutes(prod), T.ingress, ingress(true)), []);
            assert.deepStrictEqual(check(publicRoutes(prod), T.httpRoute, route("https")), []);
            assert.deepStrictEqual(check(publicRoutes(dev), T.ingress, ingress(false)), []);
            assert.deepStrictEqual(check(publicRoutes(dev), T.httpRoute, route()), []);
            assert.deepStrictEqual(check(publicRoutes(prod), T.service, { metadata: { name: "x" }, spec: {} }), []);
        });
    });

    it("every rule is in the pack, each under its own name", () => {
        const names = allPolicies(prod).map((p) => p.name);
        assert.deepStrictEqual(names, ["restricted-pod-security", "container-resources", "no-latest-image-in-prod",
            "pods-selected-by-network-policy", "no-shared-readwriteonce-volume", "no-node-exposure-in-prod",
            "no-secret-in-plain-config", "no-generated-secret-in-plain-config", "frontend-built-for-stack", "supported-mysql", "opensearch-secured",
            "supported-components", "component-support-unknown", "public-routes"]);
    });
});
