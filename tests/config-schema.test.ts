// The one declared schema of the stack config (config/schema.ts): the program validates by it at every depth, and
// Pulumi.yaml, README.md's settings table and the editors' JSON Schema are generated from it and kept current.
import * as assert from "assert";
import Ajv from "ajv";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { CONFIG_KEYS, Reader, SchemaNode, SENSITIVE_NAME, STACK_SCHEMA } from "../config";
import { JSON_SCHEMA_FILE, MODELINE, renderJsonSchema, stackFileSchema, withPulumiConfig, withSettingsTable } from "../scripts/lib/config-docs";
import { bumpGeneration } from "../scripts/lib/rotation";
import { writeScaleStack } from "../scripts/lib/scale";
import { defaultFor } from "../config/schema";
import { configProblems, ROOT, sourceOf, stackConfig } from "./support/harness";

type Obj = Record<string, unknown>;
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8");

/** Every declared leaf (not inside a list or map) with its path, and every object with its path. */
function walk(): { leaves: Array<[string, SchemaNode]>; objects: Array<[string, SchemaNode & { kind: "object" }]> } {
    const leaves: Array<[string, SchemaNode]> = [];
    const objects: Array<[string, SchemaNode & { kind: "object" }]> = [];
    const go = (p: string, n: SchemaNode) => {
        if (n.kind === "object") {
            objects.push([p, n]);
            for (const [k, f] of Object.entries(n.fields)) go(`${p}.${k}`, f);
        } else if (n.kind !== "map") leaves.push([p, n]);
    };
    for (const [k, n] of Object.entries(STACK_SCHEMA as Record<string, SchemaNode>)) go(k, n);
    return { leaves, objects };
}
const { leaves, objects } = walk();

/** The dev stack's raw config with one field set at a path (nested objects made as needed, merged into the stack's). */
function withField(keyPath: string, value: unknown, stack: "dev" | "prod" = "dev"): Record<string, string> {
    const raw = stackConfig(stack);
    const [top, ...rest] = keyPath.split(".");
    if (rest.length === 0) return { ...raw, [top]: typeof value === "string" ? value : JSON.stringify(value) };
    const root = (raw[top] ? JSON.parse(raw[top]) : {}) as Obj;
    let at = root;
    for (const k of rest.slice(0, -1)) at = (at[k] ??= {}) as Obj;
    at[rest.at(-1)!] = value;
    return { ...raw, [top]: JSON.stringify(root) };
}
const problemsAt = (raw: Record<string, string>, keyPath: string, stack = "dev") =>
    configProblems(raw, stack, Object.keys(raw)).filter((p) => p.startsWith(`egov-platform:${keyPath}:`));

