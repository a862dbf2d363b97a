// Off-cluster backups and the restore drill as rendered and as configured. The scripts themselves run against real
// servers in tests/mysql-backup.test.ts.
import * as assert from "assert";
import { DRILL_JOB, OUTSIDE_GIT_ANNOTATION } from "../components/backup";
import { imagesInUse, resolveImage } from "../config/images";
import { loadConfig } from "../config";
import { configProblems, deploy, Deployed, Obj, sourceOf, stackConfig, withObject, prodByTag } from "./support/harness";
import { PolicySet } from "./support/netpol-eval";

const podOf = (cj: Obj): Obj => cj.spec.jobTemplate.spec.template.spec;
const envOf = (c: Obj): Record<string, Obj> => Object.fromEntries((c.env as Obj[]).map((e) => [e.name, e]));
/** The opensearch.yml OpenSearch's pod mounts. */
const opensearchYml = (d: Deployed): string => {
    const pod = d.find("StatefulSet", "opensearch-statefulset")!.spec.template.spec;
    return d.find("ConfigMap", pod.volumes.find((v: Obj) => v.name === "config").configMap.name)!.data["opensearch.yml"];
};

describe("off-cluster backups and the restore drill", () => {
    let prod: Deployed;
    before(async () => { prod = await deploy(prodByTag()); });

    it("prod: the dump runs first (init container), then the upload with the store's settings and the Secret made outside git", () => {
        const cj = prod.find("CronJob", "mysql-backup")!;
        const pod = podOf(cj);
        assert.deepStrictEqual(pod.initContainers.map((c: Obj) => c.name), ["backup"]);
        assert.deepStrictEqual(pod.containers.map((c: Obj) => c.name), ["offsite"]);
        const up = pod.containers[0];
        assert.deepStrictEqual(up.command, ["sh", "/scripts/offsite.sh", "upload"]);
        assert.strictEqual(up.image, "docker.io/rclone/rclone:1.76.0");
        const env = envOf(up);
        assert.strictEqual(env.OFFSITE_ENDPOINT.value, "https://s3.egov.example.go.kr");
        assert.strictEqual(env.OFFSITE_BUCKET.value, "egov-backups");
        assert.strictEqual(env.OFFSITE_PREFIX.value, "prod");
        assert.strictEqual(env.OFFSITE_RETENTION.value, "60");
        assert.deepStrictEqual(env.AWS_ACCESS_KEY_ID.valueFrom.secretKeyRef, { name: "egov-backup-s3", key: "access-key-id" });
        assert.deepStrictEqual(env.AWS_SECRET_ACCESS_KEY.valueFrom.secretKeyRef, { name: "egov-backup-s3", key: "secret-access-key" });
        assert.strictEqual(env.OFFSITE_CA.value, "/etc/offsite-ca/ca.crt");
        assert.deepStrictEqual(pod.volumes.find((v: Obj) => v.name === "offsite-ca").configMap, { name: "egov-backup-s3-ca" });
        assert.deepStrictEqual(JSON.parse(cj.metadata.annotations[OUTSIDE_GIT_ANNOTATION]), { secrets: ["egov-backup-s3"], configMaps: ["egov-backup-s3-ca"] });
        // The program creates no such Secret: its values never pass through Pulumi or git.
        assert.strictEqual(prod.find("Secret", "egov-backup-s3"), undefined);
        assert.strictEqual(up.securityContext.readOnlyRootFilesystem, true);
    });

    it("prod: a weekly drill restores the newest off-site copy as root into scratch databases, on scratch space of its own (never the backup claim)", () => {
        const cj = prod.find("CronJob", DRILL_JOB)!;
        assert.strictEqual(cj.spec.schedule, "30 4 * * 0");
        assert.strictEqual(cj.spec.concurrencyPolicy, "Forbid");
        const pod = podOf(cj);
        assert.deepStrictEqual(pod.initContainers[0].command, ["sh", "/scripts/offsite.sh", "fetch", "latest", "/drill"]);
        assert.deepStrictEqual(pod.containers[0].command, ["bash", "/scripts/drill.sh"]);
        const env = envOf(pod.containers[0]);
        assert.strictEqual(env.MYSQL_USER.value, "root");
        assert.deepStrictEqual(env.MYSQL_PASSWORD.valueFrom.secretKeyRef, { name: "mysql-secret", key: "root-password" });
        assert.strictEqual(env.BACKUP_DIR.value, "/drill");
        assert.ok(!pod.volumes.some((v: Obj) => v.persistentVolumeClaim), "no claim: the backup volume is ReadWriteOnce");
        assert.deepStrictEqual(pod.volumes.find((v: Obj) => v.name === "backup").emptyDir, { sizeLimit: "100Gi" });
        // Backup tooling: the network identity (and policy) of the backup job.
        assert.strictEqual(cj.spec.jobTemplate.spec.template.metadata.labels.app, "mysql-backup");
    });

    it("the backup pods may reach the object store's range and MySQL, and nothing else outside", () => {
        const policies = new PolicySet(prod.of("NetworkPolicy"));
        const cj = prod.find("CronJob", "mysql-backup")!;
        const pod = { namespace: "egov", labels: cj.spec.jobTemplate.spec.template.metadata.labels, ports: [] };
        assert.ok(policies.allows(pod, { ip: "10.0.30.17" }, 443), "the store (backup.offsite.cidrs)");
        assert.ok(!policies.allows(pod, { ip: "10.0.31.17" }, 443), "anything else outside");
    });

    it("prod: OpenSearch snapshots into a repository on the shared class, which a CronJob mirrors to the store", () => {
        const es = prod.find("StatefulSet", "opensearch-statefulset")!;
        assert.match(opensearchYml(prod), /^path\.repo: \["\/usr\/share\/opensearch\/snapshots"\]$/m);
        const claimOf = (spec: Obj, vol: string) => spec.volumes.find((v: Obj) => v.name === vol).persistentVolumeClaim.claimName;
        const repoClaim = claimOf(es.spec.template.spec, "snapshots");
        assert.match(repoClaim, /^opensearch-snapshots-pvc-/);
        const claim = prod.find("PersistentVolumeClaim", repoClaim)!;
        assert.deepStrictEqual(claim.spec.accessModes, ["ReadWriteMany"], "OpenSearch and the job share it");
        const cj = prod.find("CronJob", "opensearch-snapshot")!;
        assert.strictEqual(cj.spec.schedule, "0 3 * * *");
        const pod = podOf(cj);
        assert.deepStrictEqual(pod.initContainers.map((c: Obj) => [c.name, c.command.join(" ")]), [["snapshot", "bash /scripts/opensearch-snapshot.sh"]]);
        const take = envOf(pod.initContainers[0]);
        assert.strictEqual(take.RETENTION.value, "14");
        // As the snapshot user (generated password), over TLS checked against the CA: the node's key is not mounted.
        assert.strictEqual(take.OS_URL.value, "https://opensearch:9200");
        assert.strictEqual(take.OS_USER.value, "snapshot");
        assert.deepStrictEqual(take.OS_PASSWORD.valueFrom.secretKeyRef, { name: "opensearch-credentials", key: "snapshot-password" });
        assert.deepStrictEqual(pod.volumes.find((v: Obj) => v.name === "opensearch-ca").secret,
            { secretName: "egov-opensearch-tls", items: [{ key: "ca.crt", path: "ca.crt" }] });
        assert.deepStrictEqual(JSON.parse(cj.metadata.annotations[OUTSIDE_GIT_ANNOTATION]).secrets, ["egov-backup-s3", "egov-opensearch-tls"]);
        assert.deepStrictEqual(pod.containers.map((c: Obj) => [c.name, c.command.join(" ")]), [["mirror", "sh /scripts/offsite.sh mirror /snapshots opensearch"]]);
        assert.strictEqual(claimOf(pod, "snapshots"), repoClaim);
        assert.strictEqual(pod.securityContext.runAsUser, 1000, "OpenSearch's uid: it reads the files OpenSearch wrote");
        const policies = new PolicySet(prod.of("NetworkPolicy"));
        const job = { namespace: "egov", labels: cj.spec.jobTemplate.spec.template.metadata.labels, ports: [] };
        const esPod = { namespace: "egov", labels: es.spec.template.metadata.labels, ports: es.spec.template.spec.containers[0].ports };
        assert.ok(policies.allows(job, esPod, 9200), "the job reaches OpenSearch's API");
        assert.ok(policies.allows(job, { ip: "10.0.30.9" }, 443) && !policies.allows(job, { ip: "192.0.2.1" }, 443), "and the store only");
    });

    it("prod: Jenkins' home archived daily by a container beside Jenkins, reading the home read-only", () => {
        const j = prod.find("StatefulSet", "jenkins-statefulset")!;
        const archiver = (j.spec.template.spec.containers as Obj[]).find((c) => c.name === "home-archiver")!;
        assert.ok(archiver, "the archiver runs in Jenkins' pod: the home is a ReadWriteOnce volume");
        assert.match(archiver.command.join(" "), /sh \/scripts\/offsite\.sh archive \/var\/jenkins_home jenkins/);
        const env = envOf(archiver);
        assert.strictEqual(env.ARCHIVE_AT.value, "03:30");
        assert.strictEqual(env.OFFSITE_RETENTION.value, "7");
        assert.deepStrictEqual(archiver.volumeMounts.find((m: Obj) => m.name === "jenkins-home"), { name: "jenkins-home", mountPath: "/var/jenkins_home", readOnly: true });
        assert.strictEqual(archiver.securityContext.readOnlyRootFilesystem, true);
        const policies = new PolicySet(prod.of("NetworkPolicy"));
        const pod = { namespace: "egov", labels: j.spec.template.metadata.labels, ports: [] };
        assert.ok(policies.allows(pod, { ip: "10.0.30.9" }, 443), "Jenkins' pod reaches the store");
    });

    it("without a store, none of that: no archiver, no snapshot job, no repository", async () => {
        const d = await deploy(stackConfig("prod", { backup: { enabled: true } }));
        assert.deepStrictEqual((d.find("StatefulSet", "jenkins-statefulset")!.spec.template.spec.containers as Obj[]).map((c) => c.name), ["jenkins"]);
        assert.strictEqual(d.find("CronJob", "opensearch-snapshot"), undefined);
        assert.doesNotMatch(opensearchYml(d), /path\.repo/);
    });

    it("npm run images lists the uploader's image when there is a store, not otherwise", () => {
        const cfgOf = (raw: Record<string, string>) => loadConfig(sourceOf(raw), "prod");
        assert.ok(imagesInUse(cfgOf(prodByTag())).map((id) => resolveImage(cfgOf(prodByTag()), id)).includes("docker.io/rclone/rclone:1.76.0"));
        const noStore = stackConfig("prod", { backup: { enabled: true } });
        assert.ok(!imagesInUse(cfgOf(noStore)).some((id) => id === "rclone"));
    });

    it("without a store: the dump alone, no drill", async () => {
        const d = await deploy(stackConfig("prod", { backup: { enabled: true } }));
        assert.deepStrictEqual(podOf(d.find("CronJob", "mysql-backup")!).containers.map((c: Obj) => c.name), ["backup"]);
        assert.strictEqual(d.find("CronJob", DRILL_JOB), undefined);
    });

    describe("config", () => {
        const dev = stackConfig("dev");
        const offsite = { endpoint: "https://s3.agency.go.kr", bucket: "egov-backups", credentialsSecretName: "s3-creds" };
        const withStore = (o: Obj, extra: Obj = {}) => withObject(dev, "backup", { enabled: true, offsite: { cidrs: ["10.0.0.0/24"], ...o }, ...extra });

        it("accepts a store; the drill is off in dev unless switched on, on in prod", () => {
            assert.deepStrictEqual(configProblems(withStore(offsite)), []);
            assert.strictEqual(loadConfig(sourceOf(withStore(offsite)), "dev").backup.drill.enabled, false);
            assert.strictEqual(loadConfig(sourceOf(withStore(offsite, { drill: { enabled: true } })), "dev").backup.drill.enabled, true);
            assert.strictEqual(loadConfig(sourceOf(stackConfig("prod")), "prod").backup.drill.enabled, true);
        });

        it("refuses a store without endpoint, bucket or credentials Secret, plain http to a remote host, a bad bucket or prefix", () => {
            const p = configProblems(withStore({ prefix: "/lead" })).join("\n");
            assert.match(p, /backup\.offsite\.endpoint: not set; expected the object store's URL/);
            assert.match(p, /backup\.offsite\.bucket: not set/);
            assert.match(p, /backup\.offsite\.credentialsSecretName: not set; expected the name of a Secret \(created outside git\)/);
            assert.match(p, /backup\.offsite\.prefix: "\/lead" is not allowed/);
            assert.match(configProblems(withStore({ ...offsite, endpoint: "http://s3.agency.go.kr" })).join("\n"),
                /backup\.offsite\.endpoint: "http:\/\/s3\.agency\.go\.kr" is not allowed; expected an https:\/\/ URL/);
            assert.deepStrictEqual(configProblems(withStore({ ...offsite, endpoint: "http://minio.backup.svc.cluster.local:9000" })), []);
            assert.match(configProblems(withStore({ ...offsite, bucket: "Egov_Backups" })).join("\n"), /backup\.offsite\.bucket: "Egov_Backups" is not allowed/);
            // A secret pasted into the stack file is refused without being echoed.
            assert.match(configProblems(withStore({ ...offsite, secretKey: "x" })).join("\n"),
                /backup\.offsite\.secretKey: \(value not shown: its name says it may hold a credential\) is not allowed; expected a known field/);
        });

        it("refuses a drill without a store, and a store the network policy would block", () => {
            assert.match(configProblems(withObject(dev, "backup", { enabled: true, drill: { enabled: true } })).join("\n"),
                /backup\.drill\.enabled: true is not allowed; expected false unless backup\.offsite is set/);
            assert.match(configProblems(withObject(dev, "backup", { enabled: true, offsite })).join("\n"),
                /backup\.offsite\.cidrs: not set; expected the object store's address range/);
        });
    });
});
