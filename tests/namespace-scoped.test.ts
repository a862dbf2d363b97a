// clusterScoped: false: the stack creates objects in its namespace only, and `npm run render` writes for the cluster
// admin everything else plus the Role derived from what the stack creates. And every account's rights, by namespace.
import * as assert from "assert";
import { loadConfig } from "../config";
import { adminFiles, deployerRules, parseSubject, PolicyRule, renderStack, resourceOf } from "../scripts/lib/admin";
import { parse } from "yaml";
import { deploy, Deployed, Obj, sourceOf, stackConfig } from "./support/harness";

const NS = "egov-dev";
const scopedRaw = () => stackConfig("dev", { clusterScoped: "false" });

/** Whether the rules allow `verb` on `resource` of `group`. */
const allows = (rules: readonly PolicyRule[], group: string, resource: string, verb: string) =>
    rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb) && !r.resourceNames);

/** Every ServiceAccount the stack renders, with what its bindings grant, as `namespace: group/resource verbs` lines. */
function accountRights(objs: readonly Obj[]): Map<string, string[]> {
    const rights = new Map<string, string[]>();
    const roleOf = (b: Obj) => objs.find((o) => o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name &&
        (b.roleRef.kind === "ClusterRole" || o.metadata.namespace === b.metadata.namespace));
    for (const sa of objs.filter((o) => o.kind === "ServiceAccount")) {
        const id = `${sa.metadata.namespace}/${sa.metadata.name}`;
        const lines: string[] = [];
        for (const b of objs.filter((o) => o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding")) {
            if (!b.subjects.some((s: Obj) => s.kind === "ServiceAccount" && s.name === sa.metadata.name && s.namespace === sa.metadata.namespace)) continue;
            const where = b.kind === "ClusterRoleBinding" ? "cluster-wide" : b.metadata.namespace;
            for (const r of roleOf(b)!.rules as PolicyRule[]) lines.push(`${where}: ${r.apiGroups.join(",")}/${r.resources.join(",")} ${r.verbs.join(",")}`);
        }
        rights.set(id, lines);
    }
    return rights;
}

describe("a namespace-scoped stack (clusterScoped: false)", function () {
    this.timeout(120000);
    let scoped: Deployed;
    let full: Deployed;
    let admin: Map<string, string>;
    before(async () => {
        scoped = await deploy(scopedRaw());
        full = await deploy(stackConfig("dev"));
        admin = adminFiles(full, scoped, NS, parseSubject("serviceaccount:egov-platform-deployer", NS), "dev");
    });

    it("never creates its namespace, even with createNamespace true (Pulumi passes that default for an unset key)", async () => {
        assert.strictEqual(loadConfig(sourceOf(scopedRaw()), "dev").createNamespace, false);
        assert.strictEqual(loadConfig(sourceOf({ ...scopedRaw(), createNamespace: "true" }), "dev").createNamespace, false);
        assert.strictEqual(loadConfig(sourceOf(stackConfig("dev")), "dev").createNamespace, true);
        assert.deepStrictEqual((await deploy({ ...scopedRaw(), createNamespace: "true" })).of("Namespace"), []);
    });

    it("creates nothing cluster-scoped and nothing outside its namespace", () => {
        assert.ok(scoped.k8s.length > 80, `${scoped.k8s.length} objects`);
        for (const r of scoped.k8s) assert.strictEqual(r.obj.metadata?.namespace, NS, `${r.type} ${r.obj.metadata?.name}`);
        for (const kind of ["Namespace", "StorageClass", "PersistentVolume", "ClusterRole", "ClusterRoleBinding"]) assert.deepStrictEqual(scoped.of(kind), []);
        assert.ok(full.of("Namespace").length === 3 && full.of("StorageClass").length === 1 && full.of("PersistentVolume").length > 1);
    });

    it("names the admin's classes and volumes exactly as the cluster-scoped stack creates them", () => {
        const classes = new Set(full.of("StorageClass").map((c) => c.metadata.name));
        const volumes = new Map(full.of("PersistentVolume").map((v) => [v.metadata.name, v]));
        const claims = scoped.of("PersistentVolumeClaim");
        assert.deepStrictEqual(claims.map((c) => c.metadata.name).sort(), full.of("PersistentVolumeClaim").filter((c) => c.metadata.namespace === NS)
            .map((c) => c.metadata.name).sort());
        for (const c of claims) {
            assert.ok(classes.has(c.spec.storageClassName), `${c.metadata.name}: class ${c.spec.storageClassName}`);
            const pv = volumes.get(c.spec.volumeName);
            assert.ok(pv, `${c.metadata.name}: volume ${c.spec.volumeName}`);
            assert.deepStrictEqual(pv.spec.claimRef, { namespace: NS, name: c.metadata.name });
        }
    });

    it("writes under _admin/ the namespaces, classes, volumes, the NFS driver and the agents' Role, and no Secret", () => {
        const files = [...admin.keys()];
        for (const f of ["_admin/_cluster/Namespace/egov-dev.yaml", "_admin/_cluster/Namespace/egov-dev-storage.yaml", "_admin/_cluster/Namespace/egov-dev-ci.yaml",
            "_admin/_cluster/ClusterRole/egov-dev-nfs-csi-provisioner.yaml", "_admin/_cluster/ClusterRoleBinding/egov-dev-nfs-csi-provisioner.yaml",
            "_admin/_cluster/CSIDriver/egov-dev.nfs.csi.k8s.io.yaml", "_admin/egov-dev-storage/Deployment/csi-nfs-controller.yaml",
            "_admin/egov-dev-storage/DaemonSet/csi-nfs-node.yaml", "_admin/egov-dev-storage/ServiceAccount/csi-nfs-node-sa.yaml",
            "_admin/egov-dev-ci/Role/jenkins-agents.yaml", "_admin/egov-dev/Role/egov-platform-deployer.yaml",
            "_admin/egov-dev/RoleBinding/egov-platform-deployer.yaml", "_admin/egov-dev/ServiceAccount/egov-platform-deployer.yaml"]) {
            assert.ok(files.includes(f), `${f} missing from ${files.join(" ")}`);
        }
        assert.ok(files.some((f) => f.startsWith("_admin/_cluster/StorageClass/")) && files.some((f) => f.startsWith("_admin/_cluster/PersistentVolume/")));
        // Of the application's namespace the admin writes the deployer's three objects only: the rest is the stack's.
        assert.deepStrictEqual(files.filter((f) => f.startsWith(`_admin/${NS}/`)).length, 3);
        assert.ok(!files.some((f) => f.includes("/Secret/")));
        const ns = parse(admin.get("_admin/_cluster/Namespace/egov-dev.yaml")!) as Obj;
        assert.strictEqual(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted", "the admin's namespace carries the Pod Security labels");
        // The NFS driver's namespace admits its privileged pods; the admin applies the class naming the driver it installs.
        const storageNs = parse(admin.get("_admin/_cluster/Namespace/egov-dev-storage.yaml")!) as Obj;
        assert.strictEqual(storageNs.metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
        const cls = [...admin.entries()].filter(([f]) => f.startsWith("_admin/_cluster/StorageClass/")).map(([, y]) => parse(y) as Obj);
        assert.deepStrictEqual(cls.map((c) => c.provisioner), ["egov-dev.nfs.csi.k8s.io"]);
    });

    it("derives the Role from the kinds the stack creates: all of them, the provider's reads, nothing cluster-scoped, no pods", () => {
        const role = parse(admin.get("_admin/egov-dev/Role/egov-platform-deployer.yaml")!) as Obj;
        const rules = role.rules as PolicyRule[];
        for (const o of scoped.k8s.map((r) => r.obj)) {
            const { group, resource } = resourceOf(o);
            for (const verb of ["get", "list", "watch", "create", "update", "patch", "delete"]) {
                assert.ok(allows(rules, group, resource, verb), `${verb} ${group}/${resource} (${o.kind} ${o.metadata.name})`);
            }
        }
        for (const [group, resource] of [["", "events"], ["", "pods"], ["apps", "replicasets"], ["", "endpoints"], ["discovery.k8s.io", "endpointslices"]]) {
            assert.ok(allows(rules, group, resource, "watch"), `reads ${group}/${resource}`);
            assert.ok(!allows(rules, group, resource, "create"), `does not create ${group}/${resource}`);
        }
        // Every Role the stack creates grants no more than the deployer holds (the API server refuses an escalation).
        for (const r of scoped.of("Role")) {
            for (const rule of r.rules as PolicyRule[]) {
                for (const g of rule.apiGroups) for (const res of rule.resources) for (const v of rule.verbs) assert.ok(allows(rules, g, res, v), `${r.metadata.name}: ${v} ${g}/${res}`);
            }
        }
        for (const [group, resource] of [["", "namespaces"], ["storage.k8s.io", "storageclasses"], ["", "persistentvolumes"],
            ["rbac.authorization.k8s.io", "clusterroles"], ["rbac.authorization.k8s.io", "clusterrolebindings"]]) {
            assert.ok(!allows(rules, group, resource, "get"), `${group}/${resource}`);
        }
        assert.ok(!rules.some((r) => r.resources.includes("*") || r.verbs.includes("*") || r.verbs.includes("escalate") || r.verbs.includes("bind")));
        assert.ok(!allows(rules, "", "pods/exec", "create"));
    });

    it("adds a kind the stack renders to the Role by itself (derived, not a list)", () => {
        const extra = { apiVersion: "example.io/v1", kind: "Gateway", metadata: { name: "g", namespace: NS } };
        assert.ok(allows(deployerRules([extra]), "example.io", "gateways", "patch"));
        assert.ok(!allows(deployerRules([]), "example.io", "gateways", "patch"));
        assert.deepStrictEqual(resourceOf({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy" }), { group: "networking.k8s.io", resource: "networkpolicies" });
        assert.deepStrictEqual(resourceOf({ apiVersion: "networking.k8s.io/v1", kind: "Ingress" }), { group: "networking.k8s.io", resource: "ingresses" });
    });

    it("binds the subject --subject names, and refuses one it cannot read", () => {
        assert.deepStrictEqual(parseSubject("group:egov-team", NS), { kind: "Group", name: "egov-team" });
        assert.deepStrictEqual(parseSubject("serviceaccount:ci/deployer", NS), { kind: "ServiceAccount", name: "deployer", namespace: "ci" });
        for (const bad of ["team", "role:x", "group:a/b", "serviceaccount:Upper"]) assert.throws(() => parseSubject(bad, NS), /--subject/);
        const group = adminFiles(full, scoped, NS, parseSubject("group:egov-team", NS), "dev");
        assert.ok(!group.has("_admin/egov-dev/ServiceAccount/egov-platform-deployer.yaml"), "no account is written for a group");
        const binding = parse(group.get("_admin/egov-dev/RoleBinding/egov-platform-deployer.yaml")!) as Obj;
        assert.deepStrictEqual(binding.subjects, [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "egov-team" }]);
    });

    it("writes _admin/ for a namespace-scoped stack only, and refuses --subject for a cluster-scoped one", async () => {
        const cluster = await renderStack(stackConfig("dev"), "dev", []);
        assert.strictEqual(cluster.admin, 0);
        assert.ok(![...cluster.files.keys()].some((f) => f.startsWith("_admin/")));
        await assert.rejects(renderStack(stackConfig("dev"), "dev", [], "group:x"), /not namespace-scoped/);
        const ns = await renderStack(scopedRaw(), "dev", []);
        assert.strictEqual(ns.admin, admin.size);
    });
});

describe("a pre-created namespace with a cluster-scoped stack (createNamespace: false)", function () {
    this.timeout(120000);

    it("leaves the namespace alone and creates the rest: the side namespaces, classes, volumes", async () => {
        const d = await deploy(stackConfig("dev", { createNamespace: "false" }));
        assert.deepStrictEqual(d.of("Namespace").map((n) => n.metadata.name).sort(), ["egov-dev-ci", "egov-dev-storage"]);
        assert.strictEqual(d.of("StorageClass").length, 1);
        assert.ok(d.of("PersistentVolume").length > 1);
        assert.ok(d.of("Deployment").every((x) => x.metadata.namespace === NS || x.metadata.namespace === "egov-dev-storage"));
    });
});

describe("the rights of every service account", function () {
    this.timeout(120000);

    it("leaves no account in the application's namespace any right beyond it; the NFS driver's are alone in their namespace", async () => {
        const d = await deploy(stackConfig("dev"));
        const rights = accountRights(d.k8s.map((r) => r.obj));
        assert.deepStrictEqual([...rights.keys()].sort(), ["egov-dev-storage/csi-nfs-controller-sa", "egov-dev-storage/csi-nfs-node-sa", "egov-dev/jenkins"]);
        assert.deepStrictEqual(rights.get("egov-dev-storage/csi-nfs-node-sa"), [], "the node plugin talks to the kubelet only");
        const jenkins = rights.get("egov-dev/jenkins")!;
        assert.ok(jenkins.every((l) => l.startsWith("egov-dev: ") || l.startsWith("egov-dev-ci: ")), jenkins.join("\n"));
        assert.ok(jenkins.some((l) => /^egov-dev-ci: \/pods create/.test(l)), "Jenkins starts agents in their namespace");
        assert.ok(!jenkins.some((l) => /^egov-dev: .*\/(pods|secrets)\b/.test(l)), "and no pod or Secret in the application's");
        const provisioner = rights.get("egov-dev-storage/csi-nfs-controller-sa")!;
        assert.ok(provisioner.some((l) => l.startsWith("cluster-wide: /persistentvolumes ")));
        // Only the driver itself runs there (its node plugin without a token): nothing in that namespace starts pods.
        assert.deepStrictEqual(d.k8s.filter((r) => r.obj.metadata?.namespace === "egov-dev-storage" && ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"]
            .includes(r.obj.kind ?? r.type.split(":")[2])).map((r) => r.obj.metadata.name), ["csi-nfs-controller", "csi-nfs-node"]);
    });
});