describe("the stack config schema drives validation", () => {
    it("declares every key the program reads, and nothing else (CONFIG_KEYS is the schema's keys)", () => {
        assert.deepStrictEqual([...CONFIG_KEYS], Object.keys(STACK_SCHEMA));
        assert.ok(leaves.length > 80, String(leaves.length));
    });

    it("an unknown field of any declared object is refused, naming the object's fields and the closest one", () => {
        for (const [p, n] of objects) {
            const first = Object.keys(n.fields)[0];
            const typo = `${first}x`;
            const hit = problemsAt(withField(`${p}.${typo}`, "1"), `${p}.${typo}`);
            assert.strictEqual(hit.length, 1, `${p}.${typo}: ${hit.join("\n")}`);
            // A key of credentials (tls, offsiteCredentials) is read whole and says so without a value.
            const expected = n.secret === true ? `not a field of ${p} (value not shown); expected ${Object.keys(n.fields).join(", ")}`
                : `expected a known field of ${p}: ${Object.keys(n.fields).join(", ")} (closest: ${first})`;
            assert.ok(hit[0].includes(expected), hit[0]);
        }
    });

    it("every field's own default is accepted, in dev and in prod", () => {
        for (const stack of ["dev", "prod"] as const) {
            for (const [p, n] of leaves) {
                const d = "default" in n ? defaultFor(n.default, stack) : undefined;
                if (d === undefined || d === "") continue;
                // Refused, not merely incomplete: a rule across fields (offsite.cidrs with network policies) may still ask for more.
                const refused = problemsAt(withField(p, d, stack), p, stack).filter((x) => x.includes(" is not allowed; "));
                assert.deepStrictEqual(refused, [], `${stack} ${p} = ${JSON.stringify(d)}`);
            }
        }
    });

    it("a value outside each field's declared range, set or pattern is refused, naming the field", () => {
        let checked = 0;
        for (const [p, n] of leaves) {
            const bad = n.kind === "integer" ? [n.min - 1, n.max + 1] : n.kind === "number" ? [n.max + 1] : n.kind === "enum" ? ["bogus"]
                : n.kind === "boolean" ? ["maybe"] : n.kind === "string" ? [" bad value "] : n.kind === "list" ? ["not a list"] : [];
            for (const v of bad) {
                assert.ok(problemsAt(withField(p, v), p).length >= 1, `${p} = ${JSON.stringify(v)} was accepted`);
                checked++;
            }
        }
        assert.ok(checked > 90, String(checked));
    });

    it("a field the schema declares secret is never shown; an undeclared one named like a credential is not either", () => {
        const r = new Reader(sourceOf({}));
        assert.match(r.shown("kubeconfig", "apiVersion: v1\nusers: [{user: {token: T0KEN}}]\n"), /^\(value not shown/);
        assert.strictEqual(r.shown("kubeconfig", "/path/to/kubeconfig"), '"/path/to/kubeconfig"');
        for (const field of ["mail.password", "mail.smtpPass", "backup.offsite.accessKey", "configServer.git.sshKey", "mail.authPwd"]) {
            assert.match(r.shown(field, "x"), /^\(value not shown/, field);
        }
        // A declared field named like a credential must say in the schema whether it holds one (a *Name names a Secret).
        for (const [p, n] of leaves) {
            if (SENSITIVE_NAME.test(p.split(".").at(-1)!)) assert.ok(n.secret !== undefined, `${p} is named like a credential; declare whether it is secret`);
        }
        assert.strictEqual(r.shown("rotation.token", 2), "2");
    });
});

describe("files generated from the schema (npm run docs:config)", () => {
    it("Pulumi.yaml's stack keys are the generated ones", () => {
        assert.strictEqual(read("Pulumi.yaml"), withPulumiConfig(read("Pulumi.yaml")), "Pulumi.yaml is stale: run npm run docs:config");
        const declared = (parse(read("Pulumi.yaml")) as { config: Record<string, { description?: string }> }).config;
        assert.deepStrictEqual(Object.keys(declared).filter((k) => !k.includes(":")), [...CONFIG_KEYS]);
        assert.match(declared.autoscaling.description!, /maxReplicas \(prod 6, else 3\)/);
    });

    it("README.md's settings table is the generated one, a row per field", () => {
        assert.strictEqual(read("README.md"), withSettingsTable(read("README.md")), "README.md's settings table is stale: run npm run docs:config");
        for (const row of ["`storage.nfs.staticVolumes` | `true`", "`rollout.minReadySeconds` | `dev 0, else 10`", "`environment` | required"]) {
            assert.ok(read("README.md").includes(`| ${row} |`), row);
        }
    });

    it(`${JSON_SCHEMA_FILE} is the generated one, and the committed stack files name it`, () => {
        assert.strictEqual(read(JSON_SCHEMA_FILE), renderJsonSchema(), `${JSON_SCHEMA_FILE} is stale: run npm run docs:config`);
        for (const f of ["Pulumi.dev.yaml", "Pulumi.prod.yaml"]) assert.strictEqual(read(f).split("\n")[0], MODELINE, f);
    });

    it("a change to the schema shows in all three (the generators read it, not a copy)", () => {
        const n = (STACK_SCHEMA.replicas as { description: string });
        const was = n.description;
        try {
            n.description = "CHANGED-DESCRIPTION";
            assert.ok(withPulumiConfig(read("Pulumi.yaml")).includes("CHANGED-DESCRIPTION"));
            assert.ok(withSettingsTable(read("README.md")).includes("CHANGED-DESCRIPTION"));
            assert.ok(renderJsonSchema().includes("CHANGED-DESCRIPTION"));
        } finally {
            n.description = was;
        }
    });
});

describe("the JSON Schema for editors", () => {
    const ajv = new Ajv({ allErrors: true });
    const validate = ajv.compile(stackFileSchema());
    const errorsOf = (doc: unknown) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.dataPath} ${e.message} ${JSON.stringify(e.params)}`));
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "egov-schema-test-"));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("accepts every committed stack file and those the tests write (rotated prod, the scale stack)", () => {
        fs.copyFileSync(path.join(ROOT, "Pulumi.prod.yaml"), path.join(tmp, "Pulumi.prod.yaml"));
        bumpGeneration(path.join(tmp, "Pulumi.prod.yaml"), "mysql");
        fs.copyFileSync(path.join(ROOT, "Pulumi.dev.yaml"), path.join(tmp, "Pulumi.dev.yaml"));
        writeScaleStack(tmp, 3);
        for (const f of [path.join(ROOT, "Pulumi.dev.yaml"), path.join(ROOT, "Pulumi.prod.yaml"), path.join(tmp, "Pulumi.prod.yaml"), path.join(tmp, "Pulumi.scale.yaml")]) {
            assert.deepStrictEqual(errorsOf(parse(fs.readFileSync(f, "utf8"))), [], f);
        }
    });

    it("flags a typo'd key (replica), prefixed or not, and a typo'd field, as the program does", () => {
        for (const key of ["replica", "egov-platform:replica"]) {
            const errors = errorsOf({ config: { "egov-platform:environment": "dev", [key]: 3 } });
            assert.ok(errors.some((e) => e.includes(`"additionalProperty":"${key}"`)), errors.join("\n"));
        }
        const field = errorsOf({ config: { storage: { backnd: "nfs" } } });
        assert.ok(field.some((e) => e.includes('"additionalProperty":"backnd"')), field.join("\n"));
        assert.ok(configProblems({ ...stackConfig("dev"), replica: "3" }, "dev", [...Object.keys(stackConfig("dev")), "replica"])
            .some((p) => p.startsWith("egov-platform:replica: not a key of this program")));
    });

    it("flags values the program refuses: a number for a string, a value outside a set or range", () => {
        for (const config of [{ image: { tag: 4.1 } }, { serviceType: "LoadBalancer" }, { replicas: 51 }, { "egov-platform:autoscaling": { maxReplicas: 0 } },
            { namespace: "Not_A_Label" }, { backup: { offsite: { bucket: "b" } } }]) {
            assert.notDeepStrictEqual(errorsOf({ config }), [], JSON.stringify(config));
        }
    });

    it("accepts what Pulumi accepts: secure values on any key and at any depth, other namespaces, the old form, the CLI's strings", () => {
        assert.deepStrictEqual(errorsOf({
            encryptionsalt: "v1:abc",
            config: {
                "egov-platform:domain": { secure: "v1:x" }, mail: { credentialsSecretName: { secure: "v1:y" } }, kubeconfig: { secure: "v1:z" },
                "kubernetes:context": "other", "pulumi:tags": { team: "x" }, "egov-platform:config:timezone": "UTC",
                replicas: "3", createNamespace: "false", "egov-platform:image": { tag: "4.10" },
            },
        }), []);
    });
});
