import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { renderFiles, SECRET_SUFFIX, writeTree } from "../scripts/lib/render";
import { deploy, Deployed, deployFresh, GENERATED, Obj, stackConfig } from "./support/harness";

function listTree(dir: string): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else out.push(path.relative(dir, p));
        }
    };
    walk(dir);
    return out.sort();
}

describe("npm run render", function () {
    let d: Deployed;
    let out: string;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "egov-render-test-"));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    before(async () => {
        d = await deploy(stackConfig("prod"), "prod");
        out = path.join(tmp, "prod");
        writeTree(out, renderFiles(d, "prod"), "prod");
    });

    it("writes one file per object: <namespace>/<Kind>/<name>.yaml, cluster-scoped objects under _cluster/", () => {
        const files = listTree(out).filter((f) => f.endsWith(".yaml") || f.endsWith(SECRET_SUFFIX));
        assert.strictEqual(files.length, d.k8s.length);
        assert.ok(files.includes("_cluster/Namespace/egov.yaml"));
        assert.ok(files.includes("egov/Deployment/config-deployment.yaml"));
        assert.ok(files.some((f) => /^_cluster\/StorageClass\/egov-cinder-[0-9a-f]{6}\.yaml$/.test(f)));
        for (const f of files) {
            const docs = parseAllDocuments(fs.readFileSync(path.join(out, f), "utf8"));
            assert.strictEqual(docs.length, 1, f);
            const obj = docs[0].toJS() as Record<string, { name?: string; namespace?: string } | string>;
            const meta = obj.metadata as { name: string; namespace?: string };
            const suffix = obj.kind === "Secret" ? SECRET_SUFFIX : ".yaml";
            assert.strictEqual(f, path.join(meta.namespace ?? "_cluster", obj.kind as string, `${meta.name}${suffix}`));
            assert.ok(obj.apiVersion, `${f}: no apiVersion`);
        }
    });

    it("names every ConfigMap and Secret a Job's pod uses alike wherever it renders (a Job's template is immutable)", async () => {
        // Auto-named objects get a random suffix when deployed and a fixed one here: a Job mounting one could not be
        // applied from this output onto the deployed Job. A rotated stack has the rotation Jobs too.
        const rotated = await deploy(stackConfig("dev", { rotation: { mysql: 1, rabbitmq: 1 } }));
        const jobs = rotated.of("Job");
        assert.ok(jobs.length >= 3, jobs.map((j) => j.metadata.name).join(" "));
        for (const job of jobs) {
            const pod = job.spec.template.spec;
            const names = [
                ...((pod.volumes ?? []) as Obj[]).flatMap((v) => [v.configMap?.name, v.secret?.secretName]),
                ...[...pod.containers, ...(pod.initContainers ?? [])].flatMap((c: Obj) => ((c.env ?? []) as Obj[]).flatMap((e) =>
                    [e.valueFrom?.secretKeyRef?.name, e.valueFrom?.configMapKeyRef?.name])),
            ].filter((n): n is string => typeof n === "string");
            assert.ok(names.length > 0, job.metadata.name);
            for (const n of names) assert.ok(!n.endsWith("-a1b2c3d4"), `Job ${job.metadata.name} uses the auto-named ${n}`);
        }
    });

    it("never writes a generated secret; Secrets keep their keys with a marker saying where the value lives", () => {
        const generated = d.all.filter((r) => r.type.startsWith("random:")).map((r) => d.mocks.outputsOf(r).result as string);
        assert.ok(generated.length >= 4 && generated.every((g) => g.startsWith(GENERATED)));
        for (const f of listTree(out)) {
            const text = fs.readFileSync(path.join(out, f), "utf8");
            assert.ok(!text.includes(GENERATED), `${f} contains a generated secret`);
            for (const g of generated) assert.ok(!text.includes(g), `${f} contains ${g}`);
            // The usernames are secret inputs too (they arrive as pulumi.secret): nothing of them either.
            // (A served config file names credentials only as placeholders of the pod's env: `password: ${DB_PASSWORD}`.)
            assert.ok(!/^\s+(username|password|root-password|token-secret): (?!"<redacted|\$\{)/m.test(text), `${f} has a clear secret field`);
        }
        const secret = parseAllDocuments(fs.readFileSync(path.join(out, `egov/Secret/mysql-secret${SECRET_SUFFIX}`), "utf8"))[0].toJS();
        assert.deepStrictEqual(Object.keys(secret.stringData).sort(), ["password", "root-password", "username"]);
        // Passwords are generated; the user name comes from stack config, and its marker says so (not "generated").
        for (const k of ["password", "root-password"]) {
            assert.match(String(secret.stringData[k]), /^<redacted: generated by Pulumi.*pulumi stack output credentials --show-secrets --stack prod>$/);
        }
        assert.match(String(secret.stringData.username), /^<redacted: secret in the stack state; pulumi stack export --show-secrets --stack prod>$/);
        assert.strictEqual(secret.data, undefined);
    });

    it("writes no Secret that kubectl apply -R -f would read (it would create them with the markers as passwords)", () => {
        const secrets = d.k8s.filter((r) => r.obj.kind === "Secret");
        assert.ok(secrets.length >= 4);
        const applied = listTree(out).filter((f) => /\.(ya?ml|json)$/.test(f));
        for (const f of applied) {
            assert.ok(!/^kind: Secret$/m.test(fs.readFileSync(path.join(out, f), "utf8")), `${f} is a Secret kubectl would apply`);
        }
        assert.strictEqual(listTree(out).filter((f) => f.endsWith(SECRET_SUFFIX)).length, secrets.length);
    });

    it("is deterministic: a second run gives byte-identical files", async () => {
        const again = path.join(tmp, "again");
        writeTree(again, renderFiles(await deployFresh(stackConfig("prod"), "prod"), "prod"), "prod");
        const files = listTree(out);
        assert.deepStrictEqual(listTree(again), files);
        for (const f of files) assert.strictEqual(fs.readFileSync(path.join(again, f), "utf8"), fs.readFileSync(path.join(out, f), "utf8"), f);
    });

    it("replaces its own earlier output but refuses a directory it did not write", () => {
        writeTree(out, new Map([["x/Kind/a.yaml", "a: 1\n"]]), "prod");
        assert.deepStrictEqual(listTree(out).filter((f) => f.endsWith(".yaml")), ["x/Kind/a.yaml"]);
        const foreign = path.join(tmp, "foreign");
        fs.mkdirSync(foreign);
        fs.writeFileSync(path.join(foreign, "keep.txt"), "mine");
        assert.throws(() => writeTree(foreign, new Map(), "prod"), /not empty and was not written by npm run render/);
        assert.strictEqual(fs.readFileSync(path.join(foreign, "keep.txt"), "utf8"), "mine");
    });
});
